"""The relay's broker check: asked only when a batch has rows (an idle relay's polls cost
the broker nothing), before any row is sent, and a loss it finds sends the kept rows first.

A real SQLite outbox; the publisher and the broker's check are recorded in memory (the
check against a real restarted broker is tests/integration/test_broker_watch.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import update

from shared.db import Database
from shared.infra_models import OutboxMessage
from shared.outbox import OutboxRelay
from tests.outbox_rows import add_row, payload_of, unpublished


class Recorder:
    """What the relay did, in order: reads finished, checks begun, records sent."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.sent: list[bytes] = []

    async def publish(
        self, topic: str, key: bytes, value: bytes, headers: dict[str, str], part: int | None
    ) -> Awaitable[None]:
        self.sent.append(value)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def relay_of(db: Database, recorder: Recorder, check: Callable[[], Awaitable[bool]]) -> OutboxRelay:
    async def broker_intact() -> bool:
        recorder.steps.append("check")
        return await check()

    relay = OutboxRelay(
        db,
        recorder.publish,
        service="provider_registry",
        poll_interval_s=0.05,
        broker_intact=broker_intact,
    )
    read = relay._unpublished

    async def recorded_read(session: Any) -> Any:
        rows = await read(session)
        recorder.steps.append(f"read {len(rows)}")
        return rows

    relay._unpublished = recorded_read  # type: ignore[method-assign]
    return relay


async def running(relay: OutboxRelay, until: Callable[[], bool]) -> None:
    task = asyncio.create_task(relay.run())
    try:
        for _ in range(400):
            if until():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the relay did not get there in 4 s")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def intact() -> bool:
    return False


async def test_quiet_polls_do_not_ask_the_broker_and_a_row_they_find_is_checked_first(
    outbox_db: Database,
) -> None:
    recorder = Recorder()
    relay = relay_of(outbox_db, recorder, intact)
    await running(relay, lambda: recorder.steps.count("read 0") >= 5)
    assert "check" not in recorder.steps
    await add_row(outbox_db, "e-1")  # no wake-up: the next poll finds it
    recorder.steps.clear()
    await running(relay, lambda: bool(recorder.sent))
    assert recorder.steps[:2] == ["read 1", "check"]
    assert recorder.sent == [payload_of("e-1")]


async def test_a_loss_the_check_finds_sends_the_replayed_row_before_the_new_one(
    outbox_db: Database,
) -> None:
    await add_row(outbox_db, "e-old", published=True)  # sent to a broker that then lost it

    async def lost() -> bool:
        # What BrokerWatch.recover does: the kept rows are queued to be sent again.
        async with outbox_db.transaction() as session:
            await session.execute(update(OutboxMessage).values(published_at=None))
        return True

    recorder = Recorder()
    relay = relay_of(outbox_db, recorder, lost)
    await add_row(outbox_db, "e-new")
    assert await relay.publish_pending() == 2
    assert recorder.sent == [payload_of("e-old"), payload_of("e-new")]
    assert await unpublished(outbox_db) == 0


async def test_a_broker_that_cannot_be_asked_stops_a_waiting_row_but_not_an_empty_batch(
    outbox_db: Database,
) -> None:
    async def unreachable() -> bool:
        raise ConnectionError("broker away")

    recorder = Recorder()
    relay = relay_of(outbox_db, recorder, unreachable)
    assert await relay.publish_pending() == 0  # nothing waited: the answer was not needed
    await add_row(outbox_db, "e-1")
    with pytest.raises(ConnectionError):
        await relay.publish_pending()
    assert recorder.sent == []
    assert await unpublished(outbox_db) == 1  # kept for the next try
