"""The alert rules and the monitoring officers' alert inbox."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field

from services.monitoring import clocks, domain, store
from services.monitoring.api._common import Body, status_rule
from services.monitoring.commands import alerts, evidence
from services.monitoring.models import AlertRow
from services.monitoring.policy import ALLOWED
from shared.audit_read import READS, ReadAudit
from shared.contracts import quality_v1
from shared.errors import NotFound
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["monitoring"])


class RuleChangeIn(Body):
    reason: str = Field(min_length=1, max_length=1000)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    condition: str | None = Field(default=None, min_length=1, max_length=500)
    severity: quality_v1.Severity | None = None
    enabled: bool | None = None


class AssignIn(Body):
    officer_id: str = Field(min_length=1, max_length=200)


class ResolveIn(Body):
    outcome: str = Field(min_length=1, max_length=domain.OUTCOME_MAX_LENGTH)


# ------------------------------------------------------------------------ rules


@router.get("/rules")
async def list_rules(
    history: bool = False,
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[domain.AlertRule]:
    """Rules in force (newest version of each), or every version with ?history=true."""
    async with runtime.db.session() as session:
        versions = await store.rule_versions(session)
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
        return await evidence.change_rule(
            uow,
            actor,
            rule_id,
            reason=body.reason,
            title=body.title,
            condition=body.condition,
            severity=domain.Severity(body.severity.value) if body.severity else None,
            enabled=body.enabled,
        )


# ----------------------------------------------------------------------- alerts


@router.get("/alerts", response_model=list[AlertRow])
async def list_alerts(
    status_: domain.AlertStatus | None = Query(default=None, alias="status"),
    severity: quality_v1.Severity | None = None,
    provider_id: str | None = None,
    limit: int = Query(default=200, ge=1, le=1000),
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
    reads: ReadAudit = READS,
) -> Response:
    """The monitoring officers' inbox, newest first."""
    page = await store.inbox(
        runtime.db,
        status=status_.value if status_ is not None else None,
        severity=severity.value if severity is not None else None,
        provider_id=provider_id,
        limit=limit,
    )
    await reads.record(actor, "alert", _about_placements(page.alerts))
    return Response(page.body, media_type="application/json")


def _about_placements(
    alerts: Iterable[tuple[str, str | None]],
) -> list[tuple[str, str | None]]:
    # An alert about a placement is about a child's placement: its read is audited.
    return [(alert_id, None) for alert_id, placement_id in alerts if placement_id]


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
    await reads.record(actor, "alert", _about_placements([(row.alert_id, row.placement_id)]))
    return row


async def _transition(
    runtime: ServiceRuntime, actor: Actor, alert_id: str, action: str, **details: Any
) -> AlertRow:
    async with unit_of_work(runtime.db, runtime.source) as uow:
        try:
            return await alerts.transition(uow, actor, alert_id, action, **details)
        except domain.DomainError as exc:
            raise status_rule(exc) from None


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
    await clocks.signal_acknowledged(runtime, alert_id)
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
