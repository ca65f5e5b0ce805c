"""Latency and throughput of the council's commonest reads over real HTTP at a fixed
concurrency, each next to /healthz of the same server measured just before it.

Seeds the SQLite databases of three services through their own code, then serves each
service's FastAPI app under uvicorn in a child process (API role only: no broker, relay
or Temporal) and drives it from this process with one httpx.AsyncClient that keeps
`--concurrency` requests in flight until `--requests` have been answered (or
`--seconds` have passed, so one slow read cannot make the run endless):

1. provider search by need and distance over 5,000 providers (provider_registry
   GET /providers, the query of bench.provider_search);
2. the officers' inbox of open alerts (monitoring GET /alerts?status=open);
3. a placement with its fee, status, review and uplift history and its events
   (placements GET /placements/{id}, a random one of all seeded each time);
4. the commissioning dashboard (monitoring GET /dashboard).

Seeded: 5,000 GIAS-generated providers through the register's import; 2,000 placements
with 300 of them, each lived through the placements domain (award, start, annual
reviews, variations, April uplifts, some ended, about one review in seven left overdue)
and written with the service's own `record_placement` (one call per placement with its
whole history: the same rows and events as one call per change but for intermediate
spend snapshots) plus the events and rows its routes add; placements learns provider
names, and monitoring every provider and then every placement event, by applying the
other services' outbox events through their own consumers; monitoring also gets Ofsted
inspections, expired insurance and overdue reviews that raise alerts, 60% of which
officers then acknowledge or resolve, and a budget for each of three years.

    python -m bench.api_reads [--concurrency 8] [--requests 400] [--seconds 10]
                              [--placements 2000]

Logging is at WARNING, as in the other benchmarks, so no request pays for a log line.
A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import SQLModel, col, select

from dps.services import definition_of
from services.monitoring.models import AlertRow, Budget, PlacementFact, SpendLineRow
from services.monitoring.store import alert_of, copy_alert
from services.placements import domain as placements
from services.placements import handlers as placement_handlers
from services.placements.models import (
    FeeChangeRow,
    PlacementRow,
    ReviewRow,
    StatusChangeRow,
    UpliftRow,
    VariationRow,
    uplift_into_row,
)
from services.provider_registry import gias
from services.provider_registry.cli import import_extract
from services.provider_registry.models import ProviderRow
from shared.auth import issue_token
from shared.consumer import EventConsumer
from shared.contracts import placements_v1, providers_v1
from shared.contracts.common import Attendance, NeedType, Role
from shared.contracts.placements_v1 import (
    PlacementSource,
    ReviewOutcome,
    UpliftDecision,
)
from shared.envelope import decode_envelope, new_event
from shared.infra_models import DeadLetter, OutboxMessage, utcnow
from shared.logging import configure_logging
from shared.runtime import ProcessRole, ServiceRuntime
from shared.settings import ServiceSettings, settings_for
from shared.unit_of_work import Actor, UnitOfWork, unit_of_work

SECRET = "bench-secret-0123456789abcdef0123456789"
COMMISSIONER = Actor(id="commissioner:bench", role=Role.COMMISSIONER.value)
OFFICER = "officer:bench"
PLACEMENTS_TOPIC = placements_v1.TOPIC
PENNY = Decimal("0.01")
# The query of bench.provider_search: ASD places within 40 km of Maidstone, first 50.
SEARCH: dict[str, str | int] = {"need": "ASD", "near": "ME14 1XX", "within_km": 40, "limit": 50}


# ----------------------------------------------------------------------------- runtimes


def _settings(service: str, data_dir: Path) -> ServiceSettings:
    return settings_for(
        service,
        data_dir=data_dir / service,
        database_url=f"sqlite+aiosqlite:///{data_dir / f'{service}.db'}",
        jwt_secret=SECRET,
        log_json=False,
        log_level="WARNING",
    )


def _runtime(service: str, data_dir: Path) -> ServiceRuntime:
    # API only: no broker, relay or worker, so nothing else competes for the loop.
    return ServiceRuntime(
        definition_of(service),
        _settings(service, data_dir),
        frozenset({ProcessRole.API}),
        use_temporal=False,
        watch_broker=False,
        shared_broker=KafkaBroker(),
    )


async def _outbox(runtime: ServiceRuntime, topic: str) -> list[bytes]:
    """The events a service has written to its outbox on `topic`, in order."""
    async with runtime.db.session() as session:
        rows = await session.exec(
            select(OutboxMessage.payload)
            .where(OutboxMessage.topic == topic)
            .order_by(col(OutboxMessage.seq))
        )
        return list(rows.all())


async def _consume(runtime: ServiceRuntime, topic: str, events: Sequence[bytes]) -> None:
    """Apply events to a service through its own consumer, in broker-sized batches."""
    consumer = EventConsumer(
        service=runtime.name,
        topic=topic,
        handlers=runtime.definition.subscriptions(runtime)[topic],
        db=runtime.db,
    )
    for first in range(0, len(events), 500):
        records = [
            ConsumerRecord(topic, 0, offset, 0, 0, None, value, None, 0, len(value), ())
            for offset, value in enumerate(events[first : first + 500], start=first)
        ]
        await consumer.process(records)


async def _count(runtime: ServiceRuntime, model: type[SQLModel], *where: Any) -> int:
    async with runtime.db.session() as session:
        query = select(func.count()).select_from(model)
        for clause in where:
            query = query.where(clause)
        return int((await session.exec(query)).one())


# ---------------------------------------------------------------------------- providers


@dataclass(frozen=True)
class Provider:
    id: str
    urn: int
    name: str
    needs: tuple[NeedType, ...]
    attendance: tuple[Attendance, ...]


async def _seed_providers(runtime: ServiceRuntime, count: int) -> list[Provider]:
    summary = await import_extract(
        gias.write_extract_csv(gias.generate_extract(count, seed=2026)),
        runtime.db,
        actor=Actor(id="bench", role="admin"),
        today=date(2026, 1, 1),
    )
    async with runtime.db.session() as session:
        rows = (await session.exec(select(ProviderRow))).all()
    print(f"  provider_registry: {summary.created} providers ({len(summary.rejected)} rejected)")
    return [
        Provider(
            id=r.id,
            urn=r.urn,
            name=r.name,
            needs=tuple(NeedType(n) for n in r.need_types) or (NeedType.ASD,),
            attendance=tuple(Attendance(a) for a in r.attendance) or (Attendance.DAY,),
        )
        for r in rows
    ]


# --------------------------------------------------------------------------- placements


@dataclass(frozen=True)
class Step:
    """One change to a placement as a route would make it: the state after, the events
    the route emits besides those of `record_placement`, and rows of its own."""

    after: placements.Placement
    events: tuple[tuple[str, BaseModel], ...] = ()
    rows: tuple[SQLModel, ...] = ()


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def _award(index: int, provider: Provider, rng: random.Random, today: date) -> placements.Award:
    start = today - timedelta(days=rng.randint(20, 3 * 365 + 60))
    attendance = rng.choice(provider.attendance)
    spot = rng.random() < 0.3
    support = (placements.SupportItem("1:1 teaching assistant", Decimal("350.00")),)
    return placements.Award(
        child_ref=f"KCC-EHC-{index:06d}",
        provider_id=provider.id,
        source=PlacementSource.SPOT if spot else PlacementSource.DPS_AWARD,
        primary_need=rng.choice(provider.needs),
        attendance=attendance,
        awarded_on=start - timedelta(days=rng.randint(14, 60)),
        start_date=start,
        term_end=placements.add_years(start, 3) - timedelta(days=1),
        weekly_core_fee=Decimal(rng.randrange(1200, 7000, 25)).quantize(PENNY),
        weeks_per_year=52 if attendance is Attendance.RESIDENTIAL_52 else 38,
        notice_period_weeks=12,
        next_review_due=start + timedelta(days=rng.randint(60, 360)),
        additional_support=support if rng.random() < 0.4 else (),
        scheme_ref=None if spot else "DPS-SEND-2023",
        competition_ref=None if spot else f"C-{index:06d}",
    )


def _variation(p: placements.Placement, on: date, reason: str, fee: Decimal) -> Step:
    variation_id = str(uuid.uuid4())
    after = placements.vary_placement(
        p, on, COMMISSIONER.id, _at(on), reason, weekly_core_fee=fee, ref=variation_id
    )
    event = placements_v1.PlacementContractVaried(
        placement_id=p.placement_id,
        provider_id=p.provider_id,
        fee=placements.fee_terms(after, on),
        reason=reason,
        varied_by=COMMISSIONER.id,
    )
    row = VariationRow(
        variation_id=variation_id,
        placement_id=p.placement_id,
        effective_from=on,
        weekly_core_fee=fee,
        reason=reason,
        by=COMMISSIONER.id,
        at=_at(on),
    )
    return Step(after, (("placement.contract.varied", event),), (row,))


def _review_steps(p: placements.Placement, rng: random.Random, today: date) -> list[Step]:
    """Annual reviews as they fell due; about one in seven is left overdue."""
    steps: list[Step] = []
    while (due := placements.open_reviews(p)) and due[0].due_on < today:
        review = due[0]
        if rng.random() < 0.15:
            break
        done_on = min(today, review.due_on + timedelta(days=rng.randint(-20, 15)))
        outcome = ReviewOutcome.VARY if rng.random() < 0.2 else ReviewOutcome.CONTINUE
        p = placements.record_review_outcome(
            p, review.review_id, outcome, done_on, COMMISSIONER.id, _at(done_on)
        )
        completed = placements_v1.PlacementReviewCompleted(
            placement_id=p.placement_id,
            review_id=review.review_id,
            child_ref=p.child_ref,
            provider_id=p.provider_id,
            due_on=review.due_on,
            completed_on=done_on,
            outcome=outcome,
            recorded_by=COMMISSIONER.id,
        )
        steps.append(Step(p, (("placement.review.completed", completed),)))
        if outcome is ReviewOutcome.VARY:
            fee = (p.fee_on(done_on).core * Decimal("1.08")).quantize(PENNY)
            steps.append(_variation(p, done_on, "annual review: more support", fee))
            p = steps[-1].after
    return steps


def _uplift_steps(p: placements.Placement, rng: random.Random, today: date) -> list[Step]:
    """The April fee uplifts a provider asked for, each decided by a commissioner."""
    steps: list[Step] = []
    april = date(p.start_date.year + 1, 4, 1)
    while april <= min(today, p.term_end):
        if rng.random() < 0.6:
            percent = Decimal("6.00") if rng.random() < 0.08 else Decimal("2.50")
            reason = "staff pay award" if percent > placements.UPLIFT_CAP_PERCENT else None
            asked = placements.request_uplift(
                p,
                str(uuid.uuid4()),
                percent,
                april,
                f"provider:{p.provider_id}",
                _at(april),
                reason,
            )
            decision = UpliftDecision.REJECTED if reason else UpliftDecision.APPROVED
            p, decided = placements.decide_uplift(
                p, asked, decision, COMMISSIONER.id, _at(april), "above the cap" if reason else None
            )
            steps.append(Step(p, _uplift_events(p, decided), (uplift_into_row(decided),)))
        april = date(april.year + 1, 4, 1)
    return steps


def _uplift_events(
    p: placements.Placement, uplift: placements.UpliftRequest
) -> tuple[tuple[str, BaseModel], ...]:
    approved = uplift.decision is UpliftDecision.APPROVED
    requested = placements_v1.PlacementContractUpliftRequested(
        placement_id=p.placement_id,
        uplift_id=uplift.uplift_id,
        provider_id=p.provider_id,
        requested_percent=uplift.requested_percent,
        cap_percent=uplift.cap_percent,
        above_cap=uplift.above_cap,
        effective_from=uplift.effective_from,
        reason=uplift.reason,
    )
    decided = placements_v1.PlacementContractUpliftDecided(
        placement_id=p.placement_id,
        uplift_id=uplift.uplift_id,
        provider_id=p.provider_id,
        decision=uplift.decision or UpliftDecision.APPROVED,
        approved_percent=uplift.approved_percent,
        effective_from=uplift.effective_from,
        decided_by=COMMISSIONER.id,
        reason=uplift.decision_reason,
        fee=placements.fee_terms(p, uplift.effective_from) if approved else None,
    )
    return (
        ("placement.contract.uplift_requested", requested),
        ("placement.contract.uplift_decided", decided),
    )


def _ending_steps(p: placements.Placement, rng: random.Random, today: date) -> list[Step]:
    """Past its term end a placement ends; a few others are given notice."""
    steps: list[Step] = []
    if p.term_end >= today and rng.random() < 0.08:
        notice_on = max(p.start_date, today - timedelta(days=rng.randint(0, 150)))
        p = placements.give_notice(p, notice_on, COMMISSIONER.id, _at(notice_on), "parent moved")
        steps.append(Step(p))
    last_day = p.last_day
    if last_day is not None and last_day < today:
        steps.append(Step(placements.complete_end(p, today, COMMISSIONER.id, utcnow())))
    return steps


def _life(index: int, provider: Provider, rng: random.Random, today: date) -> list[Step]:
    """A placement from award to today, one Step per change a route or workflow makes."""
    award = _award(index, provider, rng, today)
    pid = str(uuid.UUID(int=rng.getrandbits(128)))
    p = placements.create_placement(award, pid, COMMISSIONER.id, _at(award.awarded_on))
    steps = [Step(p, (("placement.contract.created", placements.contract_created_event(p)),))]
    p = placements.start_placement(p, award.start_date, COMMISSIONER.id, _at(award.start_date))
    steps.append(Step(p))
    for more in (_review_steps, _uplift_steps):
        steps += more(steps[-1].after, rng, today)
    if rng.random() < 0.25:
        p = steps[-1].after
        on = p.start_date + timedelta(days=rng.randint(0, max(0, (today - p.start_date).days)))
        if on <= (p.last_day or on):
            fee = (p.fee_on(on).core + Decimal("150.00")).quantize(PENNY)
            steps.append(_variation(p, on, "additional therapy", fee))
    return steps + _ending_steps(steps[-1].after, rng, today)


async def _record(uow: UnitOfWork, steps: Sequence[Step]) -> None:
    """Each step's own events and rows, then the whole history in one `record_placement`
    (its rows, status and review events and spend ledger), as one call per step would
    leave them but for the intermediate spend snapshots, and several times faster."""
    for step in steps:
        for event_type, payload in step.events:
            uow.emit_raw(PLACEMENTS_TOPIC, event_type, step.after.placement_id, payload)
        uow.session.add_all(step.rows)
    await placement_handlers.record_placement(uow, None, steps[-1].after)


def _placement_providers(providers: Sequence[Provider]) -> list[Provider]:
    # A council buys most places from a few hundred schools, not from all 5,000.
    return random.Random(5).sample(list(providers), min(300, len(providers)))


def _about(events: Sequence[bytes], subjects: set[str]) -> list[bytes]:
    return [e for e in events if decode_envelope(e).subject in subjects]


async def _seed_placements(
    runtime: ServiceRuntime, providers: Sequence[Provider], count: int, today: date
) -> list[str]:
    rng = random.Random(7)
    ids: list[str] = []
    for first in range(0, count, 200):
        async with unit_of_work(runtime.db, runtime.source) as uow:
            # Every placement is new, so no query can see another's unflushed rows:
            # one flush at commit instead of one per query (what made seeding slow).
            with uow.session.no_autoflush:
                for index in range(first, min(count, first + 200)):
                    steps = _life(index, rng.choice(providers), rng, today)
                    await _record(uow, steps)
                    ids.append(steps[0].after.placement_id)
    await _raise_overdue_reviews(runtime, today)
    return ids


async def _raise_overdue_reviews(runtime: ServiceRuntime, today: date) -> None:
    """What the placement lifecycle workflow emits for a review past its due date."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        rows = await uow.session.exec(
            select(ReviewRow, PlacementRow)
            .join(PlacementRow, col(PlacementRow.placement_id) == col(ReviewRow.placement_id))
            .where(col(ReviewRow.outcome).is_(None), col(ReviewRow.due_on) < today)
            .where(col(PlacementRow.status).in_(["active", "ending"]))
        )
        for review, placement in rows.all():
            review.overdue_sent = True
            uow.session.add(review)
            event = placements_v1.PlacementReviewOverdue(
                placement_id=placement.placement_id,
                review_id=review.review_id,
                child_ref=placement.child_ref,
                provider_id=placement.provider_id,
                due_on=review.due_on,
                days_overdue=(today - review.due_on).days,
            )
            uow.emit_raw(PLACEMENTS_TOPIC, "placement.review.overdue", placement.placement_id, event)


# --------------------------------------------------------------------------- monitoring


def _inspection(provider: Provider, judgement: providers_v1.OfstedJudgement) -> bytes:
    inspected_on = date(2026, 1, 5)
    event = providers_v1.ProviderInspectionRecorded(
        provider_id=provider.id,
        urn=provider.urn,
        name=provider.name,
        new=providers_v1.InspectionSummary(
            inspected_on=inspected_on, overall=judgement, equivalent_judgement=judgement
        ),
        declined=True,
    )
    return _envelope(providers_v1.PROVIDER_INSPECTION_RECORDED, provider.id, event)


def _document_expired(provider: Provider, today: date) -> bytes:
    event = providers_v1.ProviderDocumentExpiring(
        provider_id=provider.id,
        urn=provider.urn,
        name=provider.name,
        kind=providers_v1.DocumentKind.INSURANCE,
        expires_on=today - timedelta(days=3),
        days_until_expiry=-3,
        expired=True,
        documents_valid=False,
    )
    return _envelope(providers_v1.PROVIDER_DOCUMENT_EXPIRING, provider.id, event)


def _envelope(event_type: str, subject: str, payload: BaseModel) -> bytes:
    envelope = new_event(event_type, source="dps/provider_registry", subject=subject, data=payload)
    return envelope.to_bytes()


def _quality_events(providers: Sequence[Provider], today: date) -> list[bytes]:
    """Inspections graded requires improvement or inadequate, and expired insurance."""
    rng = random.Random(11)
    judged = rng.sample(list(providers), 240)
    poor = providers_v1.OfstedJudgement.REQUIRES_IMPROVEMENT
    bad = providers_v1.OfstedJudgement.INADEQUATE
    events = [_inspection(p, bad if i % 4 == 0 else poor) for i, p in enumerate(judged)]
    return events + [_document_expired(p, today) for p in rng.sample(list(providers), 120)]


async def _handle_alerts(runtime: ServiceRuntime) -> None:
    """Officers work the inbox: a third resolved, a quarter acknowledged, the rest open."""
    rng = random.Random(13)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        rows = (await uow.session.exec(select(AlertRow).order_by(col(AlertRow.alert_id)))).all()
        for row in rows:
            share = rng.random()
            if share >= 0.6:
                continue
            alert = alert_of(row).acknowledge(OFFICER, utcnow())
            if share < 0.35:
                alert = alert.resolve(OFFICER, "provider action plan agreed", utcnow())
            uow.session.add(copy_alert(alert, row))
            uow.audit(
                Actor(id=OFFICER, role="monitoring_officer"), "alert.handled", "alert", row.alert_id
            )


async def _set_budgets(runtime: ServiceRuntime, today: date) -> None:
    year = placements.financial_year_of(today)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        for fy in range(year - 2, year + 1):
            spent = await uow.session.exec(
                select(func.sum(SpendLineRow.amount)).where(SpendLineRow.financial_year == fy)
            )
            amount = (Decimal(spent.one() or 0) * Decimal("1.05")).quantize(PENNY)
            uow.session.add(Budget(financial_year=fy, amount=amount, set_by=COMMISSIONER.id))


async def _seed_monitoring(
    runtime: ServiceRuntime,
    provider_events: Sequence[bytes],
    placement_events: Sequence[bytes],
    providers: Sequence[Provider],
    today: date,
) -> None:
    await _consume(runtime, providers_v1.TOPIC, provider_events)
    await _consume(runtime, PLACEMENTS_TOPIC, placement_events)
    await _consume(runtime, providers_v1.TOPIC, _quality_events(providers, today))
    await _handle_alerts(runtime)
    await _set_budgets(runtime, today)


# ------------------------------------------------------------------------------ seeding


@dataclass
class Seeded:
    placement_ids: list[str]
    notes: list[str] = field(default_factory=list)


async def _seed(data_dir: Path, placement_count: int, today: date) -> Seeded:
    registry, placing, watching = (
        _runtime(name, data_dir) for name in ("provider_registry", "placements", "monitoring")
    )
    for runtime in (registry, placing, watching):
        await asyncio.to_thread(runtime.migrate)
    providers = await _seed_providers(registry, 5000)
    provider_events = await _outbox(registry, providers_v1.TOPIC)
    # Placements needs only the names of the providers it places with (a lookup by key).
    used = _placement_providers(providers)
    await _consume(placing, providers_v1.TOPIC, _about(provider_events, {p.id for p in used}))
    ids = await _seed_placements(placing, used, placement_count, today)
    placement_events = await _outbox(placing, PLACEMENTS_TOPIC)
    await _seed_monitoring(watching, provider_events, placement_events, providers, today)
    seeded = Seeded(ids)
    seeded.notes += await _describe_placements(placing, len(placement_events))
    seeded.notes += await _describe_monitoring(watching)
    for runtime in (registry, placing, watching):
        dead = await _count(runtime, DeadLetter)
        if dead:
            seeded.notes.append(f"WARNING {runtime.name}: {dead} events dead-lettered in seeding")
        await runtime.db.dispose()
    return seeded


async def _describe_placements(runtime: ServiceRuntime, events: int) -> list[str]:
    async with runtime.db.session() as session:
        statuses = (
            await session.exec(
                select(PlacementRow.status, func.count()).group_by(col(PlacementRow.status))
            )
        ).all()
    counts = {
        name: await _count(runtime, model)
        for name, model in (
            ("fee changes", FeeChangeRow),
            ("status changes", StatusChangeRow),
            ("reviews", ReviewRow),
            ("uplifts", UpliftRow),
            ("variations", VariationRow),
        )
    }
    by_status = ", ".join(f"{n} {s}" for s, n in sorted(statuses))
    history = ", ".join(f"{n} {name}" for name, n in counts.items())
    return [
        f"placements: {sum(n for _, n in statuses)} ({by_status})",
        f"  history: {history}; {events} outbox events",
    ]


async def _describe_monitoring(runtime: ServiceRuntime) -> list[str]:
    async with runtime.db.session() as session:
        statuses = (
            await session.exec(select(AlertRow.status, func.count()).group_by(col(AlertRow.status)))
        ).all()
    facts = await _count(runtime, PlacementFact)
    spend = await _count(runtime, SpendLineRow)
    alerts = ", ".join(f"{n} {s}" for s, n in sorted(statuses))
    return [
        f"monitoring: {facts} placement facts, {spend} spend lines, 3 budgets",
        f"  alerts: {sum(n for _, n in statuses)} ({alerts})",
    ]


# ------------------------------------------------------------------------------ serving


def _serve(service: str, data_dir: Path, fd: int) -> None:
    """Child process: serve one service's API on the listening socket `fd`."""
    configure_logging(service, "WARNING", as_json=False)
    runtime = _runtime(service, data_dir)
    config = uvicorn.Config(runtime.build_app(), log_config=None, access_log=False, lifespan="off")
    sock = socket.socket(fileno=fd)
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


@contextmanager
def _server(service: str, data_dir: Path) -> Iterator[str]:
    """A uvicorn child process serving `service`; yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    port = listener.getsockname()[1]
    command = [sys.executable, "-m", "bench.api_reads", "--serve", service]
    command += ["--data-dir", str(data_dir), "--fd", str(listener.fileno())]
    child = subprocess.Popen(
        command, pass_fds=[listener.fileno()], cwd=Path(__file__).resolve().parent.parent
    )
    listener.close()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        child.terminate()
        child.wait(timeout=15)


async def _ready(client: httpx.AsyncClient, base: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if (await client.get(f"{base}/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.05)


# ------------------------------------------------------------------------ measuring

Params = dict[str, str | int]
Request = Callable[[], tuple[str, Params]]


@dataclass(frozen=True)
class Limits:
    requests: int  # per row
    concurrency: int  # in flight at any time
    seconds: float  # a row stops starting requests after this long


@dataclass(frozen=True)
class Run:
    label: str
    samples: list[float]
    seconds: float

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.samples, n=100, method="inclusive")[q - 1]

    @property
    def rate(self) -> float:
        return len(self.samples) / self.seconds


async def _drive(
    client: httpx.AsyncClient,
    base: str,
    request: Request,
    count: int,
    concurrency: int,
    seconds: float,
) -> tuple[list[float], float]:
    """Up to `count` requests, `concurrency` in flight, none started after `seconds`;
    their latencies (ms) and the wall time they took."""
    tickets = iter(range(count))  # shared: each worker takes the next request
    samples: list[float] = []
    began = time.perf_counter()
    deadline = began + seconds

    async def worker() -> None:
        for _ in tickets:
            path, params = request()
            started = time.perf_counter()
            if started > deadline:
                return
            response = await client.get(f"{base}{path}", params=params)
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return samples, time.perf_counter() - began


async def _measure(
    client: httpx.AsyncClient, base: str, label: str, request: Request, limits: Limits
) -> Run:
    warm = min(limits.requests, 4 * limits.concurrency)
    await _drive(client, base, request, warm, limits.concurrency, limits.seconds / 5)
    samples, seconds = await _drive(
        client, base, request, limits.requests, limits.concurrency, limits.seconds
    )
    return Run(label, samples, seconds)


def _healthz() -> tuple[str, Params]:
    return "/healthz", {}


def _reads(seeded: Seeded) -> dict[str, list[tuple[str, Request]]]:
    """Per service, the reads to measure (each after a /healthz run on the same server)."""
    rng = random.Random(3)
    return {
        "provider_registry": [("provider search", lambda: ("/providers", SEARCH))],
        "monitoring": [
            ("open alerts", lambda: ("/alerts", {"status": "open"})),
            ("dashboard", lambda: ("/dashboard", {})),
        ],
        "placements": [
            ("placement + history", lambda: (f"/placements/{rng.choice(seeded.placement_ids)}", {}))
        ],
    }


def _describe(label: str, body: Any) -> str:
    """What one answer of a read held, to show the work behind its figures."""
    if label == "provider search":
        return f"{label}: {SEARCH} matches {body['total']} (page of {len(body['items'])})"
    if label == "open alerts":
        return f"{label}: {len(body)} alerts returned (route default limit 200)"
    if label == "dashboard":
        severities = body["open_alerts_by_severity"]
        return (
            f"{label}: FY {body['financial_year']}, {len(body['spend_by_year'])} years of spend, "
            f"{body['reviews_overdue']} reviews overdue, open alerts {severities}"
        )
    histories = ("fee_history", "status_history", "reviews", "uplifts", "events")
    return f"{label} (one of them): " + ", ".join(f"{len(body[h])} {h}" for h in histories)


async def _run_all(
    data_dir: Path, seeded: Seeded, limits: Limits
) -> tuple[list[tuple[str, Run, Run]], list[str]]:
    token = issue_token(SECRET, Role.COMMISSIONER)
    pool = httpx.Limits(
        max_connections=limits.concurrency, max_keepalive_connections=limits.concurrency
    )
    results: list[tuple[str, Run, Run]] = []
    notes: list[str] = []
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, limits=pool, timeout=120
    ) as client:
        for service, reads in _reads(seeded).items():
            with _server(service, data_dir) as base:
                await _ready(client, base)
                for label, request in reads:
                    path, params = request()
                    body = (await client.get(f"{base}{path}", params=params)).json()
                    notes.append(_describe(label, body))
                    health = await _measure(client, base, "/healthz", _healthz, limits)
                    read = await _measure(client, base, label, request, limits)
                    results.append((service, health, read))
                    print(f"  measured {service}: {label}", flush=True)
    return results, notes


def _row(service: str, run: Run, limits: Limits, health: Run) -> str:
    p50, p95, p99 = (run.percentile(q) for q in (50, 95, 99))
    ratio50 = p50 / health.percentile(50)
    ratio99 = p99 / health.percentile(99)
    cut = "*" if len(run.samples) < limits.requests else " "
    return (
        f"{service:<18}{run.label:<22}{len(run.samples):>8}{cut}{limits.concurrency:>5}"
        f"{p50:>9.2f}{p95:>9.2f}{p99:>9.2f}{run.rate:>9.1f}{ratio50:>9.1f}{ratio99:>9.1f}"
    )


def _print_table(results: Sequence[tuple[str, Run, Run]], limits: Limits) -> None:
    header = (
        f"{'service':<18}{'endpoint':<22}{'requests':>9}{'conc':>5}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'p99 ms':>9}{'req/s':>9}{'p50 x':>9}{'p99 x':>9}"
    )
    print(header)
    print("-" * len(header))
    for service, health, read in results:
        print(_row(service, health, limits, health))
        print(_row(service, read, limits, health))
    print(
        "p50 x / p99 x: the endpoint's percentile over that of the /healthz row above it "
        "(same server, measured just before it)"
    )
    if any(len(r.samples) < limits.requests for _, _, r in results):
        print(f"* stopped starting requests after {limits.seconds:g}s (--seconds)")


async def main(limits: Limits, placement_count: int) -> None:
    configure_logging("bench", "WARNING", as_json=False)
    today = datetime.now(UTC).date()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch)
        started = time.perf_counter()
        print("seeding...", flush=True)
        seeded = await _seed(data_dir, placement_count, today)
        print(f"seeded in {time.perf_counter() - started:.0f}s")
        for note in seeded.notes:
            print(f"  {note}")
        results, notes = await _run_all(data_dir, seeded, limits)
    for note in notes:
        print(note)
    print(
        f"\nup to {limits.requests} requests per row, {limits.concurrency} in flight, "
        "one uvicorn process per service, client in this process"
    )
    _print_table(results, limits)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400, help="per row")
    parser.add_argument("--seconds", type=float, default=10, help="cap on each row's time")
    parser.add_argument("--placements", type=int, default=2000)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    args = _arguments()
    if args.serve:
        _serve(args.serve, args.data_dir, args.fd)
    else:
        limits = Limits(args.requests, args.concurrency, args.seconds)
        asyncio.run(main(limits, args.placements))
