"""Running a service as several replicas and through outages (issue 17).

Leases make the relay and the periodic jobs run once per service; a background task that
keeps dying makes /healthz fail; the api role serves without Kafka or Temporal.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker, TestKafkaBroker

from dps.services import definition_of
from shared import runtime as runtime_module
from shared.bus import broker_publisher, ensure_topics
from shared.contracts.common import Role
from shared.db import Database, migrate
from shared.infra_models import InboxEntry, LeaseRow, OutboxMessage, utcnow
from shared.leases import Lease
from shared.metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE
from shared.outbox import OutboxRelay, pending_count, prune_inbox, refresh_gauges
from shared.runtime import ProcessRole, ServiceRuntime
from tests.fixtures import provider_body
from tests.harness import client_for, eventually, make_runtime


async def migrated(url: str) -> Database:
    await asyncio.to_thread(migrate, url, definition_of("placements").migrations_dir)
    return Database(url)


async def test_a_lease_has_one_holder_until_it_expires(database_url: Callable[[str], str]) -> None:
    db = await migrated(database_url("lease"))
    first = Lease("placements", "job", ttl_s=2, holder="a")
    second = Lease("placements", "job", ttl_s=2, holder="b")
    try:
        assert await first.try_hold(db)
        assert not await second.try_hold(db)
        assert await first.try_hold(db)  # renewing
        await asyncio.sleep(2.1)  # the holder stops renewing: it expires
        assert await second.try_hold(db)
        assert not await first.try_hold(db)
        await second.release(db)
        assert await first.try_hold(db)
    finally:
        await db.dispose()


async def _fill_outbox(db: Database, topic: str, rows: int, keys: int) -> None:
    async with db.transaction() as session:
        for n in range(rows):
            session.add(
                OutboxMessage(
                    event_id=f"e-{n:05d}",
                    topic=topic,
                    event_type="test",
                    key=f"k{n % keys}",
                    payload=str(n).encode(),
                    headers={},
                )
            )


async def _read_all(bootstrap: str, topic: str, expected: int) -> list[tuple[str, int]]:
    reader = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await reader.start()
    seen: list[tuple[str, int]] = []
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(seen) < expected and asyncio.get_running_loop().time() < deadline:
            batches = await reader.getmany(timeout_ms=500)
            for records in batches.values():
                seen += [(r.key.decode(), int(r.value)) for r in records if r.key and r.value]
        await asyncio.sleep(1)  # anything published twice would arrive by now
        for records in (await reader.getmany(timeout_ms=500)).values():
            seen += [(r.key.decode(), int(r.value)) for r in records if r.key and r.value]
    finally:
        await reader.stop()
    return seen


async def test_two_relays_publish_each_row_once_in_key_order(
    database_url: Callable[[str], str], kafka_bootstrap: str
) -> None:
    """Reproduced before leases: 2 relays on 2,000 rows published 4,000 records."""
    db = await migrated(database_url("relays"))
    topic = f"ops-test-{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, [topic])
    await _fill_outbox(db, topic, rows=2000, keys=20)
    brokers = [KafkaBroker(kafka_bootstrap, acks="all", logger=None) for _ in range(2)]
    relays = [
        OutboxRelay(
            db,
            broker_publisher(broker),
            service="placements",
            batch_size=100,
            poll_interval_s=0.05,
            lease=Lease("placements", "outbox-relay", ttl_s=5),
        )
        for broker in brokers
    ]
    for broker in brokers:
        await broker.start()
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        await eventually(lambda: _drained(db), within=60)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for broker in brokers:
            await broker.stop()
    seen = await _read_all(kafka_bootstrap, topic, 2000)
    await db.dispose()
    assert sorted(n for _, n in seen) == list(range(2000))  # each once
    for key in {k for k, _ in seen}:
        numbers = [n for k, n in seen if k == key]
        assert numbers == sorted(numbers), f"{key} out of order"


async def _lease_holder(db: Database) -> str:
    async with db.session() as session:
        row = await session.get(LeaseRow, "outbox-relay")
    assert row is not None
    return row.holder


async def _drained(db: Database) -> bool:
    return await pending_count(db) == 0


async def test_outbox_age_keeps_rising_while_nothing_is_published(
    database_url: Callable[[str], str],
) -> None:
    db = await migrated(database_url("gauges"))
    async with db.transaction() as session:
        session.add(
            OutboxMessage(
                event_id="old",
                topic="t",
                event_type="x",
                key="k",
                payload=b"{}",
                created_at=utcnow() - timedelta(minutes=10),
            )
        )
    try:
        assert await refresh_gauges(db, "ops-age") == 1
    finally:
        await db.dispose()
    assert OUTBOX_BACKLOG.labels("ops-age")._value.get() == 1
    assert OUTBOX_OLDEST_AGE.labels("ops-age")._value.get() >= 600


async def test_the_inbox_is_pruned_after_its_own_retention(
    database_url: Callable[[str], str],
) -> None:
    db = await migrated(database_url("inbox"))
    async with db.transaction() as session:
        for event_id, days in (("old", 61), ("recent", 31)):
            session.add(
                InboxEntry(
                    event_id=event_id,
                    topic="t",
                    event_type="x",
                    applied_at=utcnow() - timedelta(days=days),
                )
            )
    try:
        assert await prune_inbox(db, timedelta(days=60)) == 1
        assert await prune_inbox(db, timedelta(days=60)) == 0
    finally:
        await db.dispose()


async def test_a_task_that_keeps_dying_makes_the_process_unhealthy(
    database_url: Callable[[str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime_module, "TASK_FIRST_BACKOFF_S", 0.001)
    broker = KafkaBroker()
    runtime = make_runtime("placements", database_url("tasks"), tmp_path, shared_broker=broker)
    deaths = 0

    async def dies() -> None:
        nonlocal deaths
        deaths += 1
        raise RuntimeError("boom")

    async with TestKafkaBroker(broker):
        await runtime.start()
        try:
            async with client_for(runtime) as client:
                assert (await client.get("/healthz")).status_code == 200
                runtime.spawn(dies, "always-dies")

                async def unhealthy() -> bool:
                    return (await client.get("/healthz")).status_code == 503

                await eventually(unhealthy, within=10)
                body = (await client.get("/healthz")).json()
        finally:
            await runtime.stop()
    assert deaths >= runtime_module.TASK_MAX_FAILURES  # restarted, then judged failing
    assert "always-dies" in body["tasks"] and "boom" not in str(body)


async def test_the_api_role_serves_without_kafka_or_temporal(
    database_url: Callable[[str], str], tmp_path: Path, tokens: dict[Role, str]
) -> None:
    """Before: start() raised StartupError for want of Kafka, and /readyz checked all."""
    runtime = make_runtime(
        "provider_registry",
        database_url("api"),
        tmp_path,
        kafka="127.0.0.1:1",
        temporal="127.0.0.1:1",
        roles=frozenset({ProcessRole.API}),
    )
    await asyncio.wait_for(runtime.start(), timeout=20)
    try:
        async with client_for(runtime, tokens[Role.COMMISSIONER]) as client:
            created = await client.post("/providers", json=provider_body(urn=100001))
            ready = await client.get("/readyz")
        assert created.status_code == 201, created.text
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok"}
        assert await pending_count(runtime.db) >= 1  # waits in the outbox for the relay
    finally:
        await runtime.stop()


async def test_metrics_show_the_database_pool_in_use_on_postgresql(
    db_kind: str, database_url: Callable[[str], str], tmp_path: Path
) -> None:
    # Measured as a change: runtimes of other tests in this process may be counted too.
    before = _pool_gauges("monitoring")
    runtime = make_runtime(
        "monitoring", database_url("pool"), tmp_path, roles=frozenset({ProcessRole.API})
    )
    await runtime.start()
    try:
        async with client_for(runtime) as client:
            async with runtime.db.engine.connect():  # one connection held
                text = (await client.get("/metrics")).text
    finally:
        await runtime.stop()
    during = _pool_gauges("monitoring", text)
    if db_kind == "sqlite":  # one file, no pool to watch
        assert during == before
        return
    assert during["dps_db_pool_size"] - before.get("dps_db_pool_size", 0) == 20
    assert during["dps_db_pool_in_use"] >= 1


def _pool_gauges(service: str, text: str | None = None) -> dict[str, float]:
    from prometheus_client import REGISTRY, generate_latest

    exposition = text if text is not None else generate_latest(REGISTRY).decode()
    found = {}
    for line in exposition.splitlines():
        for name in ("dps_db_pool_size", "dps_db_pool_in_use"):
            if line.startswith(f'{name}{{service="{service}"}}'):
                found[name] = float(line.split()[-1])
    return found


async def test_readyz_names_what_is_down_but_not_why(
    database_url: Callable[[str], str], tmp_path: Path
) -> None:
    runtime = make_runtime(
        "provider_registry", database_url("ready"), tmp_path, roles=frozenset({ProcessRole.API})
    )
    await runtime.start()
    try:

        async def failing() -> None:
            raise OSError("connection refused to 10.0.0.7:5432 password=secret")

        runtime.check_database = failing  # type: ignore[method-assign]
        async with client_for(runtime) as client:
            ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": "unavailable"}
        assert "secret" not in ready.text and "10.0.0.7" not in ready.text
    finally:
        await runtime.stop()


async def test_periodic_jobs_run_in_one_replica_and_move_when_it_stops(
    database_url: Callable[[str], str], tmp_path: Path
) -> None:
    """Before: every replica ran the sweeps and pruning (on_start hooks ran everywhere)."""
    url = database_url("singletons")
    ran: list[str] = []
    broker = KafkaBroker()
    replicas = []
    for name in ("first", "second"):
        runtime = make_runtime(
            "placements",
            url,
            tmp_path,
            shared_broker=broker,
            roles=frozenset({ProcessRole.RELAY}),
            lease_ttl_s=2,
        )

        async def hook(_rt: ServiceRuntime, name: str = name) -> None:
            ran.append(name)

        runtime.definition = replace(runtime.definition, on_start=[hook])
        replicas.append(runtime)
    async with TestKafkaBroker(broker):
        for runtime in replicas:
            await runtime.start()
        await asyncio.sleep(1.5)
        assert ran == ["first"]
        await replicas[0].stop()  # releases the lease: the standby takes over

        async def moved() -> bool:
            return ran == ["first", "second"]

        await eventually(moved, within=10)
        await replicas[1].stop()


async def test_writes_made_while_the_broker_is_down_are_published_when_it_returns(
    database_url: Callable[[str], str],
    tmp_path: Path,
    tokens: dict[Role, str],
    kafka_bootstrap: str,
) -> None:
    url = database_url("outage")
    api = make_runtime(
        "provider_registry", url, tmp_path, kafka="127.0.0.1:1", roles=frozenset({ProcessRole.API})
    )
    await api.start()
    try:
        async with client_for(api, tokens[Role.COMMISSIONER]) as client:
            for urn in range(200001, 200006):
                created = await client.post("/providers", json=provider_body(urn=urn))
                assert created.status_code == 201, created.text
        waiting = await pending_count(api.db)
        assert waiting >= 5
        # The broker is back: a relay replica starts and publishes what waited.
        relay = make_runtime(
            "provider_registry",
            url,
            tmp_path,
            kafka=kafka_bootstrap,
            roles=frozenset({ProcessRole.RELAY}),
        )
        await relay.start()
        try:
            await eventually(lambda: _drained(relay.db), within=30)
        finally:
            await relay.stop()
    finally:
        await api.stop()


async def test_a_standby_relay_takes_over_when_the_holder_dies(
    database_url: Callable[[str], str], kafka_bootstrap: str
) -> None:
    """The holder is killed mid-stream (no release): after its lease expires the standby
    publishes the rest; nothing is lost and each key's first deliveries stay in order.
    A batch in flight at the kill may be sent again (at least once; inboxes drop it)."""
    db = await migrated(database_url("failover"))
    topic = f"ops-failover-{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, [topic])
    await _fill_outbox(db, topic, rows=1000, keys=10)
    brokers = [KafkaBroker(kafka_bootstrap, acks="all", logger=None) for _ in range(2)]
    leases = [Lease("placements", "outbox-relay", ttl_s=3, holder=f"r{n}") for n in range(2)]
    relays = [
        OutboxRelay(db, broker_publisher(b), service="placements", batch_size=50, lease=lease)
        for b, lease in zip(brokers, leases, strict=True)
    ]
    for broker in brokers:
        await broker.start()
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:

        async def some_published() -> bool:
            return await pending_count(db) < 900

        await eventually(some_published, within=60)
        holder = int((await _lease_holder(db))[1:])
        tasks[holder].cancel()  # killed: its lease is not released
        await asyncio.gather(tasks[holder], return_exceptions=True)
        await eventually(lambda: _drained(db), within=120)
        assert await _lease_holder(db) == f"r{1 - holder}"
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for broker in brokers:
            await broker.stop()
    seen = await _read_all(kafka_bootstrap, topic, 1000)
    await db.dispose()
    assert sorted(set(n for _, n in seen)) == list(range(1000))  # nothing lost
    assert len(seen) - 1000 <= 50  # at most the batch in flight again
    for key in {k for k, _ in seen}:
        first: list[int] = []
        for k, n in seen:
            if k == key and n not in first:
                first.append(n)
        assert first == sorted(first), f"{key} out of order"


async def test_http_metrics_are_labelled_by_route_template(
    database_url: Callable[[str], str], tmp_path: Path, tokens: dict[Role, str]
) -> None:
    """Before: routers included in routers were never matched, so every route was
    labelled "unmatched" and per-route rates and latencies were lost."""
    runtime = make_runtime(
        "provider_registry", database_url("labels"), tmp_path, roles=frozenset({ProcessRole.API})
    )
    await runtime.start()
    try:
        async with client_for(runtime, tokens[Role.COMMISSIONER]) as client:
            missing = await client.get(f"/providers/{uuid.uuid4()}")
            metrics = (await client.get("/metrics")).text
        assert missing.status_code == 404
        assert 'route="/providers/{provider_id}"' in metrics
    finally:
        await runtime.stop()
