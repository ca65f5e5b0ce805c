"""EHC ingest benchmark: EHC events per second applied by a placements runtime (database
write, inbox entry and any outbox rows, one transaction per batch) with SQLite and with
PostgreSQL, next to three baselines on the same broker in the same run: a raw aiokafka
consume of the same messages, a bare FastStream consume-and-republish handler (one message
at a time, as FastStream's own benchmarks run it) and the same handler taking batches.

    python -m bench.ehc_ingest [--events 20000] [--type issued|requested]
                               [--databases sqlite,postgres]

PostgreSQL is used when a server answers (see bench/databases.py); otherwise its row says so.

Prints figures; it is not a test and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.message import StreamMessage
from sqlalchemy.exc import DBAPIError
from sqlmodel import func, select

from bench import report as bench_report
from bench.databases import fresh_database
from dps import processes
from services.placements.app import definition
from shared.contracts import ehc_plans_v1
from shared.envelope import STRUCTURED_CONTENT_TYPE, Envelope
from shared.infra_models import InboxEntry
from shared.logging import configure_logging
from shared.runtime import ProcessRole, ServiceRuntime, freeze_startup_heap
from shared.settings import settings_for

TOPIC = ehc_plans_v1.TOPIC
STRUCTURED = [("content-type", STRUCTURED_CONTENT_TYPE.encode())]  # CloudEvents structured mode


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
            pending.append(
                await producer.send(
                    TOPIC, env.to_bytes(), key=env.subject.encode(), headers=STRUCTURED
                )
            )
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
    # Watched from before the start: the runtime may apply a short run while its start
    # is still joining the group, and a watch begun after it would miss that.
    watch = asyncio.create_task(_seconds_to_apply(runtime, count))
    try:
        await runtime.start()
        freeze_startup_heap()  # as a service process does once started
        return await watch
    finally:
        watch.cancel()
        await runtime.stop()


async def _seconds_to_apply(runtime: ServiceRuntime, count: int) -> float:
    """Seconds from the first applied event seen to the last (polled every 0.1 s)."""
    started: float | None = None  # from the first applied event: group join excluded
    while True:
        try:
            done = await applied(runtime)
        except DBAPIError:
            done = 0  # not migrated yet
        now = time.perf_counter()
        if done and started is None:
            started = now
        if done >= count:
            break
        await asyncio.sleep(0.1)
    if started == now:
        # Everything was applied between two polls (a short run): fall back to the
        # span of the inbox's applied_at stamps (misses the first batch, so generous).
        return max(await applied_span(runtime), 1e-3)
    return now - (started or now)


async def applied_span(runtime: ServiceRuntime) -> float:
    async with runtime.db.session() as session:
        first, last = (
            await session.exec(
                select(func.min(InboxEntry.applied_at), func.max(InboxEntry.applied_at))
            )
        ).one()
    return float((last - first).total_seconds()) if first and last else 0.0


class Clock:
    """Counts handled messages and stamps the first and the last."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.seen = 0
        self.first = 0.0
        self.last = 0.0
        self.done = asyncio.Event()

    def tick(self, n: int = 1) -> None:
        now = time.perf_counter()
        self.first = self.first or now
        self.seen += n
        if self.seen >= self.expected:
            self.last = now
            self.done.set()


async def _json_body(message: StreamMessage[Any]) -> Any:
    # FastStream decodes JSON only for `application/json`; the events carry CloudEvents'
    # `application/cloudevents+json`, which it would hand over as bytes (and a handler
    # typed `dict` would then fail on every message). Decode as it does for JSON.
    return json.loads(message.body)


async def _json_bodies(message: StreamMessage[Any]) -> Any:
    bodies: list[bytes] = message.body  # type: ignore[assignment]  # a batch's bodies
    return [json.loads(body) for body in bodies]


async def faststream_republish(bootstrap: str, count: int, batch: bool) -> float:
    """Seconds for a bare FastStream handler to consume and republish every message
    (each body decoded from JSON, as FastStream does for a JSON content type)."""
    broker = KafkaBroker(bootstrap, acks="all", logger=None)
    clock = Clock(count)
    group = f"bench-bare-{uuid.uuid4().hex[:6]}"
    out = broker.publisher(f"{TOPIC}.republished")
    if batch:

        @broker.subscriber(
            TOPIC,
            batch=True,
            max_records=500,
            batch_timeout_ms=5,
            group_id=group,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            decoder=_json_bodies,
        )
        async def republish_batch(bodies: list[dict[str, object]], message: KafkaMessage) -> None:
            for body in bodies:
                await out.publish(body, no_confirm=True)
            await message.ack()
            clock.tick(len(bodies))

    else:

        @broker.subscriber(TOPIC, group_id=group, auto_offset_reset="earliest", decoder=_json_body)
        @broker.publisher(f"{TOPIC}.republished")
        async def republish(body: dict[str, object]) -> dict[str, object]:
            clock.tick()
            return body

    await broker.start()
    freeze_startup_heap()  # the same as the runtime gets, so that the ratio compares the work
    try:
        await asyncio.wait_for(clock.done.wait(), timeout=60 + count / 50)
    finally:
        await broker.stop()
    return max(clock.last - clock.first, 1e-3)


async def main(count: int, kind: str, databases: list[str]) -> None:
    work = Path(tempfile.mkdtemp(prefix="dps-bench-"))
    port = processes.free_port()
    broker = processes.tansu(port, work)
    broker.start()
    rates: dict[str, float] = {}
    try:
        processes.wait_for_port(broker, port, timeout=20)
        bootstrap = f"127.0.0.1:{port}"
        produced = await produce(bootstrap, count, kind)
        rates["produce (acks=all)"] = count / produced
        rates["raw aiokafka consume"] = count / await raw_consume(bootstrap, count)
        rates["bare FastStream republish, per message"] = count / await faststream_republish(
            bootstrap, count, batch=False
        )
        rates["bare FastStream republish, batches"] = count / await faststream_republish(
            bootstrap, count, batch=True
        )
        for database in databases:
            try:
                with fresh_database(database, work, "placements") as url:
                    seconds = await runtime_consume(bootstrap, url, work, count)
            except RuntimeError as exc:
                print(f"{database}: skipped ({exc})")
                continue
            rates[f"placements ingest, {database}"] = count / seconds
    finally:
        broker.stop()
    report(count, kind, rates)


def report(count: int, kind: str, rates: dict[str, float]) -> None:
    name = "ehc.plan.issued" if kind == "issued" else "ehc.placement.requested"
    bare = rates["bare FastStream republish, per message"]
    raw = rates["raw aiokafka consume"]
    print(f"{count} {name} events on one broker; ratios against two baselines of this run")
    print(f"{'':42} {'events/s':>10} {'/ bare FS':>10} {'/ raw':>8}")
    for label, rate in rates.items():
        print(f"{label:42} {rate:10.0f} {rate / bare:10.2f} {rate / raw:8.3f}")
    print("targets (issue 20): PostgreSQL >= bare FastStream batched (ratio >= 1.0);")
    print("         SQLite >= 0.25 of raw aiokafka consume")
    if kind == "issued":
        record_figures(rates)


def record_figures(rates: dict[str, float]) -> None:
    """The issue's two EHC ingest rows, for `make bench`'s summary table."""
    batched = rates["bare FastStream republish, batches"]
    raw = rates["raw aiokafka consume"]
    postgres = rates.get("placements ingest, postgres")
    sqlite = rates.get("placements ingest, sqlite")
    if postgres is not None:
        bench_report.record(
            "EHC ingest on PostgreSQL ÷ bare FastStream batched republish",
            f"{postgres:,.0f} events/s",
            f"bare FastStream batched republish {batched:,.0f}/s",
            postgres / batched,
            "≥ 1.0× (issue 20 baseline 0.38×, 5,395/s)",  # noqa: RUF001
        )
    if sqlite is not None:
        bench_report.record(
            "EHC ingest on SQLite ÷ raw aiokafka consume",
            f"{sqlite:,.0f} events/s",
            f"raw aiokafka consume {raw:,.0f}/s",
            sqlite / raw,
            "≥ 0.25 (issue 20 baseline 0.148)",
        )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--type", choices=("issued", "requested"), default="issued")
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args()
    configure_logging("bench", "WARNING", False)  # per-event debug lines would dominate
    asyncio.run(main(args.events, args.type, args.databases.split(",")))


if __name__ == "__main__":
    cli()
