"""Evidence entry: monitoring visits, termly KPI returns (and the officers' re-run of the
"no KPI return" check) and incidents."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from services.monitoring import domain, store
from services.monitoring.api._common import Body, Created, today
from services.monitoring.commands import alerts, evidence
from services.monitoring.policy import ALLOWED
from shared import clock
from shared.contracts import quality_v1
from shared.contracts.common import Role
from shared.errors import Conflict
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["monitoring"])


class VisitIn(Body):
    provider_id: str = Field(min_length=1, max_length=200)
    visited_on: date
    rating: int = Field(ge=1, le=4, description="1 outstanding .. 4 inadequate")
    findings: str = Field(default="", max_length=domain.FINDINGS_MAX_LENGTH)


class KpiReturnIn(Body):
    placement_id: str = Field(min_length=1, max_length=200)
    term: str = Field(pattern=quality_v1.TERM_PATTERN)
    attendance_pct: float = Field(ge=0, le=100, allow_inf_nan=False)
    exclusions: int = Field(ge=0, le=1000)
    incidents: int = Field(ge=0, le=1000)
    outcomes_progress: quality_v1.OutcomeProgress
    submitted_on: date | None = None


class IncidentIn(Body):
    provider_id: str = Field(min_length=1, max_length=200)
    placement_id: str | None = Field(default=None, max_length=200)
    category: quality_v1.IncidentCategory
    severity: quality_v1.IncidentSeverity
    occurred_on: date
    summary: str = Field(min_length=1, max_length=domain.SUMMARY_MAX_LENGTH)


class KpiCheckIn(Body):
    term: str = Field(pattern=quality_v1.TERM_PATTERN, description='e.g. "2025-autumn"')


class KpiCheckOut(BaseModel):
    term: str
    deadline: datetime
    alerts_raised: int


@router.post("/visits", status_code=status.HTTP_201_CREATED)
async def record_visit(
    body: VisitIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> Created:
    """Record a monitoring visit; a poor rating may raise alerts under the rules."""
    visit_id = str(uuid.uuid4())
    visit = domain.MonitoringVisit(evidence_id=visit_id, officer_id=actor.id, **body.model_dump())
    async with unit_of_work(runtime.db, runtime.source) as uow:
        raised = await evidence.record_visit(uow, actor, visit)
    return Created(id=visit_id, alerts_raised=[a.alert_id for a in raised])


@router.post("/kpi-returns", status_code=status.HTTP_201_CREATED)
async def record_kpi_return(
    body: KpiReturnIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> Created:
    """A termly KPI return for one placement; a provider may submit only its own."""
    return_id = str(uuid.uuid4())
    async with unit_of_work(runtime.db, runtime.source) as uow:
        placement = await store.placement(uow, body.placement_id)
        if actor.role == Role.PROVIDER.value and actor.provider_id != placement.provider_id:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"provider {actor.provider_id} may submit KPI returns only for its own "
                f"placements; {body.placement_id} is not one",
            )
        kpi = domain.KpiReturn(
            evidence_id=return_id,
            provider_id=placement.provider_id,
            **body.model_dump(exclude={"outcomes_progress", "submitted_on"}),
            outcomes_progress=domain.OutcomeProgress(body.outcomes_progress.value),
            submitted_on=body.submitted_on or today(),
        )
        raised = await evidence.record_kpi_return(uow, actor, placement, kpi)
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
    deadline = alerts.kpi_deadline(body.term)
    if clock.now() < deadline:
        raise Conflict(
            "term",
            f"KPI returns for {body.term} are due until {deadline.isoformat()}; "
            "check after the deadline",
        )
    raised = await alerts.raise_missing_kpi_alerts(runtime, body.term)
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
    incident = domain.IncidentReport(
        evidence_id=incident_id,
        provider_id=body.provider_id,
        placement_id=body.placement_id,
        category=domain.IncidentCategory(body.category.value),
        severity=domain.IncidentSeverity(body.severity.value),
        occurred_on=body.occurred_on,
        summary=body.summary,
    )
    async with unit_of_work(runtime.db, runtime.source) as uow:
        raised = await evidence.record_incident(uow, actor, incident)
    return Created(id=incident_id, alerts_raised=[a.alert_id for a in raised])
