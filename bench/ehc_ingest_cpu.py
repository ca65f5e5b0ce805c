"""EHC ingest CPU in one process, no broker: a placements consumer on a fresh database
applies `ehc.plan.issued` events handed to `EventConsumer.process` in batches, as the
Kafka subscriber hands them over. Prints client CPU and wall time per 1,000 events
(CPU of this process only: the database server's is not counted).

    python -m bench.ehc_ingest_cpu [--databases sqlite,postgres] [--events 10000]
                                   [--batch 500] [--profile FILE]

The steady measure for changes to the ingest path; `bench.ehc_ingest` measures the
whole pipeline through a broker. Prints figures; it is not a test and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import ConsumerRecord

from bench.databases import fresh_database
from bench.ehc_ingest import STRUCTURED, TOPIC, ehc_event
from services.placements.app import definition
from shared.consumer import EventConsumer
from shared.logging import configure_logging
from shared.runtime import ProcessRole, ServiceRuntime, freeze_startup_heap
from shared.settings import settings_for


def record(offset: int, value: bytes) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(
        topic=TOPIC,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value),
        headers=STRUCTURED,
    )


def consumer_on(url: str, data_dir: Path) -> tuple[ServiceRuntime, EventConsumer]:
    settings = settings_for(
        "placements",
        database_url=url,
        data_dir=data_dir,
        kafka_bootstrap="127.0.0.1:1",  # never connected: no broker is started
        jwt_secret="bench-secret-0123456789abcdef0123456789",
        log_level="WARNING",
    )
    runtime = ServiceRuntime(
        definition, settings, frozenset({ProcessRole.CONSUMER}), use_temporal=False
    )
    runtime.migrate()
    return runtime, next(c for c in runtime.consumers if c.topic == TOPIC)


async def measure(kind: str, events: int, batch: int, profile: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp, fresh_database(kind, Path(tmp), "cpu") as url:
        runtime, consumer = consumer_on(url, Path(tmp))
        warm_up = [record(i, ehc_event(900_000 + i, "issued").to_bytes()) for i in range(50)]
        await consumer.process(warm_up)  # first statements compile and connect
        freeze_startup_heap()  # as a service process does once started (not the records)
        records = [record(i, ehc_event(i, "issued").to_bytes()) for i in range(events)]
        profiler = cProfile.Profile(time.process_time)
        cpu, wall = time.process_time(), time.perf_counter()
        if profile:
            profiler.enable()
        for start in range(0, events, batch):
            await consumer.process(records[start : start + batch])
        if profile:
            profiler.disable()
            profiler.dump_stats(profile)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        await runtime.db.dispose()
    per = 1000 / events * 1000
    print(f"{kind:8} CPU {cpu * per:6.1f} ms, wall {wall * per:6.1f} ms per 1,000 events")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--profile", type=Path, help="write cProfile stats (CPU time) here")
    args = parser.parse_args()
    configure_logging("bench", "WARNING", False)
    for kind in args.databases.split(","):
        asyncio.run(measure(kind, args.events, args.batch, args.profile))


if __name__ == "__main__":
    cli()
