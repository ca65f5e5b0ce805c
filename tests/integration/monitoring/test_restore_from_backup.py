"""A service's database restored from a backup taken mid-stream converges, with nothing
lost or doubled, by the procedure of docs/operations.md ("Back up and restore a
service's database"): stop the service, restore, reset its consumer groups so it reads
again what it consumed since the backup, start it. Its inbox drops what the backup had applied; what it applies
again emits events with the ids they had (shared.unit_of_work.caused_event_id), so
downstream inboxes drop them too."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import make_url
from sqlmodel import col, func, select

from services.monitoring.models import AlertRow
from shared.contracts import providers_v1
from shared.infra_models import InboxEntry, OutboxMessage
from shared.runtime import ServiceRuntime
from tests.conftest import POSTGRES_URL, postgres_database
from tests.harness import eventually, make_runtime
from tests.service.monitoring import events

pytestmark = pytest.mark.integration

GROUP = "g-restore"
PROVIDERS = 30


@pytest.fixture
def monitoring_url() -> Iterator[str]:
    if POSTGRES_URL is None:
        pytest.skip("DPS_TEST_POSTGRES_URL is not set: backups are of PostgreSQL")
    yield from postgres_database()


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def pg_tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} (PostgreSQL client tools) is needed to back up and restore"
    return found


def runtime(kafka: str, url: str, tmp_path: Path) -> ServiceRuntime:
    return make_runtime("monitoring", url, tmp_path, kafka=kafka, consumer_group=GROUP)


async def publish(kafka: str, first: int, last: int) -> None:
    """The upstream service's events (inadequate inspections: each raises an alert)."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        for n in range(first, last + 1):
            event = events.inspection(f"p-restore-{n}", "inadequate")
            await producer.send_and_wait(providers_v1.TOPIC, event.to_bytes(), key=event.key)
            await asyncio.sleep(0.02)  # a stream, not a burst
    finally:
        await producer.stop()


async def alerts(service: ServiceRuntime) -> int:
    async with service.db.session() as session:
        return int((await session.exec(select(func.count()).select_from(AlertRow))).one())


async def reset_group_to_earliest(kafka: str, topic: str) -> None:
    """`kafka-consumer-groups.sh --reset-offsets --to-earliest` for the service's group
    of `topic`, done as a member of the group (Tansu has no admin call for it and refuses
    a commit from outside the group): join, then commit each partition's first offset."""
    client = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        group_id=f"{GROUP}.{topic}",
        enable_auto_commit=False,
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )
    await client.start()
    try:
        while not client.assignment():
            await client.getmany(timeout_ms=200, max_records=1)
        partitions = list(client.assignment())
        starts = await client.beginning_offsets(partitions)
        await client.commit(dict(starts))
        for tp in partitions:
            assert await client.committed(tp) == starts[tp]
    finally:
        await client.stop()


async def raised_on_bus(kafka: str) -> list[tuple[str, str]]:
    """(event id, alert id) of every quality.alert.raised record on quality.v1."""
    client = AIOKafkaConsumer("quality.v1", bootstrap_servers=kafka, auto_offset_reset="earliest")
    await client.start()
    found: list[tuple[str, str]] = []
    try:
        idle = 0
        while idle < 3:
            batches = await client.getmany(timeout_ms=500)
            idle = 0 if batches else idle + 1
            for records in batches.values():
                for record in records:
                    body = json.loads(record.value)
                    if body["type"] == "quality.alert.raised":
                        found.append((body["id"], body["subject"]))
    finally:
        await client.stop()
    return found


async def test_a_database_restored_from_a_mid_stream_backup_converges(
    own_kafka: str, monitoring_url: str, tmp_path: Path
) -> None:
    dump = tmp_path / "monitoring.dump"
    service = runtime(own_kafka, monitoring_url, tmp_path)
    await service.start()
    try:
        await publish(own_kafka, 1, 10)
        await eventually(lambda: _at_least(service, 10))
        # The backup is taken while the stream goes on.
        stream = asyncio.create_task(publish(own_kafka, 11, 20))
        await asyncio.to_thread(
            subprocess.run,
            [pg_tool("pg_dump"), "-Fc", "-f", str(dump), libpq(monitoring_url)],
            check=True,
        )
        await stream
        await publish(own_kafka, 21, PROVIDERS)
        await eventually(lambda: _at_least(service, PROVIDERS))
    finally:
        await service.stop()

    # 1. The database is lost; 2. restore the backup into a new one.
    url = libpq(monitoring_url)
    admin = libpq(POSTGRES_URL or "")
    name = make_url(monitoring_url).database
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    await asyncio.to_thread(
        subprocess.run,
        [pg_tool("pg_restore"), "--no-owner", "-d", url, str(dump)],
        check=True,
    )
    restored = runtime(own_kafka, monitoring_url, tmp_path)
    async with restored.db.session() as session:
        before = int((await session.exec(select(func.count()).select_from(AlertRow))).one())
    assert 10 <= before < PROVIDERS  # the backup is of the middle of the stream

    # 3. Reset its consumer groups so it reads again what it consumed since the backup.
    await reset_group_to_earliest(own_kafka, providers_v1.TOPIC)

    # 4. Start it: it converges.
    await restored.start()
    try:
        await eventually(lambda: _at_least(restored, PROVIDERS), within=60)
        await asyncio.sleep(1.0)  # anything doubled would show by now
        async with restored.db.session() as session:
            rows = (await session.exec(select(AlertRow))).all()
            applied = (
                await session.exec(
                    select(func.count())
                    .select_from(InboxEntry)
                    .where(col(InboxEntry.topic) == providers_v1.TOPIC)
                )
            ).one()
        assert sorted(r.provider_id for r in rows) == sorted(
            f"p-restore-{n}" for n in range(1, PROVIDERS + 1)
        )  # nothing lost, nothing doubled
        assert applied == PROVIDERS
        # What it published again carries the ids it had: one event id per alert, so a
        # downstream inbox applies each alert once. (Not a count of records: the first
        # run may have stopped before relaying its last alerts, which only the restored
        # run then publishes.)
        await eventually(lambda: _relayed(restored), within=60)
        expected = {r.alert_id for r in rows}
        await eventually(lambda: _on_bus(own_kafka, expected), within=60)
        raised = await raised_on_bus(own_kafka)
        assert {alert for _, alert in raised} == {r.alert_id for r in rows}
        assert len({event_id for event_id, _ in raised}) == PROVIDERS
    finally:
        await restored.stop()


async def _at_least(service: ServiceRuntime, n: int) -> bool:
    return await alerts(service) >= n


async def _relayed(service: ServiceRuntime) -> bool:
    """Its outbox has sent every row (each re-applied alert's event included)."""
    async with service.db.session() as session:
        unsent = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.published_at).is_(None))
        )
        return int((await session.exec(unsent)).one()) == 0


async def _on_bus(kafka: str, alert_ids: set[str]) -> bool:
    return alert_ids <= {alert for _, alert in await raised_on_bus(kafka)}
