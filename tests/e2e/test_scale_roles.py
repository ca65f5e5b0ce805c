"""The shipped shape: every role of one service as two processes (`dps service monitoring
--role api|consumer|relay|worker`, as the k8s Deployments run it) on PostgreSQL. Eight
processes start at once on a fresh database and migrate it once; the two relays publish
each outbox row once; killing one replica of each role (the relay that holds the lease)
loses nothing and doubles nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import httpx
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import make_url

from dps import processes
from dps.processes import Managed
from shared.contracts import providers_v1, quality_v1
from shared.contracts.common import Role
from tests.conftest import POSTGRES_URL, TEST_SECRET, postgres_database
from tests.service.monitoring import events

pytestmark = pytest.mark.e2e

ROLES = ("api", "consumer", "relay", "worker")
PROVIDERS = 20


@dataclass
class Replica:
    role: str
    port: int
    managed: Managed

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    kafka: str
    dsn: str  # libpq form of the service's database
    replicas: list[Replica]

    def of(self, role: str) -> list[Replica]:
        return [r for r in self.replicas if r.role == role and r.managed.running]

    def query(self, sql: str) -> list[tuple[object, ...]]:
        with psycopg.connect(self.dsn) as conn:
            return list(conn.execute(sql).fetchall())

    def scalar(self, sql: str) -> int:
        return int(self.query(sql)[0][0])  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if POSTGRES_URL is None:
        pytest.skip("DPS_TEST_POSTGRES_URL is not set: replicas share a PostgreSQL database")
    data_dir = tmp_path_factory.mktemp("scale")
    database = postgres_database()
    url = next(database)
    kafka_port, temporal_port = processes.free_port(), processes.free_port()
    broker = processes.tansu(kafka_port, data_dir)
    temporal = processes.temporal_server(
        temporal_port, processes.free_port(), data_dir / "temporal.db", data_dir
    )
    started: list[Managed] = [broker, temporal]
    try:
        broker.start()
        temporal.start()
        processes.wait_for_port(broker, kafka_port, timeout=20)
        processes.wait_for_port(temporal, temporal_port, timeout=60)
        env = {
            "DPS_DATABASE_URL": url,
            "DPS_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka_port}",
            "DPS_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
            "DPS_DATA_DIR": str(data_dir),
            "DPS_JWT_SECRET": TEST_SECRET,
            "DPS_CONSUMER_SESSION_TIMEOUT_MS": "2000",
            "DPS_OUTBOX_POLL_INTERVAL_S": "0.1",
            "DPS_LEASE_TTL_S": "3",
            "DPS_MIGRATE_ON_START": "true",  # all eight at once: the advisory lock's case
        }
        replicas = []
        for role in ROLES:
            for n in (1, 2):
                port = processes.free_port()
                managed = processes.service(
                    "monitoring", {**env, "DPS_HTTP_PORT": str(port)}, data_dir, role
                )
                managed.name = f"monitoring-{role}-{n}"
                managed.log_path = data_dir / f"{managed.name}.log"
                managed.start()
                started.append(managed)
                replicas.append(Replica(role, port, managed))
        for replica in replicas:
            processes.wait_for_ready(replica.managed, f"{replica.url}/readyz", 90)
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        yield Cluster(f"127.0.0.1:{kafka_port}", dsn, replicas)
    finally:
        for managed in reversed(started):
            managed.stop()
        for _ in database:  # drops it
            pass


async def publish(kafka: str, envelopes: list[events.Envelope]) -> None:
    """Another service's events (the registry's), as its relay would send them."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        for event in envelopes:
            await producer.send_and_wait(providers_v1.TOPIC, event.to_bytes(), key=event.key)
    finally:
        await producer.stop()


def record_incidents(cluster: Cluster, token: str, first: int, count: int) -> None:
    """HTTP writes (each emits quality.incident.recorded), spread over the api replicas."""
    apis = cluster.of("api")
    for n in range(first, first + count):
        replica = apis[n % len(apis)]
        response = httpx.post(
            f"{replica.url}/incidents",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "provider_id": f"p-scale-{n % PROVIDERS}",
                "category": "complaint",
                "severity": "low",
                "occurred_on": date(2026, 11, 2).isoformat(),
                "summary": "A complaint about transport arrangements.",
            },
            timeout=15,
        )
        assert response.status_code == 201, response.text


def wait_for(check, within: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within}s")
        time.sleep(0.2)


def drained(cluster: Cluster, applied: int, incidents: int) -> bool:
    return (
        cluster.scalar("select count(*) from inbox where topic = 'providers.v1'") == applied
        and cluster.scalar("select count(*) from incident") == incidents
        and cluster.scalar("select count(*) from outbox where published_at is null") == 0
    )


async def on_topic(kafka: str, topic: str) -> list[str]:
    """The event id of every record on `topic`, repeats included."""
    client = AIOKafkaConsumer(topic, bootstrap_servers=kafka, auto_offset_reset="earliest")
    await client.start()
    ids: list[str] = []
    try:
        idle = 0
        while idle < 3:
            batches = await client.getmany(timeout_ms=500)
            idle = 0 if batches else idle + 1
            for records in batches.values():
                ids.extend(json.loads(r.value)["id"] for r in records)
    finally:
        await client.stop()
    return ids


def relay_holder_pid(cluster: Cluster) -> int:
    [(holder,)] = cluster.query("select holder from lease where name like '%outbox-relay%'")
    return int(str(holder).split(":")[1])


async def test_two_replicas_of_every_role_publish_once_and_survive_one_of_each_killed(
    cluster: Cluster, tokens: dict[Role, str]
) -> None:
    officer = tokens[Role.COMMISSIONER]
    # Eight processes started together on an empty database: one migration, all ready.
    assert cluster.scalar("select count(*) from alembic_version") == 1
    registered = [events.registered(f"p-scale-{n}", 500000 + n) for n in range(PROVIDERS)]
    inspections = [events.inspection(f"p-scale-{n}", "inadequate") for n in range(PROVIDERS)]

    await publish(cluster.kafka, registered + inspections[:10])
    wait_for(lambda: drained(cluster, PROVIDERS + 10, 0))
    await asyncio.to_thread(record_incidents, cluster, officer, 0, 10)
    wait_for(lambda: drained(cluster, PROVIDERS + 10, 10))

    # One replica of each role dies (SIGKILL); of the relays, the one holding the lease.
    holder = relay_holder_pid(cluster)
    for role in ROLES:
        replicas = cluster.of(role)
        [victim] = (
            [r for r in replicas if r.managed.process and r.managed.process.pid == holder]
            if role == "relay"
            else replicas[:1]
        )
        victim.managed.kill()

    await publish(cluster.kafka, inspections[10:])
    await asyncio.to_thread(record_incidents, cluster, officer, 10, 10)
    wait_for(lambda: drained(cluster, 2 * PROVIDERS, 20), within=90)
    assert relay_holder_pid(cluster) != holder  # the standby took the lease over

    # Each outbox row is on its topic exactly once: nothing lost, nothing doubled.
    outbox = cluster.query("select event_id, topic from outbox")
    assert outbox
    for topic in sorted({t for _, t in outbox}):
        wanted = sorted(str(e) for e, t in outbox if t == topic)
        assert sorted(await on_topic(cluster.kafka, topic)) == wanted, topic
    # Every inspection raised its alert once.
    alerted = cluster.query(
        "select provider_id, count(*) from alert where rule_id = 'ofsted-inadequate' "
        "group by provider_id"
    )
    assert sorted(p for p, _ in alerted) == sorted(f"p-scale-{n}" for n in range(PROVIDERS))
    assert {int(c) for _, c in alerted} == {1}  # type: ignore[call-overload]
    assert quality_v1.TOPIC in {t for _, t in outbox}
