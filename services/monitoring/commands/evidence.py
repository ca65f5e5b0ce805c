"""Evidence officers and providers enter (visits, KPI returns, incidents), rule changes,
budgets and suspension recommended by hand."""

from __future__ import annotations

import uuid
from decimal import Decimal

from services.monitoring import domain, events, store
from services.monitoring.commands.assessment import assess, publish_recommendation
from services.monitoring.models import Budget, Incident, KpiReturnRow, PlacementFact, Visit
from shared.errors import NotFound
from shared.infra_models import utcnow
from shared.unit_of_work import Actor, UnitOfWork


async def record_visit(
    uow: UnitOfWork, actor: Actor, visit: domain.MonitoringVisit
) -> list[domain.Alert]:
    """Record a monitoring visit; a poor rating may raise alerts under the rules."""
    await store.provider(uow, visit.provider_id)
    uow.session.add(
        Visit(
            visit_id=visit.evidence_id,
            officer_id=actor.id,
            provider_id=visit.provider_id,
            visited_on=visit.visited_on,
            rating=visit.rating,
            findings=visit.findings,
        )
    )
    raised = await assess(uow, visit)
    uow.emit(events.visit_recorded(visit))
    uow.audit(actor, "visit.recorded", "visit", visit.evidence_id)
    return raised


async def record_kpi_return(
    uow: UnitOfWork, actor: Actor, placement: PlacementFact, kpi: domain.KpiReturn
) -> list[domain.Alert]:
    """A termly KPI return for one placement (the caller checked who may submit it)."""
    evidence = domain.with_outcome_streak(kpi, await store.kpi_history(uow, placement.placement_id))
    uow.session.add(
        KpiReturnRow(
            return_id=kpi.evidence_id,
            provider_id=placement.provider_id,
            submitted_by=actor.id,
            placement_id=kpi.placement_id,
            term=kpi.term,
            attendance_pct=kpi.attendance_pct,
            exclusions=kpi.exclusions,
            incidents=kpi.incidents,
            outcomes_progress=kpi.outcomes_progress.value,
            submitted_on=kpi.submitted_on,
        )
    )
    raised = await assess(uow, evidence)
    uow.emit(events.kpi_return_recorded(kpi))
    uow.audit(actor, "kpi_return.recorded", "kpi_return", kpi.evidence_id)
    return raised


async def record_incident(
    uow: UnitOfWork, actor: Actor, incident: domain.IncidentReport
) -> list[domain.Alert]:
    """A safeguarding incident or complaint (no child names: use the child reference)."""
    await store.provider(uow, incident.provider_id)
    if incident.placement_id is not None:
        await store.placement(uow, incident.placement_id)
    uow.session.add(
        Incident(
            incident_id=incident.evidence_id,
            recorded_by=actor.id,
            provider_id=incident.provider_id,
            placement_id=incident.placement_id,
            category=incident.category.value,
            severity=incident.severity.value,
            occurred_on=incident.occurred_on,
            summary=incident.summary,
        )
    )
    raised = await assess(uow, incident)
    uow.emit(events.incident_recorded(incident))
    uow.audit(actor, "incident.recorded", "incident", incident.evidence_id)
    return raised


async def change_rule(
    uow: UnitOfWork,
    actor: Actor,
    rule_id: str,
    *,
    reason: str,
    title: str | None,
    condition: str | None,
    severity: domain.Severity | None,
    enabled: bool | None,
) -> domain.AlertRule:
    """A new version of a rule (threshold, severity, title, on/off); audited with reason."""
    versions = await store.rule_versions(uow.session, rule_id)
    if not versions:
        raise NotFound("rule", rule_id)
    current = domain.current_rules(versions)[rule_id]
    revised = domain.revise_rule(
        current,
        changed_by=actor.id,
        changed_at=utcnow(),
        reason=reason,
        title=title,
        condition=condition,
        severity=severity,
        enabled=enabled,
    )
    uow.session.add(store.rule_row(revised))
    shown = {"title", "condition", "severity", "enabled"}
    uow.audit(
        actor,
        "rule.changed",
        "rule",
        rule_id,
        from_version=current.version,
        to_version=revised.version,
        before=current.model_dump(mode="json", include=shown),
        after=revised.model_dump(mode="json", include=shown),
        reason=reason,
    )
    return revised


async def set_budget(
    uow: UnitOfWork, actor: Actor, financial_year: int, amount: Decimal, reason: str | None
) -> Budget:
    """Set (or change) the placement budget of a financial year; audited before/after."""
    row = await uow.session.get(Budget, financial_year)
    before = None if row is None else str(row.amount)
    if row is None:
        row = Budget(financial_year=financial_year, amount=amount, set_by=actor.id)
    row.amount, row.set_by, row.set_at, row.reason = amount, actor.id, utcnow(), reason
    uow.session.add(row)
    uow.audit(
        actor,
        "budget.set",
        "budget",
        str(financial_year),
        before=before,
        after=str(amount),
        reason=reason,
    )
    return row


async def recommend_suspension_by_hand(
    uow: UnitOfWork, actor: Actor, provider_id: str, grounds: list[str], reason: str
) -> domain.SuspensionRecommendation:
    """An officer's recommendation goes the way the rules' one does: kept here, published
    on quality.v1 (outbox) for the register, where a commissioner decides it."""
    await store.provider(uow, provider_id)
    recommendation = domain.recommend_suspension_by_hand(
        provider_id,
        grounds=grounds,
        reason=reason,
        raised_by=actor.id,
        existing=await store.recommendations_of(uow, provider_id),
        now=utcnow(),
        recommendation_id=str(uuid.uuid4()),
    )
    publish_recommendation(uow, recommendation)
    uow.audit(
        actor,
        "suspension.recommended_by_hand",
        "provider",
        provider_id,
        recommendation_id=recommendation.recommendation_id,
        grounds=list(recommendation.grounds),
    )
    return recommendation
