"""The cost of auditing reads: monitoring's open alerts next to /healthz, in one process.

Fills a fresh SQLite monitoring database with `--alerts` alerts about placements, a
quarter of them open, then asks for the open ones (GET /alerts?status=open, the route's
default page of 200), for as many open alerts about one provider alone (whose reads are
not audited: the same route and body size without the audit) and for /healthz through the ASGI app (httpx ASGITransport: routing,
auth, validation, serialisation and the read's audit rows included, no network), one
request at a time. Prints each one's p50 wall time and CPU per request (process time,
every thread: aiosqlite's included) and the ratios. `--profile audited` (or
`unaudited`) also prints the cProfile of those alert requests.

    python -m bench.audit_reads [--alerts 800] [--requests 100] [--profile audited|unaudited]

A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from faststream.kafka import KafkaBroker
from sqlalchemy import func
from sqlmodel import select

from dps.services import definition_of
from services.monitoring.models import AlertRow
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.infra_models import AuditEntry
from shared.logging import configure_logging
from shared.runtime import ProcessRole, ServiceRuntime
from shared.settings import settings_for

Call = Callable[[], Awaitable[httpx.Response]]
PROVIDER = "URN-999999"  # the provider whose open alerts name no placement
OPEN = {"status": "open"}


def _runtime(data_dir: Path) -> ServiceRuntime:
    settings = settings_for(
        "monitoring",
        data_dir=data_dir,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'bench.db'}",
        jwt_secret="bench-secret-0123456789abcdef0123456789",
        log_json=False,
        log_level="WARNING",
    )
    # API only: no broker, relay or worker, so nothing else competes for the loop.
    return ServiceRuntime(
        definition_of("monitoring"),
        settings,
        frozenset({ProcessRole.API}),
        use_temporal=False,
        watch_broker=False,
        shared_broker=KafkaBroker(),
    )


def _alert(i: int, raised: datetime) -> AlertRow:
    status = "open" if i % 4 == 0 else "resolved"
    return AlertRow(
        alert_id=f"al-{i:05d}",
        dedupe_key=f"bench:{i}",
        open_key=f"bench:{i}" if status == "open" else None,
        rule_id="placement.review_overdue",
        rule_version=1,
        title="Annual review overdue",
        severity=("low", "medium", "high")[i % 3],
        target="placement",
        target_id=f"pl-{i:05d}",
        provider_id=f"URN-{i % 50:06d}",
        placement_id=f"pl-{i:05d}",
        cause="the annual review is more than 28 days overdue",
        evidence_kind="review",
        evidence_refs=[f"review:{i}"],
        raised_at=raised - timedelta(minutes=i),
        status=status,
    )


def _provider_alert(alert: AlertRow) -> AlertRow:
    # The same alert about a provider alone: reading it is not audited.
    return AlertRow.model_validate(
        alert.model_dump()
        | {
            "alert_id": f"pv-{alert.alert_id}",
            "dedupe_key": f"provider:{alert.dedupe_key}",
            "open_key": f"provider:{alert.open_key}",
            "target": "provider",
            "provider_id": PROVIDER,
            "placement_id": None,
            "raised_at": alert.raised_at - timedelta(days=365),  # under the placements'
        }
    )


async def _seed(runtime: ServiceRuntime, alerts: int) -> None:
    raised = datetime(2026, 12, 1, tzinfo=UTC)
    about_placements = [_alert(i, raised) for i in range(alerts)]
    about_a_provider = [_provider_alert(a) for a in about_placements if a.status == "open"]
    async with runtime.db.transaction() as session:
        session.add_all([*about_placements, *about_a_provider])


async def _audit_rows(runtime: ServiceRuntime) -> int:
    async with runtime.db.session() as session:
        return int((await session.exec(select(func.count()).select_from(AuditEntry))).one())


@dataclass
class Figures:
    wall_ms: list[float]
    cpu_ms: float  # per request

    @property
    def p50(self) -> float:
        return statistics.median(self.wall_ms)


async def _timed(call: Call, requests: int, profile: cProfile.Profile | None = None) -> Figures:
    for _ in range(max(5, requests // 10)):  # warm caches and the connection pool
        (await call()).raise_for_status()
    samples = []
    cpu = time.process_time()
    if profile:
        profile.enable()
    for _ in range(requests):
        started = time.perf_counter()
        response = await call()
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    if profile:
        profile.disable()
    return Figures(samples, (time.process_time() - cpu) * 1000 / requests)


async def main(alerts: int, requests: int, profile: str | None) -> None:
    configure_logging("monitoring", "WARNING", as_json=False)  # no request pays for a log line
    profiler = cProfile.Profile() if profile else None
    with tempfile.TemporaryDirectory() as scratch:
        runtime = _runtime(Path(scratch))
        await asyncio.to_thread(runtime.migrate)
        await _seed(runtime, alerts)
        token = issue_token(runtime.settings.signing_secret(), Role.MONITORING_OFFICER)
        headers = {"Authorization": f"Bearer {token}", "X-Access-Reason": "bench 2026/1"}
        transport = httpx.ASGITransport(app=runtime.build_app())
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as client:
            returned = len((await client.get("/alerts", params=OPEN)).json())
            health = await _timed(lambda: client.get("/healthz"), requests)
            unaudited = await _timed(
                lambda: client.get("/alerts", params=OPEN | {"provider_id": PROVIDER}),
                requests,
                profiler if profile == "unaudited" else None,
            )
            listed = await _timed(
                lambda: client.get("/alerts", params=OPEN),
                requests,
                profiler if profile == "audited" else None,
            )
        audited = await _audit_rows(runtime)
        await runtime.db.dispose()
    print(f"{returned} open alerts returned of {alerts}; {requests} requests each")
    print(f"audit rows written: {audited}")
    print(f"{'request':<34}{'p50 ms':>8}{'÷ /healthz':>12}{'CPU ms/req':>12}{'÷ /healthz':>12}")
    for name, figures in (
        ("/healthz", health),
        ("open alerts, none audited", unaudited),
        ("open alerts (each read audited)", listed),
    ):
        print(
            f"{name:<34}{figures.p50:>8.2f}{figures.p50 / health.p50:>12.1f}"
            f"{figures.cpu_ms:>12.2f}{figures.cpu_ms / health.cpu_ms:>12.1f}"
        )
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(45)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=800)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--profile", choices=["audited", "unaudited"])
    args = parser.parse_args()
    asyncio.run(main(args.alerts, args.requests, args.profile))
