"""After the broker lost its data, consumers start again from the beginning of each
partition, whatever offsets (of the old log) were committed meanwhile."""

from __future__ import annotations

from types import SimpleNamespace

from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream.kafka import KafkaBroker

from shared.bus import RewindAfterLoss, subscribe
from shared.consumer import EventConsumer
from shared.db import Database
from shared.settings import settings_for

TP0, TP1 = TopicPartition("providers.v1", 0), TopicPartition("providers.v1", 1)


class FakeConsumer(AIOKafkaConsumer):
    def __init__(  # no connection
        self,
        assigned: set[TopicPartition],
        committed: dict[TopicPartition, int] | None = None,
        ends: dict[TopicPartition, int] | None = None,
    ) -> None:
        self.assigned = assigned
        self.rewound: list[set[TopicPartition]] = []
        self.committed_offsets = committed or {}
        self.ends = ends or {}

    async def committed(self, partition: TopicPartition) -> int | None:
        return self.committed_offsets.get(partition)

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.ends.get(tp, 0) for tp in partitions}

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    async def seek_to_beginning(self, *partitions: TopicPartition) -> bool:
        self.rewound.append(set(partitions))
        return True


def listener(consumer: FakeConsumer, losses: list[int]) -> RewindAfterLoss:
    rewinder = RewindAfterLoss(lambda: losses[0])
    rewinder.subscriber = SimpleNamespace(consumer=consumer)
    return rewinder


async def test_without_a_loss_an_assignment_keeps_the_committed_offsets() -> None:
    consumer = FakeConsumer({TP0})
    await listener(consumer, [0]).on_partitions_assigned({TP0})
    assert consumer.rewound == []


async def test_the_first_assignment_after_a_loss_starts_from_the_beginning_once() -> None:
    consumer, losses = FakeConsumer({TP0, TP1}), [0]
    rewinder = listener(consumer, losses)
    losses[0] = 1  # the watch saw the broker come back empty
    await rewinder.on_partitions_assigned({TP0, TP1})
    await rewinder.on_partitions_assigned({TP0, TP1})  # an ordinary rebalance later
    assert consumer.rewound == [{TP0, TP1}]
    losses[0] = 2
    await rewinder.on_partitions_assigned({TP1})
    assert consumer.rewound == [{TP0, TP1}, {TP1}]


async def test_rewinding_at_the_loss_moves_what_is_assigned_now() -> None:
    consumer = FakeConsumer({TP1})
    await listener(consumer, [1]).rewind()
    assert consumer.rewound == [{TP1}]
    idle = FakeConsumer(set())
    await listener(idle, [1]).rewind()
    assert idle.rewound == []


async def test_offsets_committed_past_the_end_of_the_log_are_read_from_the_start() -> None:
    """A process restarted after a broker loss finds offsets of the old log committed:
    past the end of the new log they would skip its next records."""
    consumer = FakeConsumer({TP0, TP1}, committed={TP0: 16, TP1: 3}, ends={TP0: 14, TP1: 9})
    await listener(consumer, [0]).on_partitions_assigned({TP0, TP1})
    assert consumer.rewound == [{TP0}]


async def test_offsets_within_the_log_are_kept() -> None:
    consumer = FakeConsumer({TP0}, committed={TP0: 14}, ends={TP0: 14})
    await listener(consumer, [0]).on_partitions_assigned({TP0})
    assert consumer.rewound == []


async def test_the_rewinder_reaches_the_subscribers_kafka_consumer() -> None:
    """Decorating returns a call wrapper without the consumer; rewinding through it did
    nothing (the running-loss rewind was a no-op before issue 12)."""
    broker = KafkaBroker("127.0.0.1:1")
    db = Database("sqlite:///:memory:")
    consumer = EventConsumer(service="monitoring", topic="providers.v1", handlers={}, db=db)
    rewinder = RewindAfterLoss(lambda: 0)
    subscriber = subscribe(broker, consumer, settings_for("monitoring"), rewinder)
    assert rewinder.subscriber is subscriber
    assert hasattr(subscriber, "consumer")  # set once the broker starts
    await db.dispose()
