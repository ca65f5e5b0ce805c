"""An idle subscriber waits for records in one long poll instead of FastStream's poll
and sleep, a hundred times a second: records end the wait at once, nothing runs late."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import ConsumerStoppedError
from faststream.kafka import KafkaBroker

from shared import bus
from shared.consumer import EventConsumer
from shared.db import Database
from shared.settings import settings_for

TOPIC = "providers.v1"
_wait = asyncio.sleep  # the fake broker's own waits, not the ones the test records


def record(partition: int, offset: int) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(TOPIC, partition, offset, 0, 0, b"k", b"{}", None, 1, 2, [])


class Polled(AIOKafkaConsumer):
    """Answers each `getmany` from a script: (seconds it takes, what it returns)."""

    def __init__(self, script: list[tuple[float, dict[TopicPartition, list[Any]]]]) -> None:
        self.script = script
        self.polls: list[tuple[int, int | None]] = []

    async def getmany(  # type: ignore[override]
        self, *_partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[Any]]:
        self.polls.append((timeout_ms, max_records))
        if not self.script:
            raise ConsumerStoppedError()
        seconds, answer = self.script.pop(0)
        await _wait(seconds)
        return answer


async def test_the_loop_polls_long_hands_over_records_at_once_and_never_spins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_for("monitoring")
    consumer = EventConsumer(service="test", topic=TOPIC, handlers={}, db=Database("sqlite://"))
    subscriber = bus.subscribe(KafkaBroker(), consumer, settings)
    handed: list[tuple[ConsumerRecord[Any, Any], ...]] = []

    async def consume_one(batch: tuple[ConsumerRecord[Any, Any], ...]) -> None:
        handed.append(batch)

    subscriber.consume_one = consume_one
    subscriber.running = True
    waited_for: list[float] = []

    async def sleep(seconds: float) -> None:
        # Only the subscriber's own pauses: other tasks of the test loop sleep as usual.
        if sys._getframe(1).f_code.co_name != "get_msg":
            await _wait(seconds)
            return
        waited_for.append(seconds)
        await _wait(0)

    kafka = Polled(
        [
            (bus.IDLE_POLL_MS / 1000 * 0.6, {}),  # an idle poll that waited: poll again
            (
                0,
                {
                    TopicPartition(TOPIC, 1): [record(1, 7)],
                    TopicPartition(TOPIC, 0): [record(0, 3), record(0, 4)],
                },
            ),
            (0, {}),  # empty at once (no partitions yet): a short pause, not a busy loop
        ]
    )
    monkeypatch.setattr(bus.asyncio, "sleep", sleep)
    await subscriber._run_consume_loop(kafka)

    assert kafka.polls == [(bus.IDLE_POLL_MS, settings.consumer_batch_size)] * 4
    assert handed == [(record(1, 7), record(0, 3), record(0, 4))]
    assert waited_for == [bus.BATCH_POLL_MS / 1000]
