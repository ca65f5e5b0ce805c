"""EHC ingest benchmark: EHC events per second applied by a placements runtime (database
write, inbox entry and any outbox rows, one transaction per batch) next to a raw aiokafka
consume of the same messages on the same broker in the same run.

    python -m bench.ehc_ingest [--events 20000] [--type issued|requested] [--database-url URL]

Prints figures; it is not a test and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlmodel import func, select

from dps import processes
from services.placements.app import definition
from shared.envelope import Envelope
from shared.infra_models import InboxEntry
from shared.logging import configure_logging
from shared.runtime import ProcessRole, ServiceRuntime
from shared.settings import settings_for

TOPIC = "ehc.plans.v1"


def ehc_event(index: int, kind: str) -> Envelope:
    child = f"KCC-EHC-{index:06d}"
    today = datetime.now(UTC).date()
    data: dict[str, object] = {
        "child_ref": child,
        "la_code": "886",
        "date_of_birth": date(2014, 5, 1).isoformat(),
        "primary_need": "ASD",
        "secondary_needs": ["SLCN"],
        "attendance": "day",
        "postcode_district": "ME14",
        "ehc_plan": {
            "issued_on": (today - timedelta(days=30)).isoformat(),
            "next_review_due": (today + timedelta(days=300)).isoformat(),
        },
    }
    if kind == "requested":
        data["required_start"] = (today + timedelta(days=60)).isoformat()
    event_type = "ehc.plan.issued" if kind == "issued" else "ehc.placement.requested"
    return Envelope(
        id=str(uuid.uuid4()),
        type=event_type,
        source="council/886/bench",
        subject=child,
        data=data,
    )


async def produce(bootstrap: str, count: int, kind: str) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for index in range(count):
            env = ehc_event(index, kind)
            pending.append(await producer.send(TOPIC, env.to_bytes(), key=env.subject.encode()))
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def raw_consume(bootstrap: str, count: int) -> float:
    """Seconds for a plain aiokafka consumer to read every message (no decoding)."""
    consumer = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,  # no group: nothing to join, the clock covers fetching only
    )
    await consumer.start()
    seen = 0
    started = time.perf_counter()
    try:
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            seen += sum(len(records) for records in batches.values())
    finally:
        await consumer.stop()
    return time.perf_counter() - started


async def applied(runtime: ServiceRuntime) -> int:
    async with runtime.db.session() as session:
        return int((await session.exec(select(func.count()).select_from(InboxEntry))).one())


async def runtime_consume(bootstrap: str, database_url: str, data_dir: Path, count: int) -> float:
    """Seconds for a placements runtime to apply every message, from the first applied."""
    settings = settings_for(
        "placements",
        database_url=database_url,
        data_dir=data_dir,
        kafka_bootstrap=bootstrap,
        consumer_group=f"bench-placements-{uuid.uuid4().hex[:6]}",
        consumer_session_timeout_ms=3000,
        jwt_secret="bench-secret-0123456789abcdef0123456789",
        log_level="WARNING",
    )
    roles = frozenset({ProcessRole.CONSUMER, ProcessRole.RELAY})
    runtime = ServiceRuntime(definition, settings, roles, use_temporal=False)
    await runtime.start()
    started: float | None = None  # from the first applied event: group join excluded
    try:
        while (done := await applied(runtime)) < count:
            if done and started is None:
                started = time.perf_counter()
            await asyncio.sleep(0.1)
        finished = time.perf_counter()
        if started is None:
            # Everything was applied between two polls (a short run): fall back to the
            # span of the inbox's applied_at stamps (misses the first batch, so generous).
            span = await applied_span(runtime)
            return max(span, 1e-3)
    finally:
        await runtime.stop()
    return finished - started


async def applied_span(runtime: ServiceRuntime) -> float:
    async with runtime.db.session() as session:
        first, last = (
            await session.exec(
                select(func.min(InboxEntry.applied_at), func.max(InboxEntry.applied_at))
            )
        ).one()
    return float((last - first).total_seconds()) if first and last else 0.0


async def main(count: int, kind: str, database_url: str | None) -> None:
    work = Path(tempfile.mkdtemp(prefix="dps-bench-"))
    port = processes.free_port()
    broker = processes.tansu(port, work)
    broker.start()
    try:
        processes.wait_for_port(broker, port, timeout=20)
        bootstrap = f"127.0.0.1:{port}"
        url = database_url or f"sqlite+aiosqlite:///{work / 'placements.db'}"
        produced = await produce(bootstrap, count, kind)
        raw = await raw_consume(bootstrap, count)
        ingested = await runtime_consume(bootstrap, url, work, count)
    finally:
        broker.stop()
    raw_rate, ingest_rate = count / raw, count / ingested
    print(f"events: {count} ehc.{'plan.issued' if kind == 'issued' else 'placement.requested'}")
    print(f"database: {url.split('://')[0]}")
    print(f"produce (acks=all):            {count / produced:10.0f} events/s")
    print(f"raw aiokafka consume:          {raw_rate:10.0f} events/s ({raw:.2f} s)")
    print(f"placements ingest (db+inbox):  {ingest_rate:10.0f} events/s ({ingested:.2f} s)")
    print(f"ingest / raw:                  {ingest_rate / raw_rate:10.3f}")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--type", choices=("issued", "requested"), default="issued")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    configure_logging("bench", "WARNING", False)  # per-event debug lines would dominate
    asyncio.run(main(args.events, args.type, args.database_url))


if __name__ == "__main__":
    cli()
