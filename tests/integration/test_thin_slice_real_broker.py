"""The thin slice over the real Tansu broker and Temporal dev server: outbox, relay,
consumer group, inbox, dead-lettering, commit-after-apply and broker loss."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlmodel import func, select

from dps import processes
from services.monitoring.models import ProviderProfile
from shared import bus
from shared.contracts.common import Role
from shared.infra_models import DeadLetter, InboxEntry, OutboxMessage
from shared.runtime import ServiceRuntime
from tests.fixtures import provider_body
from tests.harness import client_for, eventually, make_runtime

pytestmark = pytest.mark.integration


async def count(runtime: ServiceRuntime, model: type) -> int:
    async with runtime.db.session() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


@pytest.fixture(scope="module")
def kafka_bootstrap(logs_dir: Path) -> Iterator[str]:
    """A broker of this module's own: the session's one carries other tests' events,
    and these tests count effects exactly."""
    port = processes.free_port()
    broker = processes.tansu(port, logs_dir)
    broker.start()
    processes.wait_for_port(broker, port, timeout=20)
    yield f"127.0.0.1:{port}"
    broker.stop()


@pytest.fixture
async def registry(
    kafka_bootstrap: str, temporal_address: str, database_url: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[ServiceRuntime]:
    runtime = make_runtime(
        "provider_registry",
        database_url("registry"),
        tmp_path,
        kafka=kafka_bootstrap,
        temporal=temporal_address,
    )
    await runtime.start()
    yield runtime
    await runtime.stop()


def monitoring_runtime(kafka: str, url: str, tmp_path: Path, group: str) -> ServiceRuntime:
    # A fresh consumer group per test: the session broker is shared between tests.
    return make_runtime("monitoring", url, tmp_path, kafka=kafka, consumer_group=group)


async def register(runtime: ServiceRuntime, token: str, urn: int) -> str:
    async with client_for(runtime, token) as client:
        response = await client.post("/providers", json=provider_body(urn=urn))
    assert response.status_code == 201, response.text
    return str(response.json()["provider_id"])


async def test_slice_over_real_broker(
    registry: ServiceRuntime, kafka_bootstrap: str, database_url, tmp_path: Path, tokens
) -> None:
    monitoring = monitoring_runtime(
        kafka_bootstrap, database_url("monitoring"), tmp_path, "g-slice"
    )
    await monitoring.start()
    try:
        # readiness covers database, broker and Temporal
        async with client_for(registry) as client:
            ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text

        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        await producer.start()
        await producer.send_and_wait("providers.v1", b"\xff\xfe not json", key=b"poison")
        await producer.stop()
        provider_id = await register(registry, tokens[Role.COMMISSIONER], 200001)

        async def recorded() -> bool:
            async with monitoring.db.session() as session:
                return await session.get(ProviderProfile, provider_id) is not None

        await eventually(recorded)
        await eventually(lambda: _dead_letters(monitoring, 1))  # the poison, set aside

        # Deliver the very same event again (as a redelivery would): applied once.
        duplicates_before = _duplicates()
        async with registry.db.session() as session:
            row = (await session.exec(select(OutboxMessage))).one()
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        await producer.start()
        await producer.send_and_wait("providers.v1", row.payload, key=row.key.encode())
        await producer.stop()
        second = await register(registry, tokens[Role.COMMISSIONER], 200002)

        async def both() -> bool:
            async with monitoring.db.session() as session:
                return await session.get(ProviderProfile, second) is not None

        await eventually(both)
        await eventually(lambda: _redelivery_ignored(duplicates_before))
        assert await count(monitoring, ProviderProfile) == 2
        assert await count(monitoring, InboxEntry) == 2
        dlq = await _read_topic(kafka_bootstrap, "providers.v1.dlq")
        assert any(h.get("dlq_reason", b"").startswith(b"not JSON") for h in dlq)
    finally:
        await monitoring.stop()


def _duplicates() -> float:
    from shared.metrics import EVENTS_DUPLICATE

    return float(EVENTS_DUPLICATE.labels("monitoring", "providers.v1")._value.get())


async def _redelivery_ignored(before: float) -> bool:
    return _duplicates() > before


async def _dead_letters(runtime: ServiceRuntime, expected: int) -> bool:
    return await count(runtime, DeadLetter) == expected


async def _read_topic(bootstrap: str, topic: str) -> list[dict[str, bytes]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=3000)
        return [dict(r.headers) for records in batches.values() for r in records]
    finally:
        await consumer.stop()


async def test_crash_between_apply_and_commit_loses_nothing_and_applies_once(
    registry: ServiceRuntime,
    kafka_bootstrap: str,
    database_url,
    tmp_path: Path,
    tokens,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = database_url("monitoring")
    crashing = monitoring_runtime(kafka_bootstrap, url, tmp_path, "g-crash")

    async def never_commit(*_args: object) -> None:
        """The process dies after each transaction and before its offset commit."""

    monkeypatch.setattr(bus, "commit", never_commit)
    await crashing.start()
    provider_id = await register(registry, tokens[Role.COMMISSIONER], 200003)

    async def applied() -> bool:
        async with crashing.db.session() as session:
            return await session.get(ProviderProfile, provider_id) is not None

    await eventually(applied)
    await crashing.stop()
    applied_before_crash = await count(crashing, InboxEntry)
    monkeypatch.undo()

    restarted = monitoring_runtime(kafka_bootstrap, url, tmp_path, "g-crash")
    from shared.metrics import EVENTS_DUPLICATE

    before = EVENTS_DUPLICATE.labels("monitoring", "providers.v1")._value.get()
    await restarted.start()
    try:

        async def redelivered() -> bool:
            return EVENTS_DUPLICATE.labels("monitoring", "providers.v1")._value.get() > before

        await eventually(redelivered)
        async with restarted.db.session() as session:
            assert await session.get(ProviderProfile, provider_id) is not None
        # Everything was redelivered (nothing had been committed) and nothing re-applied.
        assert await count(restarted, InboxEntry) == applied_before_crash
    finally:
        await restarted.stop()


async def test_broker_restart_mid_stream_loses_nothing_and_applies_once(
    database_url, tmp_path: Path, logs_dir: Path, temporal_address: str, tokens
) -> None:
    port = processes.free_port()
    kafka = f"127.0.0.1:{port}"
    broker = processes.tansu(port, logs_dir)
    broker.start()
    processes.wait_for_port(broker, port, 20)
    registry = make_runtime("provider_registry", database_url("registry"), tmp_path, kafka=kafka)
    monitoring_db = database_url("monitoring")
    monitoring = make_runtime("monitoring", monitoring_db, tmp_path, kafka=kafka)
    await registry.start()
    await monitoring.start()
    commissioner = tokens[Role.COMMISSIONER]
    try:
        ids = [await register(registry, commissioner, 300000 + i) for i in range(5)]
        await eventually(lambda: _profiles(monitoring, 5))
        await monitoring.stop()

        # Published and acknowledged by the broker, but not yet consumed ...
        ids += [await register(registry, commissioner, 300100 + i) for i in range(10)]
        await eventually(lambda: _all_published(registry))
        broker.kill()  # ... and then lost with everything else the broker held.
        broker = processes.tansu(port, logs_dir)
        broker.start()
        processes.wait_for_port(broker, port, 20)
        ids += [await register(registry, commissioner, 300200 + i) for i in range(5)]

        monitoring = make_runtime("monitoring", monitoring_db, tmp_path, kafka=kafka)
        await monitoring.start()
        await eventually(lambda: _profiles(monitoring, 20), within=60)
        assert registry.watch is not None and registry.watch.losses >= 1
        assert await count(monitoring, InboxEntry) == 20  # each event applied exactly once
        async with monitoring.db.session() as session:
            for provider_id in ids:
                assert await session.get(ProviderProfile, provider_id) is not None
    finally:
        await monitoring.stop()
        await registry.stop()
        broker.stop()


async def _all_published(runtime: ServiceRuntime) -> bool:
    from shared.outbox import pending_count

    return await pending_count(runtime.db) == 0


async def _profiles(runtime: ServiceRuntime, expected: int) -> bool:
    return await count(runtime, ProviderProfile) == expected


async def test_running_consumer_survives_broker_restart(
    database_url, tmp_path: Path, logs_dir: Path, tokens
) -> None:
    """Events committed while the broker is down are published after it returns, maybe
    before the loss is noticed; the consumer must still see every one of them."""
    port = processes.free_port()
    kafka = f"127.0.0.1:{port}"
    broker = processes.tansu(port, logs_dir)
    broker.start()
    processes.wait_for_port(broker, port, 20)
    registry = make_runtime("provider_registry", database_url("registry"), tmp_path, kafka=kafka)
    monitoring = make_runtime("monitoring", database_url("monitoring"), tmp_path, kafka=kafka)
    await registry.start()
    await monitoring.start()
    commissioner = tokens[Role.COMMISSIONER]
    try:
        for i in range(8):
            await register(registry, commissioner, 310000 + i)
        await eventually(lambda: _profiles(monitoring, 8))
        broker.kill()
        for i in range(8):  # committed locally; the relay retries until the broker is back
            await register(registry, commissioner, 310100 + i)
        broker = processes.tansu(port, logs_dir)
        broker.start()
        processes.wait_for_port(broker, port, 20)
        await eventually(lambda: _profiles(monitoring, 16), within=90)
        assert await count(monitoring, InboxEntry) == 16
    finally:
        await monitoring.stop()
        await registry.stop()
        broker.stop()
