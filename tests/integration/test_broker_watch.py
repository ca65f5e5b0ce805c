"""A service starting against a broker that lost its data puts its events back.

Each test starts its own Tansu (in memory, like `dps up`'s), so "a fresh broker" is
exactly what a restarted one looks like.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dps import processes
from shared.bus import BrokerWatch
from shared.db import Database
from shared.settings import ServiceSettings, settings_for
from tests.outbox_rows import TOPIC, add_row, payload_of, unpublished

pytestmark = pytest.mark.integration


@pytest.fixture
def fresh_broker(tmp_path: Path) -> Iterator[str]:
    port = processes.free_port()
    broker = processes.tansu(port, tmp_path)
    broker.start()
    processes.wait_for_port(broker, port, timeout=20)
    yield f"127.0.0.1:{port}"
    broker.stop()


def settings(bootstrap: str) -> ServiceSettings:
    return settings_for("provider_registry", kafka_bootstrap=bootstrap)


async def test_a_service_that_published_before_replays_on_a_fresh_broker(
    fresh_broker: str, outbox_db: Database
) -> None:
    await add_row(outbox_db, "e-sent", published=True)  # to a broker that has since gone
    watch = BrokerWatch(settings(fresh_broker), outbox_db, [TOPIC])
    assert await watch.start() == 1
    assert await unpublished(outbox_db) == 1  # queued for the relay again
    assert watch.losses == 1
    assert await watch.start() == 0  # the sentinel is back: the same broker, nothing lost


async def test_a_service_that_never_published_treats_a_fresh_broker_as_new(
    fresh_broker: str, outbox_db: Database
) -> None:
    await add_row(outbox_db, "e-kept")  # written, never sent: the relay sends it
    watch = BrokerWatch(settings(fresh_broker), outbox_db, [TOPIC])
    assert await watch.start() == 0
    assert watch.losses == 0


async def test_with_the_watch_off_a_relay_starts_no_watch_and_no_sentinel(
    fresh_broker: str, tmp_path: Path
) -> None:
    """A durable Kafka (DPS_BROKER_LOSS_WATCH=false): topics are made, nothing watched."""
    from aiokafka.admin import AIOKafkaAdminClient

    from shared.runtime import ProcessRole
    from tests.harness import make_runtime

    runtime = make_runtime(
        "provider_registry",
        f"sqlite+aiosqlite:///{tmp_path / 'pr.db'}",
        tmp_path,
        kafka=fresh_broker,
        roles=frozenset({ProcessRole.RELAY}),
        broker_loss_watch=False,
    )
    await runtime.start()
    try:
        assert "broker-watch" not in {task.get_name() for task in runtime._tasks}
        admin = AIOKafkaAdminClient(bootstrap_servers=fresh_broker)
        await admin.start()
        try:
            topics = set(await admin.list_topics())
        finally:
            await admin.close()
        assert TOPIC in topics
        assert "dps.sentinel.provider_registry" not in topics
    finally:
        await runtime.stop()


async def test_the_running_watch_keeps_one_client(
    fresh_broker: str, outbox_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from shared import bus

    started: list[object] = []

    class Counted(bus.AIOKafkaConsumer):  # type: ignore[misc, name-defined]
        async def start(self) -> None:
            started.append(self)
            await super().start()

    monkeypatch.setattr(bus, "AIOKafkaConsumer", Counted)
    watch = BrokerWatch(
        settings_for(
            "provider_registry", kafka_bootstrap=fresh_broker, broker_watch_interval_s=0.05
        ),
        outbox_db,
        [TOPIC],
    )
    await watch.start()
    task = asyncio.create_task(watch.run())
    await asyncio.sleep(1.0)  # about 20 checks
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(started) == 1
    assert watch.losses == 0


async def test_the_relay_puts_back_what_a_restarted_broker_lost_before_sending_anything_newer(
    tmp_path: Path, outbox_db: Database
) -> None:
    """The soak's reordering (docs/reliability.md): a key's older event, sent to a broker
    that then restarted empty, must reach the new broker before the key's next event,
    even when the restart comes between two ticks of the watch's timer."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    from shared.outbox import OutboxRelay

    port = processes.free_port()
    bootstrap = f"127.0.0.1:{port}"
    first = processes.tansu(port, tmp_path / "first")
    first.start()
    processes.wait_for_port(first, port, timeout=20)
    # The watch's timer is not started here: only the relay's own check can notice.
    watch = BrokerWatch(settings(bootstrap), outbox_db, [TOPIC])
    await watch.start()
    await add_row(outbox_db, "e-older", published=True)  # sent to the first broker
    first.stop()
    second = processes.tansu(port, tmp_path / "second")  # the restart: empty
    second.start()
    processes.wait_for_port(second, port, timeout=20)
    try:
        await add_row(outbox_db, "e-newer")  # the key's next event
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()

        async def publish(
            topic: str, key: bytes, value: bytes, headers: dict[str, str], partition: int | None
        ) -> object:
            wire = [(name, text.encode()) for name, text in headers.items()]
            return await producer.send(topic, value, key=key, headers=wire, partition=partition)

        try:
            relay = OutboxRelay(
                outbox_db, publish, service="provider_registry", broker_intact=watch.ensure_intact
            )
            assert await relay.publish_pending() == 2  # the lost one first, then the new
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            TOPIC, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            batches = await consumer.getmany(timeout_ms=5000, max_records=10)
            records = [record for batch in batches.values() for record in batch]
        finally:
            await consumer.stop()
        assert [record.value for record in records] == [
            payload_of("e-older"),
            payload_of("e-newer"),
        ]
        assert watch.losses == 1
        assert await unpublished(outbox_db) == 0
    finally:
        await watch.close()
        second.stop()
