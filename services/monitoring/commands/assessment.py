"""Assessing evidence: every piece of evidence (from an event or an officer) is stored,
the rules in force are evaluated, at most one alert per cause is opened and suspension
is recommended where the evidence warrants it."""

from __future__ import annotations

import uuid

from services.monitoring import domain, events, store
from services.monitoring.models import AlertRow, EvidenceRecord, Recommendation
from shared.infra_models import utcnow
from shared.unit_of_work import UnitOfWork
from shared.working_days import working_day_deadline

# Fixed namespace: alert ids are uuid5(cause, first evidence), so a redelivered or
# replayed event recomputes the same id instead of inventing a second alert.
ALERT_NAMESPACE = uuid.UUID("6f7c1d52-8f0e-4f43-9d63-2a5b8f1f0c11")
CHANNELS = ("email", "webhook")


def alert_id_for(match: domain.RuleMatch) -> str:
    return str(uuid.uuid5(ALERT_NAMESPACE, f"{match.dedupe_key}#{match.evidence_ref}"))


async def store_evidence(uow: UnitOfWork, evidence: domain.Evidence) -> None:
    """Keep the evidence. Its id is the event id (the inbox stops a second apply) or a
    fresh id from the API, so a plain insert suffices: no read before the write."""
    uow.session.add(
        EvidenceRecord(
            evidence_id=evidence.evidence_id,
            kind=evidence.kind,
            provider_id=evidence.provider_id,
            placement_id=evidence.target_id(domain.AlertTarget.PLACEMENT),
            body=evidence.model_dump(mode="json"),
        )
    )


async def assess(
    uow: UnitOfWork, evidence: domain.Evidence, *, alerting: bool = True
) -> list[domain.Alert]:
    """Store evidence, raise alerts for new causes, and recommend suspension if warranted."""
    await store_evidence(uow, evidence)
    if not alerting:
        return []
    now = utcnow()
    matches = domain.evaluate_rules(await store.rules_in_force(uow), evidence)
    open_rows = await store.unresolved_alerts(uow, (m.dedupe_key for m in matches))
    for row in open_rows:  # same cause again: keep the trail on the open alert
        store.copy_alert(store.alert_of(row).with_evidence(evidence.evidence_id), row)
        uow.session.add(row)
    raised = domain.raise_alerts(
        matches,
        open_alerts=[store.alert_of(row) for row in open_rows],
        now=now,
        new_alert_id=alert_id_for,
    )
    for alert in raised:
        await open_alert(uow, alert)
    if evidence.provider_id and (raised or evidence.kind == domain.EvidenceKind.OFSTED_INSPECTION):
        await consider_suspension(uow, evidence.provider_id)
    return raised


async def open_alert(uow: UnitOfWork, alert: domain.Alert) -> None:
    # No existence check: the id derives from (cause, evidence), evidence is applied once
    # (inbox) and an unresolved alert of the same cause was found by `assess` already.
    row = AlertRow(**store.alert_columns(alert))
    if alert.severity is domain.Severity.CRITICAL:
        # Unacknowledged by the end of the next working day (London, England and Wales
        # bank holidays) escalates: see domain.escalation_deadline.
        row.escalation_deadline = domain.escalation_deadline(alert, working_day_deadline)
    uow.session.add(row)
    for channel in CHANNELS:
        store.queue_delivery(uow, alert.alert_id, channel, "raised")
    uow.emit(events.alert_raised(alert))


async def consider_suspension(uow: UnitOfWork, provider_id: str) -> None:
    # Cheapest necessary condition first: without an open safeguarding alert there is
    # nothing to recommend, so most evidence stops after one indexed query.
    alert_rows = await store.open_safeguarding_alerts(uow, provider_id)
    if not alert_rows:
        return
    inspections = [
        domain.OfstedInspection.model_validate(body)
        for body in await store.evidence_of(uow, domain.EvidenceKind.OFSTED_INSPECTION, provider_id)
    ]
    recommendation = domain.recommend_suspension(
        provider_id,
        inspections=inspections,
        open_alerts=[store.alert_of(row) for row in alert_rows],
        existing=await store.recommendations_of(uow, provider_id),
        now=utcnow(),
        recommendation_id=str(uuid.uuid4()),
    )
    if recommendation is not None:
        publish_recommendation(uow, recommendation)


def publish_recommendation(
    uow: UnitOfWork, recommendation: domain.SuspensionRecommendation
) -> None:
    """Keep the recommendation and tell the register (outbox): the commissioner decides."""
    event = events.suspension_recommended(recommendation)
    uow.session.add(Recommendation(**event.model_dump()))
    uow.emit(event)
