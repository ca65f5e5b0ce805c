"""After the broker lost its data, consumers start again from the beginning of each
partition, whatever offsets (of the old log) were committed meanwhile."""

from __future__ import annotations

from types import SimpleNamespace

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.bus import RewindAfterLoss

TP0, TP1 = TopicPartition("providers.v1", 0), TopicPartition("providers.v1", 1)


class FakeConsumer(AIOKafkaConsumer):
    def __init__(self, assigned: set[TopicPartition]) -> None:  # no connection
        self.assigned = assigned
        self.rewound: list[set[TopicPartition]] = []

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
