"""Consumer lag per partition comes from the subscriber's own client."""

from __future__ import annotations

from aiokafka import TopicPartition

from shared.metrics import CONSUMER_LAG
from shared.runtime import record_lag


class FakeConsumer:
    def __init__(self, ends: dict[int, int | None], committed: dict[int, int | None]) -> None:
        self.ends = ends
        self._committed = committed

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition("lag.v1", p) for p in self.ends}

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.ends[tp.partition]

    async def committed(self, tp: TopicPartition) -> int | None:
        return self._committed[tp.partition]


async def test_lag_is_the_high_watermark_minus_the_committed_offset() -> None:
    kafka = FakeConsumer({0: 120, 1: 50, 2: None}, {0: 100, 1: None, 2: 7})
    found = await record_lag("ops-lag", kafka)
    assert found == {("lag.v1", "0"), ("lag.v1", "1")}  # partition 2 not fetched yet
    assert CONSUMER_LAG.labels("ops-lag", "lag.v1", "0")._value.get() == 20
    assert CONSUMER_LAG.labels("ops-lag", "lag.v1", "1")._value.get() == 50
