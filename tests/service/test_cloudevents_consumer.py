"""The consumer reads both CloudEvents Kafka binding modes, refuses an event without an
id (dead letter, never applied under an invented id), and a retried dead letter goes back
to the partition it came from with its headers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent
from faststream.kafka import KafkaBroker, TestKafkaBroker
from sqlmodel import col, select

from shared.consumer import EventConsumer
from shared.contracts.common import Role
from shared.db import Database, migrate
from shared.envelope import STRUCTURED_CONTENT_TYPE, Envelope
from shared.infra_models import DeadLetter, InboxEntry
from shared.runtime import ServiceRuntime
from shared.unit_of_work import UnitOfWork
from tests.harness import client_for, eventually, make_runtime

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "monitoring" / "migrations"
TOPIC = "providers.v1"
TYPE = "provider.document_expiring"
DATA = {
    "provider_id": "p-1",
    "urn": 100001,
    "name": "Oak School",
    "kind": "insurance",
    "expires_on": "2027-01-31",
    "days_until_expiry": 30,
    "expired": False,
    "documents_valid": True,
}


@pytest.fixture
async def db(database_url: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(database_url("cloudevents"))
    migrate(database.url, MIGRATIONS)
    yield database
    await database.dispose()


def _record(offset: int, message: ce_kafka.KafkaMessage) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=TOPIC,
        partition=1,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"p-1",
        value=message.value,
        checksum=None,
        serialized_key_size=3,
        serialized_value_size=len(message.value),
        headers=list(message.headers.items()),
    )


def _event(event_id: str) -> CloudEvent:
    return CloudEvent(
        {"id": event_id, "type": TYPE, "source": "urn:test", "subject": "p-1"}, dict(DATA)
    )


async def test_both_modes_applied_and_a_missing_id_is_dead_lettered_every_time(
    db: Database,
) -> None:
    applied: list[str] = []

    async def on_expiring(uow: UnitOfWork, envelope: Envelope, _payload: Any) -> None:
        applied.append(envelope.id)

    consumer = EventConsumer(service="monitoring", topic=TOPIC, handlers={TYPE: on_expiring}, db=db)
    binary = ce_kafka.to_binary_event(_event("b-1"))
    structured = ce_kafka.to_structured_event(_event("s-1"))
    no_id = ce_kafka.KafkaMessage(
        headers={k: v for k, v in binary.headers.items() if k != "ce_id"},
        key=None,
        value=binary.value,
    )
    await consumer.process([_record(0, binary), _record(1, structured), _record(2, no_id)])
    await consumer.process([_record(2, no_id)])  # the council redelivers it

    assert applied == ["b-1", "s-1"]
    async with db.session() as session:
        inbox = (await session.exec(select(InboxEntry.event_id))).all()
        dead = (await session.exec(select(DeadLetter))).all()
    assert sorted(inbox) == ["b-1", "s-1"]
    assert len(dead) == 2 and all(d.offset == 2 for d in dead)
    assert "missing required CloudEvents attribute(s): id" in dead[0].reason
    assert dead[0].headers is not None and dead[0].headers["ce_type"] == TYPE


@pytest.fixture
async def monitoring(
    database_url: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[tuple[ServiceRuntime, KafkaBroker]]:
    broker = KafkaBroker()
    runtime = make_runtime("monitoring", database_url("monitoring"), tmp_path, shared_broker=broker)
    async with TestKafkaBroker(broker):
        await runtime.start()
        yield runtime, broker
        await runtime.stop()


async def _dead_letters(runtime: ServiceRuntime) -> list[DeadLetter]:
    async with runtime.db.session() as session:
        return list((await session.exec(select(DeadLetter).order_by(col(DeadLetter.id)))).all())


async def test_a_retried_dead_letter_goes_back_to_its_partition_with_its_headers(
    monitoring: tuple[ServiceRuntime, KafkaBroker], tokens: dict[Role, str]
) -> None:
    runtime, broker = monitoring
    bad = {"specversion": "1.0", "id": "x-1", "type": TYPE, "source": "s", "subject": "p-1"}
    headers = {"content-type": STRUCTURED_CONTENT_TYPE, "correlation_id": "c-7"}
    await broker.publish(
        json.dumps({**bad, "data": {}}).encode(), TOPIC, key=b"p-1", partition=3, headers=headers
    )

    async def dead(n: int) -> bool:
        return len(await _dead_letters(runtime)) == n

    await eventually(lambda: dead(1))
    [first] = await _dead_letters(runtime)
    assert first.partition == 3
    async with client_for(runtime, tokens[Role.ADMIN]) as client:
        response = await client.post(f"/admin/dead-letters/{first.id}/retry")
    assert response.status_code == 200
    assert response.json()["headers"]["content-type"] == STRUCTURED_CONTENT_TYPE

    await eventually(lambda: dead(2))  # still bad, so dead-lettered again: on partition 3
    second = (await _dead_letters(runtime))[1]
    assert second.partition == 3
    assert second.headers is not None
    assert second.headers["content-type"] == STRUCTURED_CONTENT_TYPE
    assert second.headers["correlation_id"] == "c-7"
    assert second.headers["dlq_retry_of"] == str(first.id)
