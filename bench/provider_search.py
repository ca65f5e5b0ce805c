"""Latency of the provider register's filtered distance search next to a plain get by id.

Loads 5,000 generated providers (the GIAS generator, through the import path) into a
fresh SQLite database, then measures both requests in the same run through the ASGI app
(httpx ASGITransport: routing, auth, validation and serialisation included, no network).

    python -m bench.provider_search [--providers 5000] [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

import httpx
from faststream.kafka import KafkaBroker
from sqlmodel import select

from services.provider_registry import gias
from services.provider_registry.app import definition
from services.provider_registry.cli import import_extract
from services.provider_registry.models import ProviderRow
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.logging import configure_logging
from shared.runtime import ProcessRole, ServiceRuntime
from shared.settings import settings_for
from shared.unit_of_work import Actor

SEARCH: dict[str, str | int] = {"need": "ASD", "near": "ME14 1XX", "within_km": 40, "limit": 50}


def _runtime(data_dir: Path) -> ServiceRuntime:
    settings = settings_for(
        "provider_registry",
        data_dir=data_dir,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'bench.db'}",
        jwt_secret="bench-secret-0123456789abcdef0123456789",
        log_json=False,
        log_level="WARNING",
    )
    # API only: no broker, relay or worker, so nothing else competes for the loop.
    return ServiceRuntime(
        definition,
        settings,
        frozenset({ProcessRole.API}),
        use_temporal=False,
        watch_broker=False,
        shared_broker=KafkaBroker(),
    )


async def _load(runtime: ServiceRuntime, providers: int) -> list[str]:
    rows = gias.generate_extract(providers, seed=2026)
    summary = await import_extract(
        gias.write_extract_csv(rows),
        runtime.db,
        actor=Actor(id="bench", role="admin"),
        today=date(2026, 1, 1),
    )
    async with runtime.db.session() as session:
        ids = list((await session.exec(select(ProviderRow.id))).all())
    print(f"loaded {summary.created} providers ({len(summary.rejected)} rejected)")
    return ids


async def _timed(call: Callable[[], Awaitable[httpx.Response]], requests: int) -> list[float]:
    for _ in range(max(5, requests // 10)):  # warm caches and the connection pool
        (await call()).raise_for_status()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = await call()
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples


def _percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


async def main(providers: int, requests: int) -> None:
    # As in the other benchmarks: no request pays for a log line, none floods the output.
    configure_logging("bench", "WARNING", as_json=False)
    with tempfile.TemporaryDirectory() as scratch:
        runtime = _runtime(Path(scratch))
        await asyncio.to_thread(runtime.migrate)
        ids = await _load(runtime, providers)
        token = issue_token(runtime.settings.signing_secret(), Role.COMMISSIONER)
        transport = httpx.ASGITransport(app=runtime.build_app())
        headers = {"Authorization": f"Bearer {token}"}
        rng = random.Random(1)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as client:
            found = (await client.get("/providers", params=SEARCH)).json()["total"]
            search = await _timed(lambda: client.get("/providers", params=SEARCH), requests)
            by_id = await _timed(lambda: client.get(f"/providers/{rng.choice(ids)}"), requests)
        await runtime.db.dispose()
    print(f"search {SEARCH} matches {found} of {len(ids)}; {requests} requests each")
    print(f"{'request':<28}{'p50 ms':>10}{'p99 ms':>10}")
    figures = {"distance search (page 50)": search, "get by id": by_id}
    for name, samples in figures.items():
        print(f"{name:<28}{_percentile(samples, 50):>10.2f}{_percentile(samples, 99):>10.2f}")
    p50 = _percentile(search, 50) / _percentile(by_id, 50)
    p99 = _percentile(search, 99) / _percentile(by_id, 99)
    print(f"{'ratio search / get':<28}{p50:>10.1f}{p99:>10.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.providers, args.requests))
