"""The consumer's guarantees, on a real database with hand-made Kafka records:
batching, inbox dedupe, batch handlers, bounded retries then dead-lettering."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiokafka import ConsumerRecord
from sqlmodel import func, select

from services.provider_registry import domain, events
from services.provider_registry.api import ProviderIn
from shared.consumer import EventConsumer, batch_handler
from shared.contracts import providers_v1
from shared.contracts.base import Event
from shared.db import Database, migrate
from shared.envelope import Envelope, new_event
from shared.infra_models import DeadLetter, InboxEntry, OutboxMessage
from shared.unit_of_work import UnitOfWork
from tests.fixtures import provider_body

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "monitoring" / "migrations"


@pytest.fixture
async def db(database_url: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(database_url("consumer"))
    migrate(database.url, MIGRATIONS)
    yield database
    await database.dispose()


def registered(offset: int, event_id: str | None = None) -> ConsumerRecord[bytes, bytes]:
    provider = domain.register_provider(str(uuid.uuid4()), ProviderIn(**provider_body()).to_draft())
    event = new_event(
        providers_v1.PROVIDER_REGISTERED,
        source="test",
        subject=provider.provider_id,
        data=events.registered_event(provider, date(2026, 1, 1), "tester"),
    )
    if event_id:
        event.id = event_id
    return record(offset, event.to_bytes())


def record(offset: int, value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="providers.v1",
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value),
        headers=[],
    )


async def count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


class _Seen(Event):
    TOPIC: ClassVar[str] = "quality.v1"
    TYPE: ClassVar[str] = "x.seen"
    SUBJECT_FIELD: ClassVar[str] = "about"

    about: str


async def test_batch_handler_gets_runs_and_duplicates_are_applied_once(db: Database) -> None:
    calls: list[int] = []

    @batch_handler
    async def on_registered(uow: UnitOfWork, events: Sequence[tuple[Envelope, Any]]) -> None:
        calls.append(len(events))
        for envelope, _payload in events:
            uow.emit(_Seen(about=envelope.subject), correlation_id=envelope.correlationid)

    consumer = EventConsumer(
        service="monitoring",
        topic="providers.v1",
        handlers={providers_v1.PROVIDER_REGISTERED: on_registered},
        db=db,
    )
    records = [registered(i) for i in range(5)]
    repeated = registered(5, event_id=str(uuid.uuid4()))
    await consumer.process([*records, repeated, repeated])
    await consumer.process(records)  # redelivered after a crash before the commit

    assert calls == [6]
    assert await count(db, InboxEntry) == 6
    async with db.session() as session:
        emitted = (await session.exec(select(OutboxMessage))).all()
    assert len(emitted) == 6
    assert {row.headers["correlation_id"] for row in emitted} == {
        Envelope.model_validate_json(r.value).correlationid for r in [*records, repeated]
    }


async def test_failing_event_is_retried_then_dead_lettered_and_others_applied(
    db: Database,
) -> None:
    attempts: dict[str, int] = {}
    poison_id = str(uuid.uuid4())

    async def on_registered(uow: UnitOfWork, envelope: Envelope, _payload: Any) -> None:
        attempts[envelope.id] = attempts.get(envelope.id, 0) + 1
        if envelope.id == poison_id:
            raise RuntimeError("this provider breaks the handler")

    consumer = EventConsumer(
        service="monitoring",
        topic="providers.v1",
        handlers={providers_v1.PROVIDER_REGISTERED: on_registered},
        db=db,
        max_attempts=3,
        retry_backoff_s=0,
    )
    batch = [registered(0), registered(1, poison_id), registered(2), record(3, b"not json")]
    await consumer.process(batch)

    assert attempts[poison_id] == 1 + 3  # once in the batch, then three times alone
    assert await count(db, InboxEntry) == 2
    async with db.session() as session:
        dead = (await session.exec(select(DeadLetter).order_by(DeadLetter.offset))).all()
    assert [(d.offset, d.reason.split(":")[0]) for d in dead] == [
        (1, "handler failed after 3 attempts"),
        (3, "not JSON"),
    ]


async def test_invalid_payload_names_the_field(db: Database) -> None:
    async def on_registered(uow: UnitOfWork, envelope: Envelope, _payload: Any) -> None:
        raise AssertionError("never called for an invalid payload")

    consumer = EventConsumer(
        service="monitoring",
        topic="providers.v1",
        handlers={providers_v1.PROVIDER_REGISTERED: on_registered},
        db=db,
    )
    bad = new_event(
        providers_v1.PROVIDER_REGISTERED,
        source="t",
        subject="s",
        data=providers_v1.ProviderDocumentExpiring.model_construct(),
    )
    bad.data = {"registered_by": "x"}
    unknown = new_event(
        "provider.teleported",
        source="t",
        subject="s",
        data=providers_v1.ProviderDocumentExpiring.model_construct(),
    )
    await consumer.process([record(0, bad.to_bytes()), record(1, unknown.to_bytes())])
    async with db.session() as session:
        reasons = [d.reason for d in (await session.exec(select(DeadLetter))).all()]
    assert reasons[0].startswith("invalid provider.registered data: provider")
    assert reasons[1] == "unknown event type 'provider.teleported' on providers.v1"
