"""Per-event cost of monitoring's inbound path, in process: SQL statements, database
thread hops and CPU per inspection event, applied in consumer batches and then relayed.

Run: `python -m bench.alert_path [--batch 1 10] [--batches 30]`. Monitoring's providers.v1
consumer applies batches of `provider.inspection_recorded` (inadequate, a new provider
each, so each raises an alert), then the outbox relay publishes what they caused to a
publisher that does nothing. Statements are counted by engine events; thread hops (each
a round trip to aiosqlite's thread) by wrapping aiosqlite's queue. CPU is process time.

A measurement, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker, TestKafkaBroker
from sqlalchemy import event

from bench.event_to_alert import inspection_event
from dps.services import definition_of
from shared.contracts import providers_v1
from shared.envelope import Envelope
from shared.logging import configure_logging
from shared.outbox import OutboxRelay
from shared.runtime import ProcessRole, ServiceRuntime
from shared.settings import settings_for


def records(envelopes: Sequence[Envelope], first_offset: int) -> list[ConsumerRecord[Any, Any]]:
    return [
        ConsumerRecord(
            topic=providers_v1.TOPIC,
            partition=0,
            offset=first_offset + n,
            timestamp=0,
            timestamp_type=0,
            key=e.key,
            value=e.to_bytes(),
            checksum=None,
            serialized_key_size=len(e.key),
            serialized_value_size=len(e.to_bytes()),
            headers=[("content-type", b"application/cloudevents+json")],
        )
        for n, e in enumerate(envelopes)
    ]


class Counts:
    def __init__(self) -> None:
        self.statements = 0
        self.hops = 0

    def reset(self) -> tuple[int, int]:
        taken = self.statements, self.hops
        self.statements = self.hops = 0
        return taken


def count_hops(counts: Counts) -> None:
    original: Callable[..., Awaitable[Any]] = aiosqlite.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counts.hops += 1
        return await original(self, fn, *args, **kwargs)

    aiosqlite.Connection._execute = counted  # type: ignore[method-assign]


async def noop_publish(
    _topic: str, _key: bytes, _value: bytes, _headers: dict[str, str], _partition: int | None
) -> Awaitable[None]:
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    done.set_result(None)
    return done


async def measure(runtime: ServiceRuntime, batch: int, batches: int, counts: Counts) -> None:
    consumer = next(c for c in runtime.consumers if c.topic == providers_v1.TOPIC)
    relay = OutboxRelay(runtime.db, noop_publish, service="monitoring", batch_size=500)
    first = 10**6 * batch
    # Warm up: caches, the rule versions, statement compilation.
    for n in range(3):
        events = [inspection_event(first + n * batch + i) for i in range(batch)]
        await consumer.process(records(events, n * batch))
        await relay.publish_pending()
    counts.reset()
    apply_cpu = relay_cpu = 0.0
    apply_counts = [0, 0]
    relay_counts = [0, 0]
    for n in range(batches):
        events = [inspection_event(first + 10**5 + n * batch + i) for i in range(batch)]
        started = time.process_time()
        await consumer.process(records(events, 10**4 + n * batch))
        apply_cpu += time.process_time() - started
        statements, hops = counts.reset()
        apply_counts[0] += statements
        apply_counts[1] += hops
        started = time.process_time()
        published = await relay.publish_pending()
        relay_cpu += time.process_time() - started
        statements, hops = counts.reset()
        relay_counts[0] += statements
        relay_counts[1] += hops
        assert published == batch, published  # one quality.alert.raised per event
    n_events = batch * batches
    print(
        f"batch {batch:>3}: per event  apply {apply_counts[0] / n_events:5.2f} statements "
        f"{apply_counts[1] / n_events:5.2f} hops {apply_cpu / n_events * 1000:6.2f} ms CPU | "
        f"relay {relay_counts[0] / n_events:5.2f} statements {relay_counts[1] / n_events:5.2f} "
        f"hops {relay_cpu / n_events * 1000:6.2f} ms CPU"
    )


async def main(batch_sizes: Sequence[int], batches: int) -> None:
    configure_logging("bench", "WARNING", as_json=False)
    counts = Counts()
    count_hops(counts)
    with tempfile.TemporaryDirectory(prefix="dps-bench-") as tmp:
        work = Path(tmp)
        broker = KafkaBroker()
        settings = settings_for(
            "monitoring",
            database_url=f"sqlite+aiosqlite:///{work / 'monitoring.db'}",
            data_dir=work,
            kafka_bootstrap="127.0.0.1:1",
            jwt_secret="bench-secret-0123456789abcdef0123456789",
        )
        runtime = ServiceRuntime(
            definition_of("monitoring"),
            settings,
            frozenset({ProcessRole.CONSUMER}),
            use_temporal=False,
            watch_broker=False,
            shared_broker=broker,
        )

        def statement(*_args: Any) -> None:
            counts.statements += 1

        event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", statement)
        async with TestKafkaBroker(broker):
            await runtime.start()
            try:
                for batch in batch_sizes:
                    await measure(runtime, batch, batches, counts)
            finally:
                await runtime.stop()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 10], help="batch sizes")
    parser.add_argument("--batches", type=int, default=30, help="batches measured per size")
    args = parser.parse_args()
    asyncio.run(main(args.batch, args.batches))


if __name__ == "__main__":
    cli()
