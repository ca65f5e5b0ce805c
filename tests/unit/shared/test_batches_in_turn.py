"""A subscriber decodes its next batch while the one before is applied, yet applies and
commits its batches one at a time and in order, and loses none when one fails."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from faststream.kafka.message import KafkaAckableMessage

from dps.services import definition_of
from shared import bus
from shared.bus import InTurn, batch_applier
from shared.consumer import DECODE_SLICE, DecodedBatch, EventConsumer, Poison
from shared.db import Database
from shared.runtime import ProcessRole, ServiceRuntime
from shared.settings import settings_for

TOPIC = "providers.v1"
TP0, TP1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
Log = list[tuple[str, Any]]


class FakeKafka(AIOKafkaConsumer):
    def __init__(self, log: Log) -> None:  # no connection
        self.log = log

    async def commit(self, offsets: Any = None) -> None:
        self.log.append(("commit", dict(offsets)))

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.log.append(("seek", (partition, offset)))


class Recording(EventConsumer):
    """Records its decoding and applying; a batch's apply takes a few turns of the loop,
    as a database's statements do."""

    def __init__(self, log: Log, failing: int = 0) -> None:
        super().__init__(service="test", topic=TOPIC, handlers={}, db=Database("sqlite://"))
        self.log = log
        self.failing = failing  # how many applies fail before they succeed

    def decode(self, record: ConsumerRecord[Any, Any]) -> Poison:
        self.log.append(("decode", (record.partition, record.offset)))
        return Poison(record, "undecodable", "carried for the test")

    async def apply_batch(self, batch: DecodedBatch) -> None:
        first = batch.poison[0].record.offset
        self.log.append(("apply", first))
        for _ in range(DECODE_SLICE):
            await asyncio.sleep(0)
        if self.failing:
            self.failing -= 1
            raise RuntimeError("database away")
        self.log.append(("applied", first))


def records(offsets: range, partition: int = 0) -> tuple[ConsumerRecord[Any, Any], ...]:
    return tuple(
        ConsumerRecord(TOPIC, partition, o, 0, 0, b"k", b"{}", None, 1, 2, []) for o in offsets
    )


def message(batch: tuple[ConsumerRecord[Any, Any], ...], kafka: Any) -> KafkaAckableMessage:
    return KafkaAckableMessage(raw_message=batch, body=None, consumer=kafka)


def events(log: Log, *kinds: str) -> list[tuple[str, Any]]:
    return [entry for entry in log if entry[0] in kinds]


async def test_the_next_batch_is_decoded_while_one_is_applied_and_each_commits_in_order() -> None:
    log: Log = []
    kafka, turn = FakeKafka(log), InTurn()
    on_batch = batch_applier(Recording(log), turn)
    batches = [records(range(start, start + 120)) for start in (0, 120, 240)]
    for batch in batches:
        await on_batch(None, message(batch, kafka))
    await turn.finish(timeout_s=5)

    assert events(log, "apply", "applied", "commit") == [
        ("apply", 0), ("applied", 0), ("commit", {TP0: 120}),
        ("apply", 120), ("applied", 120), ("commit", {TP0: 240}),
        ("apply", 240), ("applied", 240), ("commit", {TP0: 360}),
    ]  # fmt: skip
    # The second batch's records after its first slice were decoded during the first
    # batch's apply, not after it.
    during = log.index(("decode", (0, 120 + DECODE_SLICE)))
    assert log.index(("apply", 0)) < during < log.index(("applied", 0))


async def test_a_failed_batch_is_rewound_and_the_next_one_with_it_then_both_applied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bus, "RETRY_AFTER_S", 0.0)
    log: Log = []
    kafka, turn = FakeKafka(log), InTurn()
    on_batch = batch_applier(Recording(log, failing=1), turn)
    first = records(range(0, 10))
    second = records(range(10, 20)) + records(range(5, 9), partition=1)
    await on_batch(None, message(first, kafka))
    await on_batch(None, message(second, kafka))  # the first fails meanwhile

    # The first batch's partition goes back to its first record, the second's other
    # partition to its own; the second is not applied, nothing is committed.
    assert events(log, "seek", "commit", "applied") == [("seek", (TP0, 0)), ("seek", (TP1, 5))]
    assert turn.applying is None

    await on_batch(None, message(first, kafka))  # read again after the rewind
    await on_batch(None, message(second, kafka))
    await turn.finish(timeout_s=5)
    assert events(log, "applied", "commit")[-4:] == [
        ("applied", 0),
        ("commit", {TP0: 10}),
        ("applied", 10),
        ("commit", {TP0: 20, TP1: 9}),
    ]


async def test_stopping_lets_the_batch_being_applied_commit() -> None:
    log: Log = []
    kafka, turn = FakeKafka(log), InTurn()
    await batch_applier(Recording(log), turn)(None, message(records(range(3)), kafka))
    assert events(log, "commit") == []  # handed over, not yet applied
    await turn.finish(timeout_s=5)
    assert events(log, "applied", "commit") == [("applied", 0), ("commit", {TP0: 3})]


async def test_a_batch_that_outlasts_the_stop_is_cancelled_uncommitted() -> None:
    log: Log = []
    kafka, turn = FakeKafka(log), InTurn()
    await batch_applier(Recording(log), turn)(None, message(records(range(3)), kafka))
    await turn.finish(timeout_s=0)
    assert events(log, "applied", "commit") == []
    assert turn.applying is None


async def test_faststreams_test_broker_gets_the_batch_applied_before_the_handler_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log: Log = []
    acked: list[bool] = []

    class TestBrokerMessage(KafkaAckableMessage):
        async def ack(self) -> None:
            acked.append(True)

    monkeypatch.setattr(bus, "RETRY_AFTER_S", 0.0)
    turn = InTurn()
    await batch_applier(Recording(log), turn)(
        None, TestBrokerMessage(raw_message=records(range(2)), body=None, consumer=object())
    )
    assert events(log, "applied") == [("applied", 0)]
    assert acked == [True]
    assert turn.applying is None


async def test_a_runtime_stopping_lets_each_subscribers_batch_commit(tmp_path: Path) -> None:
    settings = settings_for("monitoring", data_dir=tmp_path, kafka_bootstrap="127.0.0.1:1")
    runtime = ServiceRuntime(
        definition_of("monitoring"), settings, frozenset({ProcessRole.CONSUMER}), use_temporal=False
    )
    assert len(runtime.turns) == len(runtime.consumers) > 1
    log: Log = []
    kafka = FakeKafka(log)
    for turn, start in zip(runtime.turns, (0, 10), strict=False):
        await batch_applier(Recording(log), turn)(
            None, message(records(range(start, start + 3)), kafka)
        )
    await runtime.stop(grace_s=5)
    assert events(log, "commit") == [("commit", {TP0: 3}), ("commit", {TP0: 13})]
