"""HTTP routes of monitoring: evidence entry, rules, the officers' alert inbox, scorecards
and the commissioning dashboard."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_
from sqlalchemy import select as select_columns  # sqlmodel's takes at most 4
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.monitoring import domain
from services.monitoring.activities import (
    kpi_deadline,
    raise_missing_kpi_alerts,
    signal_acknowledged,
)
from services.monitoring.handlers import (
    alert_of,
    assess,
    copy_alert,
    rule_of,
    rule_row,
)
from services.monitoring.models import (
    AlertRow,
    Budget,
    EvidenceRecord,
    Incident,
    KpiReturnRow,
    PlacementFact,
    ProviderProfile,
    RuleVersion,
    SpendLineRow,
    Visit,
)
from services.monitoring.policy import ALLOWED
from shared import clock
from shared.api_types import ApiDate, RequestBody
from shared.audit_read import READS, ReadAudit
from shared.contracts import quality_v1
from shared.contracts.common import NeedType, Role
from shared.errors import Conflict, DomainError, NotFound
from shared.infra_models import utcnow
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, UnitOfWork, unit_of_work

router = APIRouter(tags=["monitoring"])


@contextmanager
def domain_rules() -> Iterator[None]:
    """Answer a broken domain rule the way every service does (422 naming the field)."""
    try:
        yield
    except domain.DomainError as exc:
        raise DomainError(exc.field, exc.rule) from None


def _status_rule(exc: domain.DomainError) -> DomainError:
    # A transition the alert's current state forbids is a clash with state: 409.
    return (
        Conflict(exc.field, exc.rule) if exc.field == "status" else DomainError(exc.field, exc.rule)
    )


# --------------------------------------------------------------------- requests


class _Body(RequestBody):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class VisitIn(_Body):
    provider_id: str = Field(min_length=1, max_length=200)
    visited_on: date
    rating: int = Field(ge=1, le=4, description="1 outstanding .. 4 inadequate")
    findings: str = Field(default="", max_length=domain.FINDINGS_MAX_LENGTH)


class KpiReturnIn(_Body):
    placement_id: str = Field(min_length=1, max_length=200)
    term: str = Field(pattern=quality_v1.TERM_PATTERN)
    attendance_pct: float = Field(ge=0, le=100, allow_inf_nan=False)
    exclusions: int = Field(ge=0, le=1000)
    incidents: int = Field(ge=0, le=1000)
    outcomes_progress: quality_v1.OutcomeProgress
    submitted_on: date | None = None


class IncidentIn(_Body):
    provider_id: str = Field(min_length=1, max_length=200)
    placement_id: str | None = Field(default=None, max_length=200)
    category: quality_v1.IncidentCategory
    severity: quality_v1.IncidentSeverity
    occurred_on: date
    summary: str = Field(min_length=1, max_length=domain.SUMMARY_MAX_LENGTH)


class RuleChangeIn(_Body):
    reason: str = Field(min_length=1, max_length=1000)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    condition: str | None = Field(default=None, min_length=1, max_length=500)
    severity: quality_v1.Severity | None = None
    enabled: bool | None = None


class AssignIn(_Body):
    officer_id: str = Field(min_length=1, max_length=200)


class ResolveIn(_Body):
    outcome: str = Field(min_length=1, max_length=domain.OUTCOME_MAX_LENGTH)


class BudgetIn(_Body):
    amount: Decimal = Field(
        ge=0, le=Decimal("999999999999.99"), decimal_places=2, allow_inf_nan=False
    )
    reason: str | None = Field(default=None, min_length=1, max_length=1000)


class BudgetOut(BaseModel):
    financial_year: int
    label: str
    amount: Decimal
    set_by: str
    set_at: datetime
    reason: str | None


class KpiCheckIn(_Body):
    term: str = Field(pattern=quality_v1.TERM_PATTERN, description='e.g. "2025-autumn"')


class KpiCheckOut(BaseModel):
    term: str
    deadline: datetime
    alerts_raised: int


class Created(BaseModel):
    id: str
    alerts_raised: list[str]


# ---------------------------------------------------------------------- lookups


async def _provider(uow: UnitOfWork, provider_id: str) -> ProviderProfile:
    profile = await uow.session.get(ProviderProfile, provider_id)
    if profile is None:
        raise NotFound("provider", provider_id)
    return profile


async def _placement(uow: UnitOfWork, placement_id: str) -> PlacementFact:
    fact = await uow.session.get(PlacementFact, placement_id)
    if fact is None:
        raise NotFound("placement", placement_id)
    return fact


def _today() -> date:
    return clock.now().date()  # the wall clock, or the training clock


# --------------------------------------------------------------------- evidence


@router.post("/visits", status_code=status.HTTP_201_CREATED)
async def record_visit(
    body: VisitIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> Created:
    """Record a monitoring visit; a poor rating may raise alerts under the rules."""
    visit_id = str(uuid.uuid4())
    with domain_rules():
        evidence = domain.MonitoringVisit(
            evidence_id=visit_id,
            provider_id=body.provider_id,
            officer_id=actor.id,
            visited_on=body.visited_on,
            rating=body.rating,
            findings=body.findings,
        )
    async with unit_of_work(runtime.db, runtime.source) as uow:
        await _provider(uow, body.provider_id)
        uow.session.add(Visit(visit_id=visit_id, officer_id=actor.id, **body.model_dump()))
        raised = await assess(uow, evidence)
        uow.emit_raw(
            quality_v1.TOPIC,
            quality_v1.VisitRecorded.EVENT_TYPE,
            body.provider_id,
            quality_v1.VisitRecorded(visit_id=visit_id, officer_id=actor.id, **body.model_dump()),
        )
        uow.audit(actor, "visit.recorded", "visit", visit_id)
    return Created(id=visit_id, alerts_raised=[a.alert_id for a in raised])


async def _kpi_history(uow: UnitOfWork, placement_id: str) -> list[domain.KpiReturn]:
    rows = await uow.session.exec(
        select(KpiReturnRow).where(KpiReturnRow.placement_id == placement_id)
    )
    return [_kpi_of(row) for row in rows.all()]


def _kpi_of(row: KpiReturnRow) -> domain.KpiReturn:
    return domain.KpiReturn(
        evidence_id=row.return_id,
        provider_id=row.provider_id,
        placement_id=row.placement_id,
        term=row.term,
        attendance_pct=row.attendance_pct,
        exclusions=row.exclusions,
        incidents=row.incidents,
        outcomes_progress=domain.OutcomeProgress(row.outcomes_progress),
        submitted_on=row.submitted_on,
    )


@router.post("/kpi-returns", status_code=status.HTTP_201_CREATED)
async def record_kpi_return(
    body: KpiReturnIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> Created:
    """A termly KPI return for one placement; a provider may submit only its own."""
    return_id = str(uuid.uuid4())
    submitted_on = body.submitted_on or _today()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        placement = await _placement(uow, body.placement_id)
        if actor.role == Role.PROVIDER.value and actor.provider_id != placement.provider_id:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"provider {actor.provider_id} may submit KPI returns only for its own "
                f"placements; {body.placement_id} is not one",
            )
        with domain_rules():
            current = domain.KpiReturn(
                evidence_id=return_id,
                provider_id=placement.provider_id,
                placement_id=body.placement_id,
                term=body.term,
                attendance_pct=body.attendance_pct,
                exclusions=body.exclusions,
                incidents=body.incidents,
                outcomes_progress=domain.OutcomeProgress(body.outcomes_progress.value),
                submitted_on=submitted_on,
            )
            evidence = domain.with_outcome_streak(
                current, await _kpi_history(uow, body.placement_id)
            )
        fields = body.model_dump() | {"submitted_on": submitted_on}
        uow.session.add(
            KpiReturnRow(
                return_id=return_id,
                provider_id=placement.provider_id,
                submitted_by=actor.id,
                **fields | {"outcomes_progress": body.outcomes_progress.value},
            )
        )
        raised = await assess(uow, evidence)
        uow.emit_raw(
            quality_v1.TOPIC,
            quality_v1.KpiReturnRecorded.EVENT_TYPE,
            body.placement_id,
            quality_v1.KpiReturnRecorded(
                return_id=return_id, provider_id=placement.provider_id, **fields
            ),
        )
        uow.audit(actor, "kpi_return.recorded", "kpi_return", return_id)
    return Created(id=return_id, alerts_raised=[a.alert_id for a in raised])


@router.post("/kpi-returns/check")
async def check_missing_kpi_returns(
    body: KpiCheckIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> KpiCheckOut:
    """Raise "no KPI return" now for a term whose return deadline has passed.

    The KpiReturnCheck workflow does this by itself after every term's deadline; this
    is for an officer who wants it re-run (idempotent: nothing is raised twice).
    """
    with domain_rules():
        deadline = kpi_deadline(body.term)
    if clock.now() < deadline:
        raise Conflict(
            "term",
            f"KPI returns for {body.term} are due until {deadline.isoformat()}; "
            "check after the deadline",
        )
    raised = await raise_missing_kpi_alerts(runtime, body.term)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        uow.audit(actor, "kpi_check.run", "term", body.term, alerts_raised=raised)
    return KpiCheckOut(term=body.term, deadline=deadline, alerts_raised=raised)


@router.post("/incidents", status_code=status.HTTP_201_CREATED)
async def record_incident(
    body: IncidentIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> Created:
    """A safeguarding incident or complaint (no child names: use the child reference)."""
    incident_id = str(uuid.uuid4())
    with domain_rules():
        evidence = domain.IncidentReport(
            evidence_id=incident_id,
            provider_id=body.provider_id,
            placement_id=body.placement_id,
            category=domain.IncidentCategory(body.category.value),
            severity=domain.IncidentSeverity(body.severity.value),
            occurred_on=body.occurred_on,
            summary=body.summary,
        )
    async with unit_of_work(runtime.db, runtime.source) as uow:
        await _provider(uow, body.provider_id)
        if body.placement_id is not None:
            await _placement(uow, body.placement_id)
        uow.session.add(
            Incident(
                incident_id=incident_id,
                recorded_by=actor.id,
                **body.model_dump()
                | {"category": body.category.value, "severity": body.severity.value},
            )
        )
        raised = await assess(uow, evidence)
        uow.emit_raw(
            quality_v1.TOPIC,
            quality_v1.IncidentRecorded.EVENT_TYPE,
            body.provider_id,
            quality_v1.IncidentRecorded(
                incident_id=incident_id, **body.model_dump(exclude={"summary"})
            ),
        )
        uow.audit(actor, "incident.recorded", "incident", incident_id)
    return Created(id=incident_id, alerts_raised=[a.alert_id for a in raised])


# ------------------------------------------------------------------------ rules


@router.get("/rules")
async def list_rules(
    history: bool = False,
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[domain.AlertRule]:
    """Rules in force (newest version of each), or every version with ?history=true."""
    async with runtime.db.session() as session:
        rows = (await session.exec(select(RuleVersion))).all()
    versions = [rule_of(row) for row in rows]
    chosen = versions if history else list(domain.current_rules(versions).values())
    return sorted(chosen, key=lambda r: (r.rule_id, r.version))


@router.patch("/rules/{rule_id}")
async def change_rule(
    rule_id: str,
    body: RuleChangeIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> domain.AlertRule:
    """A new version of a rule (threshold, severity, title, on/off); audited with reason."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        rows = (
            await uow.session.exec(select(RuleVersion).where(RuleVersion.rule_id == rule_id))
        ).all()
        if not rows:
            raise NotFound("rule", rule_id)
        current = domain.current_rules(rule_of(row) for row in rows)[rule_id]
        with domain_rules():
            revised = domain.revise_rule(
                current,
                changed_by=actor.id,
                changed_at=utcnow(),
                reason=body.reason,
                title=body.title,
                condition=body.condition,
                severity=domain.Severity(body.severity.value) if body.severity else None,
                enabled=body.enabled,
            )
        uow.session.add(rule_row(revised))
        uow.audit(
            actor,
            "rule.changed",
            "rule",
            rule_id,
            from_version=current.version,
            to_version=revised.version,
            before=current.model_dump(
                mode="json", include={"title", "condition", "severity", "enabled"}
            ),
            after=revised.model_dump(
                mode="json", include={"title", "condition", "severity", "enabled"}
            ),
            reason=body.reason,
        )
    return revised


# ----------------------------------------------------------------------- alerts


@router.get("/alerts")
async def list_alerts(
    status_: domain.AlertStatus | None = Query(default=None, alias="status"),
    severity: quality_v1.Severity | None = None,
    provider_id: str | None = None,
    limit: int = Query(default=200, ge=1, le=1000),
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
    reads: ReadAudit = READS,
) -> list[AlertRow]:
    """The monitoring officers' inbox, newest first."""
    query = select(AlertRow)
    if status_ is not None:
        query = query.where(AlertRow.status == status_.value)
    if severity is not None:
        query = query.where(AlertRow.severity == severity.value)
    if provider_id is not None:
        query = query.where(AlertRow.provider_id == provider_id)
    async with runtime.db.session() as session:
        rows = await session.exec(query.order_by(col(AlertRow.raised_at).desc()).limit(limit))
        alerts = list(rows.all())
    await reads.record(actor, "alert", _about_placements(alerts))
    return alerts


def _about_placements(alerts: list[AlertRow]) -> list[tuple[str, str | None]]:
    # An alert about a placement is about a child's placement: its read is audited.
    return [(a.alert_id, None) for a in alerts if a.placement_id]


@router.get("/alerts/{alert_id}")
async def get_alert(
    alert_id: str,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
    reads: ReadAudit = READS,
) -> AlertRow:
    async with runtime.db.session() as session:
        row = await session.get(AlertRow, alert_id)
    if row is None:
        raise NotFound("alert", alert_id)
    await reads.record(actor, "alert", _about_placements([row]))
    return row


async def _transition(
    runtime: ServiceRuntime, actor: Actor, alert_id: str, action: str, **details: Any
) -> AlertRow:
    """Apply one officer action to an alert, emit its event and audit it, atomically."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await uow.session.get(AlertRow, alert_id)
        if row is None:
            raise NotFound("alert", alert_id)
        alert, now = alert_of(row), utcnow()
        try:
            changed = _apply(alert, action, now, details)
        except domain.DomainError as exc:
            raise _status_rule(exc) from None
        uow.session.add(copy_alert(changed, row))
        _emit_transition(uow, changed, action)
        uow.audit(actor, f"alert.{action}", "alert", alert_id, **details)
    return row


def _apply(alert: domain.Alert, action: str, now: Any, details: dict[str, Any]) -> domain.Alert:
    officer = str(details.get("officer_id", ""))
    if action == "assigned":
        return alert.assign(officer, now)
    if action == "acknowledged":
        return alert.acknowledge(officer, now)
    return alert.resolve(officer, str(details.get("outcome", "")), now)


def _emit_transition(uow: UnitOfWork, alert: domain.Alert, action: str) -> None:
    ids = {"provider_id": alert.provider_id, "placement_id": alert.placement_id}
    if action == "acknowledged":
        assert alert.acknowledged_by and alert.acknowledged_at
        payload: quality_v1.QualityEvent = quality_v1.AlertAcknowledged(
            alert_id=alert.alert_id,
            acknowledged_by=alert.acknowledged_by,
            acknowledged_at=alert.acknowledged_at,
            **ids,
        )
    elif action == "resolved":
        assert alert.resolved_by and alert.resolved_at and alert.outcome
        payload = quality_v1.AlertResolved(
            alert_id=alert.alert_id,
            resolved_by=alert.resolved_by,
            resolved_at=alert.resolved_at,
            outcome=alert.outcome,
            **ids,
        )
    else:
        return  # assignment is internal to the inbox; quality.v1 has no event for it
    uow.emit_raw(quality_v1.TOPIC, payload.EVENT_TYPE, alert.alert_id, payload)


@router.post("/alerts/{alert_id}/assign")
async def assign_alert(
    alert_id: str,
    body: AssignIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> AlertRow:
    return await _transition(runtime, actor, alert_id, "assigned", officer_id=body.officer_id)


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge_alert(
    alert_id: str,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> AlertRow:
    row = await _transition(runtime, actor, alert_id, "acknowledged", officer_id=actor.id)
    await signal_acknowledged(runtime, alert_id)
    return row


@router.post("/alerts/{alert_id}/resolve")
async def resolve_alert(
    alert_id: str,
    body: ResolveIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> AlertRow:
    return await _transition(
        runtime, actor, alert_id, "resolved", officer_id=actor.id, outcome=body.outcome
    )


# -------------------------------------------------------- scorecard and dashboard


def _placement_record(fact: PlacementFact) -> domain.PlacementRecord:
    return domain.PlacementRecord(
        placement_id=fact.placement_id,
        provider_id=fact.provider_id,
        primary_need=NeedType(fact.primary_need),
        starts_on=fact.starts_on,
        ends_on=fact.ends_on,
        weekly_fee=Decimal(fact.weekly_fee),
        on_contract=fact.on_contract,
    )


@router.get("/providers/{provider_id}/scorecard")
async def provider_scorecard(
    provider_id: str,
    as_of: ApiDate | None = None,
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> domain.Scorecard:
    """Current Ofsted, visit ratings, KPI trend, open alerts, placements and weekly spend."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        await _provider(uow, provider_id)
        session = uow.session
        inspections = await session.exec(
            select(EvidenceRecord).where(
                EvidenceRecord.provider_id == provider_id,
                EvidenceRecord.kind == domain.EvidenceKind.OFSTED_INSPECTION.value,
            )
        )
        visits = await session.exec(select(Visit).where(Visit.provider_id == provider_id))
        kpis = await session.exec(
            select(KpiReturnRow).where(KpiReturnRow.provider_id == provider_id)
        )
        alerts = await session.exec(
            select(AlertRow).where(
                AlertRow.provider_id == provider_id, col(AlertRow.open_key).is_not(None)
            )
        )
        placements = await session.exec(
            select(PlacementFact).where(PlacementFact.provider_id == provider_id)
        )
        with domain_rules():
            return domain.build_scorecard(
                provider_id,
                as_of=as_of or _today(),
                inspections=[
                    domain.OfstedInspection.model_validate(r.body) for r in inspections.all()
                ],
                visits=[_visit_of(v) for v in visits.all()],
                kpi_returns=[_kpi_of(k) for k in kpis.all()],
                alerts=[alert_of(a) for a in alerts.all()],
                placements=[_placement_record(p) for p in placements.all()],
            )


def _visit_of(visit: Visit) -> domain.MonitoringVisit:
    return domain.MonitoringVisit(
        evidence_id=visit.visit_id,
        provider_id=visit.provider_id,
        officer_id=visit.officer_id,
        visited_on=visit.visited_on,
        rating=visit.rating,
    )


def _budget_out(row: Budget) -> BudgetOut:
    return BudgetOut(
        financial_year=row.financial_year,
        label=domain.financial_year_label(row.financial_year),
        amount=Decimal(row.amount),
        set_by=row.set_by,
        set_at=row.set_at,
        reason=row.reason,
    )


@router.put("/budgets/{financial_year}")
async def set_budget(
    body: BudgetIn,
    financial_year: int = Path(
        ge=2000, le=2100, description="2025 means 2025/26 (1 April 2025 to 31 March 2026)"
    ),
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> BudgetOut:
    """Set (or change) the placement budget of a financial year; audited before/after."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await uow.session.get(Budget, financial_year)
        before = None if row is None else str(row.amount)
        if row is None:
            row = Budget(financial_year=financial_year, amount=body.amount, set_by=actor.id)
        row.amount, row.set_by, row.set_at, row.reason = (
            body.amount,
            actor.id,
            utcnow(),
            body.reason,
        )
        uow.session.add(row)
        uow.audit(
            actor,
            "budget.set",
            "budget",
            str(financial_year),
            before=before,
            after=str(body.amount),
            reason=body.reason,
        )
    return _budget_out(row)


@router.get("/budgets")
async def list_budgets(
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[BudgetOut]:
    async with runtime.db.session() as session:
        rows = (await session.exec(select(Budget).order_by(col(Budget.financial_year)))).all()
    return [_budget_out(row) for row in rows]


@router.get("/dashboard")
async def dashboard(
    financial_year: int | None = Query(default=None, ge=2000, le=2100),
    as_of: ApiDate | None = None,
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> domain.Dashboard:
    """Spend per financial year, on-contract share, cost per placement by need, alerts by
    severity and overdue reviews, all computed from events monitoring has consumed."""
    day = as_of or _today()
    year = financial_year if financial_year is not None else domain.financial_year_of(day)
    async with runtime.db.session() as session:
        totals = await _year_totals(session)
        spend = await _spend_lines(session, year)
        alerts = (
            await session.exec(select(AlertRow).where(col(AlertRow.open_key).is_not(None)))
        ).all()
        reviews = await _reviews_due(session, day)
        budgets = (await session.exec(select(Budget))).all()
    with domain_rules():
        return domain.build_dashboard(
            as_of=day,
            financial_year=year,
            budgets={b.financial_year: Decimal(b.amount) for b in budgets},
            totals=totals,
            spend=spend,
            alerts=[alert_of(a) for a in alerts],
            reviews=reviews,
        )


# The dashboard's spend grows with every placement-year: years are summed by the
# database, only the selected year's lines are read (plain columns, built without
# validating again what was validated when consumed), as are review dates.


CENT = Decimal("0.01")


async def _year_totals(session: AsyncSession) -> list[domain.YearTotal]:
    t = SpendLineRow
    rows = await session.execute(
        select_columns(col(t.financial_year), col(t.on_contract), func.sum(col(t.amount))).group_by(
            col(t.financial_year), col(t.on_contract)
        )
    )
    return [
        domain.YearTotal(financial_year=year, on_contract=on, amount=Decimal(total).quantize(CENT))
        for year, on, total in rows
    ]


async def _spend_lines(session: AsyncSession, year: int) -> list[domain.SpendLine]:
    t = SpendLineRow
    rows = await session.execute(
        select_columns(
            col(t.placement_id),
            col(t.provider_id),
            col(t.primary_need),
            col(t.financial_year),
            col(t.amount),
            col(t.on_contract),
            col(t.line),
        ).where(col(t.financial_year) == year)
    )
    return [
        domain.SpendLine.model_construct(
            placement_id=placement_id,
            provider_id=provider_id,
            primary_need=NeedType(need),
            financial_year=line_year,
            amount=Decimal(amount),
            on_contract=on_contract,
            line=line,
        )
        for placement_id, provider_id, need, line_year, amount, on_contract, line in rows
    ]


async def _reviews_due(session: AsyncSession, day: date) -> list[domain.ReviewDue]:
    t = PlacementFact
    rows = await session.execute(
        select_columns(
            col(t.placement_id),
            col(t.provider_id),
            col(t.review_due_on),
            col(t.review_completed_on),
        ).where(
            col(t.review_due_on).is_not(None),
            # A placement that has ended owes no further review.
            or_(col(t.ends_on).is_(None), col(t.ends_on) >= day),
        )
    )
    return [
        domain.ReviewDue.model_construct(
            placement_id=placement_id, provider_id=provider_id, due_on=due, completed_on=done
        )
        for placement_id, provider_id, due, done in rows
    ]


@router.get("/providers")
async def list_known_providers(
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[ProviderProfile]:
    """Providers monitoring has heard of through providers.v1, newest first."""
    async with runtime.db.session() as session:
        rows = await session.exec(
            select(ProviderProfile).order_by(col(ProviderProfile.first_seen_at).desc()).limit(500)
        )
        return list(rows.all())
