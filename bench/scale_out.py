"""Scale-out: EHC ingest throughput with one and with two placements consumer processes in
one consumer group, sharing one database, on the same broker and messages in one run.

    python -m bench.scale_out [--events 40000] [--databases postgres,sqlite]

Each run reads the topic from the start under a new consumer group into a fresh database,
and is timed from the first applied event to the last (group joins excluded). The topic
has 4 partitions, so up to 4 processes can share the work; on 2 cores the processes,
the broker and the database server compete for the same CPUs. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bench import service_process
from bench.databases import fresh_database
from bench.ehc_ingest import produce
from dps import processes
from shared.db import async_url, migrate
from shared.infra_models import InboxEntry

MIGRATIONS = Path(__file__).resolve().parents[1] / "services" / "placements" / "migrations"


async def applied(url: str) -> int:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as conn:
            query = select(func.count()).select_from(InboxEntry.__table__)  # type: ignore[attr-defined]
            return int((await conn.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def ingest(bootstrap: str, url: str, work: Path, count: int, members: int) -> float:
    """Seconds for `members` consumer processes in one group to apply every event."""
    migrate(url, MIGRATIONS)  # once, before the processes race to do it
    env = {
        "DPS_DATABASE_URL": url,
        "DPS_DATA_DIR": str(work),
        "DPS_KAFKA_BOOTSTRAP": bootstrap,
        "DPS_CONSUMER_GROUP": f"bench-scale-{uuid.uuid4().hex[:6]}",
        "DPS_JWT_SECRET": "bench-secret-0123456789abcdef0123456789",
        "DPS_LOG_LEVEL": "WARNING",
    }
    group = [
        service_process.spawn("placements", env, roles="consumer", log=work / f"member-{i}.log")
        for i in range(members)
    ]
    started: float | None = None
    try:
        while (done := await applied(url)) < count:
            if done and started is None:
                started = time.perf_counter()
            if any(p.poll() is not None for p in group):
                raise RuntimeError(f"a consumer process exited; see {work}/member-*.log")
            await asyncio.sleep(0.05)
        return time.perf_counter() - (started or time.perf_counter())
    finally:
        for process in group:
            process.terminate()
        for process in group:
            process.wait(timeout=30)


async def main(count: int, databases: list[str]) -> None:
    work = Path(tempfile.mkdtemp(prefix="dps-bench-"))
    port = processes.free_port()
    broker = processes.tansu(port, work)
    broker.start()
    results: list[tuple[str, int, float]] = []
    try:
        processes.wait_for_port(broker, port, timeout=20)
        bootstrap = f"127.0.0.1:{port}"
        await produce(bootstrap, count, "issued")
        for database in databases:
            for members in (1, 2):
                try:
                    with fresh_database(database, work, "scale") as url:
                        seconds = await ingest(bootstrap, url, work, count, members)
                except RuntimeError as exc:
                    print(f"{database}, {members} process(es): skipped ({exc})")
                    break
                results.append((database, members, count / seconds))
    finally:
        broker.stop()
    print(f"{count} ehc.plan.issued events, 4 partitions, 2 cores")
    print(f"{'database':10} {'processes':>9} {'events/s':>10} {'/ one process':>14}")
    for database, members, rate in results:
        one = next(r for d, m, r in results if d == database and m == 1)
        print(f"{database:10} {members:9} {rate:10.0f} {rate / one:14.2f}")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--databases", default="postgres,sqlite")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.databases.split(",")))


if __name__ == "__main__":
    cli()
