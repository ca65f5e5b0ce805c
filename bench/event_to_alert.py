"""Event-to-alert latency at a steady load, next to the raw broker round trip.

Run: `python -m bench.event_to_alert [--rate 100] [--seconds 10]`. Starts its own Tansu
broker on a free port and a monitoring runtime (SQLite, no Temporal) in this process,
then:

1. raw round trip: produce -> consume of messages the size of an inspection event on a
   scratch topic, at the same rate, to show what the broker alone costs;
2. event to alert: `provider.inspection_recorded` (inadequate, a new provider each, so
   each is a new cause) at a steady rate; latency is from the producer's send to the
   `quality.alert.raised` for that event arriving on `quality.v1` (consumer, rules,
   alert row, outbox, relay and broker, end to end).

A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench import report, service_process
from dps import processes
from shared.contracts import providers_v1
from shared.envelope import Envelope, new_event
from shared.logging import configure_logging
from shared.settings import settings_for

ROUNDTRIP_TOPIC = "bench.roundtrip"


def inspection_event(index: int) -> Envelope:
    provider_id = f"bench-p-{index:06d}"
    payload = providers_v1.ProviderInspectionRecorded.model_validate(
        {
            "provider_id": provider_id,
            "urn": 100000 + index,
            "name": f"Bench School {index}",
            "new": {
                "inspected_on": date(2026, 1, 5).isoformat(),
                "overall": "inadequate",
                "equivalent_judgement": "inadequate",
            },
            "declined": True,
        }
    )
    return new_event(
        providers_v1.PROVIDER_INSPECTION_RECORDED,
        source="bench",
        subject=provider_id,
        data=payload,
        topic=providers_v1.TOPIC,
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(name: str, latencies_ms: list[float], expected: int) -> str:
    if not latencies_ms:
        return f"{name:<28} no samples (0/{expected})"
    return (
        f"{name:<28} n={len(latencies_ms)}/{expected}  "
        f"p50={percentile(latencies_ms, 0.50):7.1f} ms  "
        f"p99={percentile(latencies_ms, 0.99):7.1f} ms  "
        f"max={max(latencies_ms):7.1f} ms  mean={statistics.fmean(latencies_ms):7.1f} ms"
    )


async def steady_send(
    producer: AIOKafkaProducer,
    messages: list[tuple[str, bytes, bytes]],
    rate: float,
    sent_at: dict[str, float],
) -> None:
    """Send at a fixed schedule (not as fast as possible), stamping each send time."""
    start = time.perf_counter()
    for index, (ident, key, value) in enumerate(messages):
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent_at[ident] = time.perf_counter()
        topic = ROUNDTRIP_TOPIC if ident.startswith("rt-") else providers_v1.TOPIC
        await producer.send(topic, value, key=key)
    await producer.flush()


async def collect(
    consumer: AIOKafkaConsumer,
    expected: int,
    sent_at: dict[str, float],
    ident_of: Callable[[bytes], list[str]],
    timeout_s: float,
) -> list[float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + timeout_s
    while len(latencies) < expected and time.perf_counter() < deadline:
        batches = await consumer.getmany(timeout_ms=200)
        received = time.perf_counter()
        for records in batches.values():
            for record in records:
                for ident in ident_of(record.value):
                    if ident in sent_at:
                        latencies.append((received - sent_at.pop(ident)) * 1000)
    return latencies


async def ready_consumer(bootstrap: str, topic: str, fetch_wait_ms: int) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        fetch_max_wait_ms=fetch_wait_ms,
    )
    await consumer.start()
    await consumer.getmany(timeout_ms=500)  # join and fetch metadata before the clock runs
    return consumer


async def raw_round_trip(
    bootstrap: str, size: int, rate: float, count: int, fetch_wait_ms: int
) -> list[float]:
    consumer = await ready_consumer(bootstrap, ROUNDTRIP_TOPIC, fetch_wait_ms)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await producer.start()
    sent_at: dict[str, float] = {}
    messages = []
    for index in range(count):
        ident = f"rt-{fetch_wait_ms}-{index}"
        body = json.dumps({"id": ident}).encode()
        messages.append((ident, ident.encode(), body + b" " * max(0, size - len(body))))
    try:
        sender = asyncio.create_task(steady_send(producer, messages, rate, sent_at))
        latencies = await collect(
            consumer, count, sent_at, lambda v: [json.loads(v)["id"]], count / rate + 30
        )
        await sender
        return latencies
    finally:
        await producer.stop()
        await consumer.stop()


def alert_evidence(value: bytes) -> list[str]:
    body = json.loads(value)
    if body.get("type") != "quality.alert.raised":
        return []
    return list(body["data"]["evidence_refs"])


async def event_to_alert(
    bootstrap: str, rate: float, first: int, count: int, fetch_wait_ms: int
) -> list[float]:
    consumer = await ready_consumer(bootstrap, "quality.v1", fetch_wait_ms)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await producer.start()
    events = [inspection_event(index) for index in range(first, first + count)]
    messages = [(e.id, e.key, e.to_bytes()) for e in events]
    sent_at: dict[str, float] = {}
    try:
        sender = asyncio.create_task(steady_send(producer, messages, rate, sent_at))
        latencies = await collect(consumer, count, sent_at, alert_evidence, count / rate + 60)
        await sender
        return latencies
    finally:
        await producer.stop()
        await consumer.stop()


def record_figures(alerts: list[float], raw: list[float], wait: int) -> None:
    """The issue's rows: p50 and p99 of event to alert over the raw round trip's p50 and
    p99 at the same fetch wait (two hops against one)."""
    for name, share, target in (("p50", 0.50, "at most 3 times"), ("p99", 0.99, "at most 5 times")):
        got = percentile(alerts, share) if alerts else None
        base = percentile(raw, share) if raw else None
        report.record(
            f"inspection event → quality.alert.raised, {name} over two hops",
            "no alerts" if got is None else f"{got:.1f} ms",
            "no samples"
            if base is None
            else f"raw broker round trip {name} {base:.1f} ms at {wait} ms fetch wait",
            got / base if got is not None and base else None,
            target,
        )


def monitoring_env(work: Path, bootstrap: str) -> dict[str, str]:
    return {
        "DPS_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'monitoring.db'}",
        "DPS_DATA_DIR": str(work),
        "DPS_KAFKA_BOOTSTRAP": bootstrap,
        "DPS_JWT_SECRET": "bench-secret-0123456789abcdef0123456789",
        "DPS_CONSUMER_SESSION_TIMEOUT_MS": "2000",
        "DPS_LOG_LEVEL": "WARNING",
    }


async def main(rate: float, seconds: float) -> None:
    configure_logging("bench", "WARNING", as_json=False)
    count = int(rate * seconds)
    wait = settings_for("monitoring").consumer_fetch_max_wait_ms
    with tempfile.TemporaryDirectory(prefix="dps-bench-") as tmp:
        work = Path(tmp)
        port = processes.free_port()
        broker = processes.tansu(port, work)
        broker.start()
        bootstrap = f"127.0.0.1:{port}"
        monitoring: subprocess.Popen[bytes] | None = None
        try:
            processes.wait_for_port(broker, port, timeout=20)
            # Monitoring runs in its own process, as deployed: the measuring producer and
            # collector below must not share its event loop.
            monitoring = service_process.spawn(
                "monitoring", monitoring_env(work, bootstrap), log=work / "monitoring.log"
            )
            # Warm up until alerts flow (group joined, topics created, caches filled).
            warmed = await event_to_alert(bootstrap, rate, 10**6, int(rate * 2), wait)
            size = len(inspection_event(0).to_bytes())
            print(f"rate {rate:.0f}/s for {seconds:.0f} s ({count} events, {size} bytes each)")
            print(f"warm-up: {len(warmed)} alerts seen")
            raw = await raw_round_trip(bootstrap, size, rate, count, wait)
            print(summary(f"raw round trip, {wait} ms wait", raw, count))
            alerts = await event_to_alert(bootstrap, rate, 0, count, wait)
            print(summary("event -> quality.alert.raised", alerts, count))
            ratio = percentile(alerts, 0.5) / percentile(raw, 0.5) if alerts and raw else 0
            print(f"{'event to alert / raw (p50)':<28} {ratio:.1f}x (two hops: in and out)")
            record_figures(alerts, raw, wait)
            default = await raw_round_trip(bootstrap, size, rate, count, 500)
            print(summary("raw round trip, 500 ms wait", default, count))
        finally:
            if monitoring is not None:
                monitoring.terminate()
                monitoring.wait(timeout=30)
            broker.stop()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=100.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each phase")
    args = parser.parse_args()
    asyncio.run(main(args.rate, args.seconds))


if __name__ == "__main__":
    cli()
