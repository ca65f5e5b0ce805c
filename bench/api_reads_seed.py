"""The seed of bench.api_reads (and bench.console): three services' SQLite databases
filled through their own code (see bench.api_reads for what is seeded)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import SQLModel, col, select

from dps.services import definition_of
from services.monitoring.models import AlertRow, Budget, PlacementFact, SpendLineRow
from services.monitoring.store import alert_of, copy_alert
from services.placements import commands as placement_commands
from services.placements import domain as placements
from services.placements import events as placement_payloads
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
from shared.consumer import EventConsumer
from shared.contracts import placements_v1, providers_v1
from shared.contracts.base import Event
from shared.contracts.common import Attendance, NeedType, Role
from shared.contracts.placements_v1 import (
    PlacementSource,
    ReviewOutcome,
    UpliftDecision,
)
from shared.envelope import decode_envelope, new_event
from shared.infra_models import DeadLetter, OutboxMessage, utcnow
from shared.runtime import ProcessRole, ServiceRuntime
from shared.settings import ServiceSettings, settings_for
from shared.unit_of_work import Actor, UnitOfWork, unit_of_work

SECRET = "bench-secret-0123456789abcdef0123456789"
COMMISSIONER = Actor(id="commissioner:bench", role=Role.COMMISSIONER.value)
OFFICER = "officer:bench"
PLACEMENTS_TOPIC = placements_v1.TOPIC
PENNY = Decimal("0.01")


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


def runtime_for(service: str, data_dir: Path) -> ServiceRuntime:
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
    events: tuple[tuple[str, Event], ...] = ()
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
        fee=placement_payloads.fee_terms(after, on),
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
) -> tuple[tuple[str, Event], ...]:
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
        fee=placement_payloads.fee_terms(p, uplift.effective_from) if approved else None,
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
    steps = [
        Step(p, (("placement.contract.created", placement_payloads.contract_created_event(p)),))
    ]
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
        for _event_type, payload in step.events:
            uow.emit(payload)
        uow.session.add_all(step.rows)
    await placement_commands.record_placement(uow, None, steps[-1].after)


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
            uow.emit(event)


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


async def seed(data_dir: Path, placement_count: int, today: date) -> Seeded:
    registry, placing, watching = (
        runtime_for(name, data_dir) for name in ("provider_registry", "placements", "monitoring")
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
