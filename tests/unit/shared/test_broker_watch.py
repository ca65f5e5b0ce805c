"""The broker-loss watch: off for a durable Kafka by configuration, and one Kafka client
for all its checks rather than one per check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError, UnknownTopicOrPartitionError

from shared import bus
from shared.bus import BrokerWatch
from shared.db import Database
from shared.infra_models import OutboxMessage, infra_registry, utcnow
from shared.settings import settings_for

TOPIC = "providers.v1"


class FakeClient:
    """Stands in for aiokafka's consumer used as a metadata client; counts instances."""

    made: list[FakeClient] = []
    topics_present: set[str] = set()
    fail_next = False
    sentinel_missing = False
    sentinel_end = 1

    def __init__(self, **_config: Any) -> None:
        self.started = self.stopped = False
        self.checks = 0  # end-offset requests: one per check while the sentinel answers
        self.topic_lists = 0
        FakeClient.made.append(self)

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def topics(self) -> set[str]:
        self.topic_lists += 1
        if FakeClient.fail_next:
            FakeClient.fail_next = False
            raise KafkaConnectionError("broker away")
        return FakeClient.topics_present

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        self.checks += 1
        if FakeClient.fail_next:  # a broker away fails the topic list that follows too
            raise KafkaConnectionError("broker away")
        if FakeClient.sentinel_missing:
            raise UnknownTopicOrPartitionError()
        return dict.fromkeys(partitions, FakeClient.sentinel_end)


@pytest.fixture
def fake_kafka(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    created: list[list[str]] = []

    async def ensure_topics(
        _bootstrap: str, topics: list[str], _replication: int = 1, **_options: object
    ) -> None:
        created.append(list(topics))
        FakeClient.topics_present |= set(topics)

    async def write_sentinel(self: BrokerWatch) -> None:
        return None

    FakeClient.made, FakeClient.topics_present, FakeClient.fail_next = [], set(), False
    FakeClient.sentinel_missing, FakeClient.sentinel_end = False, 1
    monkeypatch.setattr(bus, "AIOKafkaConsumer", FakeClient)
    monkeypatch.setattr(bus, "ensure_topics", ensure_topics)
    monkeypatch.setattr(BrokerWatch, "_write_sentinel", write_sentinel)
    return created


@pytest.fixture
async def published_db(tmp_path: Path) -> AsyncIterator[Database]:
    """An outbox that has published before: a fresh broker would look like a lost one."""
    db = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    async with db.engine.begin() as conn:
        await conn.run_sync(infra_registry.metadata.create_all)
    async with db.transaction() as session:
        session.add(
            OutboxMessage(
                event_id="e1",
                topic=TOPIC,
                event_type="provider.registered",
                key="p1",
                payload=b"{}",
                published_at=utcnow(),
            )
        )
    yield db
    await db.dispose()


async def test_every_check_reuses_one_client(
    fake_kafka: list[list[str]], published_db: Database
) -> None:
    watch = BrokerWatch(settings_for("provider_registry"), published_db, [TOPIC])
    await watch.start()
    for _ in range(5):
        assert await watch._sentinel_present()
    assert len(FakeClient.made) == 1
    assert FakeClient.made[0].checks == 6
    assert FakeClient.made[0].topic_lists == 0  # one round trip per check
    await watch.close()
    assert FakeClient.made[0].stopped


async def test_an_empty_or_missing_sentinel_is_a_loss_and_an_unreachable_broker_raises(
    fake_kafka: list[list[str]], published_db: Database
) -> None:
    watch = BrokerWatch(settings_for("provider_registry"), published_db, [TOPIC])
    await watch.start()
    client = FakeClient.made[0]
    FakeClient.sentinel_end = 0  # a broker restarted empty that made the topic on request
    assert not await watch._sentinel_present()
    FakeClient.sentinel_end, FakeClient.sentinel_missing = 1, True
    FakeClient.topics_present = {TOPIC}  # the sentinel's topic is gone
    assert not await watch._sentinel_present()
    assert client.topic_lists == 1
    # listed, yet its end offset cannot be read: raised, never taken for a loss
    FakeClient.topics_present = {TOPIC, watch.sentinel}
    with pytest.raises(UnknownTopicOrPartitionError):
        await watch._sentinel_present()
    FakeClient.sentinel_missing, FakeClient.fail_next = False, True
    with pytest.raises(KafkaConnectionError):
        await watch._sentinel_present()
    assert client.topic_lists == 3
    await watch.close()


async def test_a_failed_check_gets_a_fresh_client_next_time(
    fake_kafka: list[list[str]], published_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for("provider_registry", broker_watch_interval_s=0.01)
    watch = BrokerWatch(settings, published_db, [TOPIC])
    await watch.start()
    FakeClient.fail_next = True
    sleeps = 0

    async def sleep(_seconds: float) -> None:
        nonlocal sleeps
        sleeps += 1
        if sleeps > 4:
            raise RuntimeError("enough")

    monkeypatch.setattr(bus.asyncio, "sleep", sleep)
    with pytest.raises(RuntimeError, match="enough"):
        await watch.run()
    first, second = FakeClient.made
    assert first.stopped and first.checks == 2  # the start's check and the failed one
    assert second.checks == 3 and second.stopped  # closed when the watch stops


async def test_off_by_configuration_the_watch_only_creates_topics(
    fake_kafka: list[list[str]], published_db: Database
) -> None:
    settings = settings_for("provider_registry", broker_loss_watch=False)
    watch = BrokerWatch(settings, published_db, [TOPIC])
    assert not watch.enabled
    assert await watch.start() == 0  # a fresh broker and a published outbox: no replay
    assert watch.losses == 0
    assert fake_kafka == [[TOPIC]]  # no sentinel topic
    assert FakeClient.made == []  # no client at all


async def test_on_by_default_a_fresh_broker_after_publishing_is_a_loss(
    fake_kafka: list[list[str]], published_db: Database
) -> None:
    watch = BrokerWatch(settings_for("provider_registry"), published_db, [TOPIC])
    assert watch.enabled
    FakeClient.topics_present = set()

    async def absent(_self: BrokerWatch) -> bool:
        return False

    watch._sentinel_present = absent.__get__(watch)  # type: ignore[method-assign]
    assert await watch.start() == 1
    assert watch.losses == 1
    assert fake_kafka[0] == [TOPIC, "dps.sentinel.provider_registry"]
