"""What a service emits while applying an event has ids derived from that event, so
applying it again on a database restored from a backup publishes the same events
(consumers' inboxes drop them) rather than new ones applied a second time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from sqlmodel import col, select

from shared.consumer import EventConsumer, batch_handler
from shared.contracts import providers_v1
from shared.contracts.base import Event
from shared.db import Database, migrate
from shared.envelope import Envelope
from shared.infra_models import OutboxMessage
from shared.unit_of_work import UnitOfWork
from tests.service.test_consumer import MIGRATIONS, registered


async def emit_twice(uow: UnitOfWork, envelope: Envelope, _payload: Any) -> None:
    for _ in range(2):  # two events of one type and subject: two ids
        uow.emit(_Seen(about=envelope.subject))


@batch_handler
async def emit_twice_in_batch(uow: UnitOfWork, events: Sequence[tuple[Envelope, Any]]) -> None:
    for envelope, payload in events:
        uow.answering(envelope)
        await emit_twice(uow, envelope, payload)


class _Seen(Event):
    TOPIC: ClassVar[str] = "quality.v1"
    TYPE: ClassVar[str] = "x.seen"
    SUBJECT_FIELD: ClassVar[str] = "about"

    about: str


async def emitted_ids(
    database_url: Callable[[str], str], name: str, handler: Any, records: list[Any]
) -> list[str]:
    """Apply records on a fresh database (as on a restored one); the outbox ids."""
    db = Database(database_url(name))
    migrate(db.url, MIGRATIONS)
    consumer = EventConsumer(
        service="monitoring",
        topic="providers.v1",
        handlers={providers_v1.PROVIDER_REGISTERED: handler},
        db=db,
    )
    try:
        await consumer.process(records)
        async with db.session() as session:
            rows = await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.seq)))
            return [row.event_id for row in rows.all()]
    finally:
        await db.dispose()


async def test_applying_an_event_again_emits_the_same_ids(
    database_url: Callable[[str], str],
) -> None:
    records = [registered(0), registered(1)]
    first = await emitted_ids(database_url, "before", emit_twice, records)
    again = await emitted_ids(database_url, "restored", emit_twice, records)
    assert len(first) == 4 and len(set(first)) == 4  # per cause and per occurrence
    assert again == first
    # A batch handler naming each cause gets the same ids as the one-by-one handler.
    batched = await emitted_ids(database_url, "batched", emit_twice_in_batch, records)
    assert batched == first
    other = await emitted_ids(database_url, "other", emit_twice, [registered(0)])
    assert not set(other) & set(first)  # another cause, other ids
