"""`python -m bench.soak`: keyed events through all four services on the embedded stack
started as `make up` starts it (`dps up` and its supervisor), while every process of the
stack (each service, the Tansu broker, the Temporal server) is killed with -9 at random
moments; then every event must be applied exactly once, in its key's order, and every
workflow must exist. Bounded, on demand; not in CI nor in `make bench`'s default list.

Events (each checkable at the end from the services' own databases):
- `ehc.placement.requested` then `ehc.plan.amended` x (per-key - 1) per child, keyed by
  child reference, sent on ehc.plans.v1 as a council's system would -> placements;
- `placement.need.raised` (placements' outbox, one per child) -> procurement;
- providers registered and inspections recorded over HTTP at the registry (with
  Idempotency-Key, retried through kills) -> providers.v1 -> monitoring, procurement,
  placements; inadequate inspections -> critical alerts -> escalation workflows;
- anything else a service publishes that another consumes (procurement.v1, quality.v1).
Expected events and their per-key order come from the sender and from the producers'
outbox tables (seq); applications from the consumers' inbox tables; needs per child from
placements; workflows from Temporal.

The broker is in memory: when it is killed, the services replay their outboxes (the
stack does that), and this sender, as a council's system must (docs/reliability.md),
sends again the EHC events placements has not applied, before sending anything new.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from temporalio.client import Client
from temporalio.service import RPCError

from bench import report as bench_report
from bench.soak.checker import Expected, Verdict, check_applied, check_counts
from dps import processes
from shared.contracts import procurement_v1, providers_v1, quality_v1
from shared.contracts.common import Role
from shared.envelope import Envelope
from shared.settings import SERVICES
from tests.e2e.conftest import BROKER, TEMPORAL, SupervisedStack
from tests.e2e.steps import placement_request, token
from tests.e2e.test_faults import drained
from tests.fixtures import provider_body

EHC_TOPIC = "ehc.plans.v1"
VICTIMS = [*SERVICES, BROKER, TEMPORAL]
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

# Consumer -> topic -> the event types it applies (its handlers; others never reach its
# inbox). From services/*/handlers.py.
HANDLED: dict[str, dict[str, set[str]]] = {
    "placements": {
        providers_v1.TOPIC: {
            providers_v1.PROVIDER_REGISTERED,
            providers_v1.PROVIDER_UPDATED,
            providers_v1.PROVIDER_STATUS_CHANGED,
        },
        procurement_v1.TOPIC: {
            procurement_v1.CompetitionAwarded.TYPE,
            procurement_v1.CompetitionStandstillEnded.TYPE,
            procurement_v1.DirectAwardRecorded.TYPE,
        },
    },
    "procurement": {
        providers_v1.TOPIC: {
            providers_v1.PROVIDER_REGISTERED,
            providers_v1.PROVIDER_UPDATED,
            providers_v1.PROVIDER_STATUS_CHANGED,
            providers_v1.PROVIDER_DOCUMENT_EXPIRING,
        },
        "placements.v1": {"placement.need.raised"},
    },
    "monitoring": {
        providers_v1.TOPIC: {
            providers_v1.PROVIDER_REGISTERED,
            providers_v1.PROVIDER_UPDATED,
            providers_v1.PROVIDER_INSPECTION_RECORDED,
            providers_v1.PROVIDER_STATUS_CHANGED,
            providers_v1.PROVIDER_DOCUMENT_EXPIRING,
            providers_v1.PROVIDER_RECOMMENDATION_REJECTED,
        },
        "placements.v1": {
            "placement.contract.created",
            "placement.contract.varied",
            "placement.contract.uplift_requested",
            "placement.contract.ended",
            "placement.contract.terminated",
            "placement.review.scheduled",
            "placement.review.overdue",
            "placement.review.completed",
            "placement.spend.committed",
        },
        procurement_v1.TOPIC: {
            m.TYPE
            for m in (
                procurement_v1.ApplicationOverdue,
                procurement_v1.CompetitionOpened,
                procurement_v1.CompetitionClosed,
                procurement_v1.CompetitionNoSuitableBid,
                procurement_v1.SelfDeclarationOverdue,
                procurement_v1.NoticeOverdue,
                procurement_v1.CompetitionDeadlineAtRisk,
                procurement_v1.ProviderInvited,
                procurement_v1.BidReceived,
                procurement_v1.ApplicationDecided,
                procurement_v1.CompetitionAwarded,
                procurement_v1.ClarificationAnswered,
            )
        },
    },
    "provider_registry": {quality_v1.TOPIC: {quality_v1.SuspensionRecommended.TYPE}},
}


def say(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)


class SoakStack(SupervisedStack):
    """tests/e2e's `dps up` stack; with database URLs, each service on its own database
    (through bench.soak.up, the same CLI with the plan's URLs filled in)."""

    def __init__(self, data_dir: Path, database_urls: dict[str, str]) -> None:
        super().__init__(data_dir)
        self.database_urls = database_urls

    @property
    def env(self) -> dict[str, str]:
        return {
            **super().env,
            "DPS_SOAK_DATABASE_URLS": json.dumps(self.database_urls),
            # Many kills of one process within two minutes are the point here.
            "DPS_MAX_CRASHES": "100000",
        }

    def up(self, timeout: float = 300) -> None:
        real = subprocess.Popen

        def popen(argv: list[str], **kwargs: Any) -> Any:
            argv = ["bench.soak.up" if a == "dps.cli" else a for a in argv]
            argv.append(f"--mail-port={processes.free_port()}")  # beside other stacks
            argv.append("--console-port=0")  # the officers' console is not soaked
            return real(argv, **kwargs)

        with mock.patch.object(subprocess, "Popen", popen):
            super().up(timeout)

    def ready(self, service: str) -> bool:
        return service == "console" or super().ready(service)

    def engine(self, service: str) -> sa.Engine:
        url = self.database_urls.get(service) or f"sqlite:///{self.data_dir / service}.db"
        return sa.create_engine(url)


def as_time(value: Any) -> datetime:
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class EhcSender:
    """A council's SEND case system: per child one placement request, then amendments;
    children interleaved so a key's events fall in different batches."""

    def __init__(
        self, stack: SoakStack, children: int, per_key: int, run: str, rate: float = 0
    ) -> None:
        self.stack = stack
        self.rate = rate  # events/s; 0: as fast as the broker takes them
        self.children = [f"S{run}-{i:06d}" for i in range(children)]
        self.per_key = per_key
        self.sent: list[Envelope] = []  # in send order
        self.seq: dict[str, int] = {}  # event id -> its place in its child's sequence
        self.gate = asyncio.Lock()  # held while the broker is down and being refilled
        self.resent = 0

    def events(self, group: int = 200) -> Iterator[Envelope]:
        districts = ["ME14", "ME15", "ME16", "ME17"]
        for start in range(0, len(self.children), group):
            chunk = self.children[start : start + group]
            for seq in range(self.per_key):
                for child in chunk:
                    if seq == 0:
                        event = placement_request(child)
                    else:
                        event = Envelope(
                            type="ehc.plan.amended",
                            source="council/886/send-case-system",
                            subject=child,
                            data={"child_ref": child, "postcode_district": districts[seq % 4]},
                        )
                    event = event.model_copy(update={"id": f"soak-{child}-{seq}"})
                    self.seq[event.id] = seq
                    yield event

    async def send(self, batch: list[Envelope]) -> None:
        while True:
            try:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.stack.plan.kafka_bootstrap,
                    acks="all",
                    linger_ms=5,
                    request_timeout_ms=10000,
                )
                await producer.start()
                try:
                    futures = [
                        await producer.send(EHC_TOPIC, e.to_bytes(), key=e.key) for e in batch
                    ]
                    await asyncio.gather(*futures)
                finally:
                    await producer.stop()
                return
            except (KafkaError, OSError) as exc:
                say(f"ehc send retried: {exc!r}")
                await asyncio.sleep(1)

    async def run(self, chunk: int = 500) -> None:
        batch: list[Envelope] = []
        for event in self.events():
            batch.append(event)
            if len(batch) == chunk:
                await self.flush(batch)
                batch = []
        if batch:
            await self.flush(batch)

    async def flush(self, batch: list[Envelope]) -> None:
        started = time.monotonic()
        async with self.gate:
            self.sent += batch
            await self.send(batch)
        if self.rate:
            await asyncio.sleep(max(0.0, len(batch) / self.rate - (time.monotonic() - started)))

    async def resend_unapplied(self) -> None:
        """After the broker lost everything: what placements has not applied, in order."""
        applied = {event_id for event_id, _ in inbox(self.stack, "placements", EHC_TOPIC)}
        missing = [e for e in self.sent if e.id not in applied]
        for start in range(0, len(missing), 500):
            await self.send(missing[start : start + 500])
        self.resent += len(missing)
        say(f"re-sent {len(missing)} EHC events placements had not applied")

    def expected(self) -> list[Expected]:
        return [Expected(e.id, e.subject, self.seq[e.id]) for e in self.sent]


class ProviderSender:
    """Providers registered and inspections recorded at the registry over HTTP, each
    POST with an Idempotency-Key and retried until answered (through kills)."""

    def __init__(self, stack: SoakStack, providers: int, inspections: int, urn0: int) -> None:
        self.stack = stack
        self.count = providers
        self.inspections = inspections
        self.urn0 = urn0
        self.providers: list[str] = []
        self.posted: Counter[str] = Counter()  # provider id -> inspections posted
        self.requests = 0
        self.retries = 0
        self.answers_lost = 0
        self.lock = threading.Lock()

    def post(self, client: httpx.Client, path: str, body: dict[str, Any], key: str) -> Any:
        """The answer's JSON, or None when the request was carried out but a kill lost its
        answer (409 answer_lost: the registry will not carry it out again)."""
        deadline = time.monotonic() + 600
        while True:
            try:
                response = client.post(path, json=body, headers={"Idempotency-Key": key})
                if response.status_code in (200, 201):
                    with self.lock:
                        self.requests += 1
                    return response.json()
                if response.status_code < 500 and response.status_code != 409:
                    raise AssertionError(f"{path}: {response.status_code} {response.text}")
                if response.status_code == 409 and "answer_lost" in response.text:
                    with self.lock:
                        self.requests += 1
                        self.answers_lost += 1
                    return None
                if response.status_code == 409 and "in_progress" not in response.text:
                    raise AssertionError(f"{path}: {response.status_code} {response.text}")
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{path}: no answer within 600 s")
            with self.lock:
                self.retries += 1
            time.sleep(1)

    def run(self, workers: int = 4) -> None:
        """Each provider's POSTs in order, several providers at once: a POST whose
        Idempotency-Key claim a kill left behind waits (409 in progress) without holding
        up the others."""
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(self.one_provider, range(self.count)))

    def one_provider(self, i: int) -> None:
        client = self.stack.client("provider_registry", token(Role.COMMISSIONER))
        body = provider_body(urn=self.urn0 + i, name=f"Soak school {i}")
        registered = self.post(client, "/providers", body, f"p-{i}")
        provider_id = registered["provider_id"] if registered else self.find(client, self.urn0 + i)
        self.providers.append(provider_id)
        today = date.today()
        for n in range(self.inspections):
            inspection = {
                "inspected_on": str(today - timedelta(days=10 * (self.inspections - n))),
                "overall": "inadequate" if n % 2 == 0 else "good",
            }
            path = f"/providers/{provider_id}/inspections"
            self.post(client, path, inspection, f"i-{provider_id}-{n}")
            self.posted[provider_id] += 1

    @staticmethod
    def find(client: httpx.Client, urn: int) -> str:
        """A provider registered by a request whose answer was lost, by its URN."""
        offset = 0
        while True:
            page = client.get("/providers", params={"limit": 200, "offset": offset}).json()
            for hit in page["items"]:
                if hit["provider"]["urn"] == urn:
                    return str(hit["provider"]["provider_id"])
            if not page["items"]:
                raise AssertionError(f"provider with URN {urn} not found")
            offset += len(page["items"])


def inbox(stack: SoakStack, service: str, topic: str) -> list[tuple[str, datetime]]:
    with stack.engine(service).connect() as db:
        rows = db.execute(
            sa.text("SELECT event_id, applied_at FROM inbox WHERE topic = :t"), {"t": topic}
        )
        return [(r[0], as_time(r[1])) for r in rows]


def outbox(stack: SoakStack, service: str) -> list[tuple[str, str, str, str, int]]:
    with stack.engine(service).connect() as db:
        rows = db.execute(sa.text("SELECT event_id, topic, event_type, key, seq FROM outbox"))
        return [(r[0], r[1], r[2], r[3], int(r[4])) for r in rows]


class Result:
    def __init__(self) -> None:
        self.verdicts: dict[str, Verdict] = {}
        self.workflows = 0
        self.workflows_lost: list[str] = []
        # Inspections POSTed (once per Idempotency-Key) against inspection events the
        # registry published: an HTTP request executed twice, not an event applied twice.
        self.http = Verdict()

    @property
    def total(self) -> Verdict:
        total = Verdict()
        for verdict in self.verdicts.values():
            total += verdict
        return total

    @property
    def clean(self) -> bool:
        return self.total.clean and self.http.clean and not self.workflows_lost

    @property
    def settled(self) -> bool:
        """Nothing left to arrive (doubles and reorderings never heal; losses might)."""
        return not self.total.lost and not self.http.lost and not self.workflows_lost


async def check(stack: SoakStack, ehc: EhcSender, providers: ProviderSender) -> Result:
    """Every route's events against its consumer's inbox; one need per child; one
    inspection event per inspection posted; a workflow for every critical alert."""
    result = Result()
    result.verdicts[f"{EHC_TOPIC} -> placements"] = check_applied(
        ehc.expected(), inbox(stack, "placements", EHC_TOPIC)
    )
    produced = {service: outbox(stack, service) for service in SERVICES}
    for consumer, topics in HANDLED.items():
        for topic, types in topics.items():
            expected = [
                Expected(event_id, key, seq)
                for rows in produced.values()
                for event_id, t, event_type, key, seq in rows
                if t == topic and event_type in types
            ]
            if expected:
                result.verdicts[f"{topic} -> {consumer}"] = check_applied(
                    expected, inbox(stack, consumer, topic)
                )
    with stack.engine("placements").connect() as db:
        needs = Counter(r[0] for r in db.execute(sa.text("SELECT child_ref FROM placement_need")))
    result.verdicts["one need per child (placements)"] = check_counts(needs, ehc.children)
    recorded: Counter[str] = Counter()
    for _event_id, topic, event_type, key, _seq in produced["provider_registry"]:
        if topic == providers_v1.TOPIC and event_type == providers_v1.PROVIDER_INSPECTION_RECORDED:
            recorded[key] += 1
    doubled = [p for p in providers.providers if recorded[p] > providers.posted[p]]
    lost = [p for p in providers.providers if recorded[p] < providers.posted[p]]
    result.http = Verdict(expected=sum(providers.posted.values()), lost=lost, doubled=doubled)
    with stack.engine("monitoring").connect() as db:
        alerts = [
            r[0]
            for r in db.execute(sa.text("SELECT alert_id FROM alert WHERE severity = 'critical'"))
        ]
    result.workflows = len(alerts)
    client = await Client.connect(stack.plan.temporal_address)
    for alert_id in alerts:
        try:
            await client.get_workflow_handle(f"alert-escalation-{alert_id}").describe()
        except RPCError:
            result.workflows_lost.append(alert_id)
    return result


class Killer:
    """kill -9 of a random process of the stack at random moments, each victim in turn
    of a shuffled round so every kind is killed; waits for `dps up` to restart it."""

    def __init__(
        self,
        stack: SoakStack,
        ehc: EhcSender,
        kills: int,
        gap: tuple[float, float],
        rng: random.Random,
    ) -> None:
        self.stack = stack
        self.ehc = ehc
        self.kills = kills
        self.gap = gap
        self.rng = rng
        self.done: Counter[str] = Counter()
        self.last_kill_at = time.monotonic()

    def order(self) -> Iterator[str]:
        while True:
            round_ = list(VICTIMS)
            self.rng.shuffle(round_)
            yield from round_

    async def run(self) -> None:
        victims = self.order()
        for _ in range(self.kills):
            await asyncio.sleep(self.rng.uniform(*self.gap))
            victim = next(victims)
            if victim == BROKER:
                async with self.ehc.gate:  # the council waits, then re-sends what was lost
                    await self.kill(victim)
                    await asyncio.sleep(3)  # let placements commit what it was applying
                    await self.ehc.resend_unapplied()
            else:
                await self.kill(victim)

    async def kill(self, victim: str) -> None:
        pid = self.stack.kill(victim)
        self.done[victim] += 1
        self.last_kill_at = time.monotonic()
        say(f"kill -9 {victim} (pid {pid})")
        await asyncio.to_thread(self.stack.wait_restarted, victim, pid, 300)
        say(f"{victim} restarted by dps up")


def postgres_databases(admin_url: str, run: str) -> dict[str, str]:
    import psycopg

    url = sa.make_url(admin_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    urls = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for service in SERVICES:
            name = f"dps_soak_{run.lower()}_{service}"
            conn.execute(f'CREATE DATABASE "{name}"')
            urls[service] = url.set(database=name).render_as_string(hide_password=False)
    return urls


def drop_databases(admin_url: str, urls: dict[str, str]) -> None:
    import psycopg

    dsn = sa.make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for url in urls.values():
            conn.execute(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)')


async def soak(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    run = uuid.UUID(int=rng.getrandbits(128)).hex[:6].upper()
    per_key = args.per_key
    inspections = args.inspections
    providers_n = args.providers if args.providers is not None else max(4, args.events // 200)
    provider_events = providers_n * (1 + inspections)
    children = max(1, (args.events - provider_events) // per_key)
    urls = postgres_databases(args.postgres_url, run) if args.database == "postgres" else {}
    data_dir = Path(tempfile.mkdtemp(prefix="dps-soak-"))
    stack = SoakStack(data_dir, urls)
    say(
        f"soak {run} on {args.database}: {children} children x {per_key} EHC events, "
        f"{providers_n} providers x {inspections} inspections; {args.kills} kills; "
        f"data in {data_dir}"
    )
    started = time.monotonic()
    stack.up()
    say(f"dps up ready in {time.monotonic() - started:.0f}s")
    ehc = EhcSender(stack, children, per_key, run, args.rate)
    providers = ProviderSender(stack, providers_n, inspections, 700000 + rng.randrange(200000))
    killer = Killer(stack, ehc, args.kills, (args.gap_min, args.gap_max), rng)
    try:
        t0 = time.monotonic()
        kills = asyncio.create_task(killer.run())
        await asyncio.gather(ehc.run(), asyncio.to_thread(providers.run))
        sent_at = time.monotonic()
        say(
            f"sent {len(ehc.sent)} EHC events and {providers.requests} registry POSTs "
            f"in {sent_at - t0:.0f}s"
        )
        await kills
        quiet_at = time.monotonic()
        result = await check(stack, ehc, providers)
        deadline = quiet_at + args.converge_timeout
        polls = 0
        while not (result.settled and drained(stack)):
            if time.monotonic() > deadline:
                break
            polls += 1
            if polls % 6 == 0:
                say(
                    f"converging: {len(result.total.lost)} events not yet applied, "
                    f"{len(result.workflows_lost)} workflows not yet started"
                )
            await asyncio.sleep(5)
            result = await check(stack, ehc, providers)
        converged_at = time.monotonic()
        report(
            args,
            ehc,
            providers,
            killer,
            result,
            converge_s=converged_at - quiet_at,
            send_s=sent_at - t0,
            total_s=converged_at - t0,
        )
        return 0 if result.clean else 1
    finally:
        stack.stop()
        if urls and not args.keep:
            drop_databases(args.postgres_url, urls)


def report(
    args: argparse.Namespace,
    ehc: EhcSender,
    providers: ProviderSender,
    killer: Killer,
    result: Result,
    *,
    converge_s: float,
    send_s: float,
    total_s: float,
) -> None:
    total = result.total
    print("\n=== soak result ===")
    for route, verdict in result.verdicts.items():
        print(
            f"  {route:<58} {verdict.expected:>7} expected, lost {len(verdict.lost)}, "
            f"doubled {len(verdict.doubled)}, reordered {len(verdict.reordered)}"
        )
        for name, ids in (
            ("lost", verdict.lost),
            ("doubled", verdict.doubled),
            ("reordered", verdict.reordered),
        ):
            if ids:
                print(f"      {name}: {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}")
    applied = sum(v.expected for k, v in result.verdicts.items() if "->" in k)
    print(f"database: {args.database}")
    print(
        f"events: {len(ehc.sent)} EHC sent (+{ehc.resent} re-sent after broker loss), "
        f"{providers.requests} registry POSTs ({providers.retries} retries, "
        f"{providers.answers_lost} answers lost to a kill and not carried out again); "
        f"{applied} event applications checked across all consumers"
    )
    print(
        "kills: "
        + ", ".join(f"{v} {killer.done[v]}" for v in VICTIMS)
        + f" (total {sum(killer.done.values())})"
    )
    print(
        f"registry POSTs (Idempotency-Key) executed twice: {len(result.http.doubled)} "
        f"{result.http.doubled}; inspection events missing: {len(result.http.lost)}"
    )
    print(
        f"lost: {len(total.lost)}, doubled: {len(total.doubled)}, "
        f"reordered: {len(total.reordered)}, workflows: {result.workflows} "
        f"({len(result.workflows_lost)} lost)"
    )
    state = "converged" if result.settled else "NOT converged"
    bench_report.record(
        f"soak, {args.database}: {len(ehc.sent) + providers.requests:,} events in, "
        f"{sum(killer.done.values())} kill -9s",
        f"lost {len(total.lost)}, doubled {len(total.doubled) + len(result.http.doubled)}, "
        f"reordered {len(total.reordered)}, workflows lost {len(result.workflows_lost)}; "
        f"{state} in {converge_s:.0f}s",
        "none",
        None,
        "0 lost, 0 doubled, 0 reordered",
    )
    print(
        f"time: sending {send_s:.0f}s; {state} {converge_s:.0f}s after the last send "
        f"and kill; {total_s:.0f}s in all"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--events",
        type=int,
        default=2000,
        help="events to send in, about (EHC + registry POSTs; default 2000)",
    )
    parser.add_argument(
        "--per-key",
        type=int,
        default=5,
        help="EHC events per child: one request, then amendments (5)",
    )
    parser.add_argument(
        "--providers",
        type=int,
        default=None,
        help="providers to register (default events/200, at least 4)",
    )
    parser.add_argument(
        "--inspections",
        type=int,
        default=4,
        help="inspections per provider (4; even ones inadequate)",
    )
    parser.add_argument(
        "--kills",
        type=int,
        default=6,
        help="kill -9s in all, cycling through every process (6: each once)",
    )
    parser.add_argument("--gap-min", type=float, default=5.0, help="seconds between kills, min")
    parser.add_argument("--gap-max", type=float, default=20.0, help="seconds between kills, max")
    parser.add_argument(
        "--converge-timeout",
        type=float,
        default=900.0,
        help="seconds allowed after the last send and kill (900)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="EHC events/s to send at (0: as fast as the broker takes them)",
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("DPS_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
        help="server where fresh databases are made (and dropped)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    return asyncio.run(soak(args))


if __name__ == "__main__":
    sys.exit(main())
