"""Kafka subscribers of monitoring: it watches every topic for quality evidence.

Every handler turns its event into a domain `Evidence` record and calls `assess`, which
stores the evidence, evaluates the rules in force, opens at most one alert per cause and
recommends suspension where the evidence warrants it. The API calls `assess` too, so
evidence entered by officers follows exactly the same path.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import inspect as sa_inspect
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from services.monitoring import domain
from services.monitoring.models import (
    AlertRow,
    CompetitionFact,
    Delivery,
    EvidenceRecord,
    MonitoringModel,
    PlacementFact,
    ProviderProfile,
    Recommendation,
    RuleVersion,
    SpendLineRow,
)
from shared.contracts import placements_v1, procurement_v1, providers_v1, quality_v1
from shared.contracts.inspections import read_inspection
from shared.envelope import Envelope
from shared.infra_models import utcnow
from shared.runtime import ServiceRuntime, Subscriptions
from shared.unit_of_work import UnitOfWork
from shared.working_days import working_day_deadline

# Fixed namespace: alert ids are uuid5(cause, first evidence), so a redelivered or
# replayed event recomputes the same id instead of inventing a second alert.
ALERT_NAMESPACE = uuid.UUID("6f7c1d52-8f0e-4f43-9d63-2a5b8f1f0c11")
CHANNELS = ("email", "webhook")


def alert_id_for(match: domain.RuleMatch) -> str:
    return str(uuid.uuid5(ALERT_NAMESPACE, f"{match.dedupe_key}#{match.evidence_ref}"))


# ------------------------------------------------------------------ row <-> domain


def rule_of(row: RuleVersion) -> domain.AlertRule:
    return domain.AlertRule.model_validate(row.model_dump())


def rule_row(rule: domain.AlertRule) -> RuleVersion:
    return RuleVersion.model_validate(
        rule.model_dump(mode="json") | {"changed_at": rule.changed_at}
    )


_ALERT_FIELDS = tuple(domain.Alert.model_fields)


def alert_of(row: AlertRow) -> domain.Alert:
    data = {name: getattr(row, name) for name in _ALERT_FIELDS}
    data["evidence_refs"] = tuple(row.evidence_refs)
    return domain.Alert.model_validate(data)


def alert_columns(alert: domain.Alert) -> dict[str, Any]:
    """Column values of a domain alert; open_key follows the status (see AlertRow)."""
    columns = alert.model_dump(mode="json")
    for name in ("raised_at", "assigned_at", "acknowledged_at", "resolved_at", "escalated_at"):
        columns[name] = getattr(alert, name)
    columns["evidence_refs"] = list(alert.evidence_refs)
    columns["open_key"] = alert.dedupe_key if alert.is_unresolved else None
    return columns


def copy_alert(alert: domain.Alert, row: AlertRow) -> AlertRow:
    """Write a domain alert's state onto its existing row."""
    for name, value in alert_columns(alert).items():
        setattr(row, name, value)
    return row


def alert_payload(alert: domain.Alert) -> quality_v1.AlertRaised:
    return quality_v1.AlertRaised(
        alert_id=alert.alert_id,
        dedupe_key=alert.dedupe_key,
        rule_id=alert.rule_id,
        rule_version=alert.rule_version,
        title=alert.title,
        severity=alert.severity,
        target=alert.target,
        target_id=alert.target_id,
        provider_id=alert.provider_id,
        placement_id=alert.placement_id,
        cause=alert.cause,
        evidence_kind=alert.evidence_kind.value,
        evidence_refs=list(alert.evidence_refs),
        raised_at=alert.raised_at,
    )


# ------------------------------------------------------------------------ queries
#
# A consumer batch applies many events in one transaction. Reads here run without
# autoflush and add the transaction's own pending rows themselves, so the inserts of a
# whole batch reach the database in one flush at commit instead of one per event (on
# SQLite this is what lets monitoring keep up with a steady 100 events/s).

T = TypeVar("T", bound=MonitoringModel)


def pending(uow: UnitOfWork, model: type[T]) -> list[T]:
    """Rows of `model` added in this transaction and not flushed yet."""
    return [row for row in uow.session.new if isinstance(row, model)]


async def find(uow: UnitOfWork, model: type[T], *key: object) -> T | None:
    """Row by primary key, pending rows of this transaction included."""
    names = [column.key for column in sa_inspect(model).primary_key]
    for row in pending(uow, model):
        if tuple(getattr(row, name) for name in names) == key:
            return row
    with uow.session.sync_session.no_autoflush:
        return await uow.session.get(model, key if len(key) > 1 else key[0])


async def select_rows(uow: UnitOfWork, query: SelectOfScalar[T]) -> list[T]:
    with uow.session.sync_session.no_autoflush:
        return list((await uow.session.exec(query)).all())


async def rules_in_force(uow: UnitOfWork) -> list[domain.AlertRule]:
    """Current rule versions, read once per transaction (a consumer batch is one)."""
    cached: list[domain.AlertRule] | None = uow.session.info.get("monitoring_rules")
    if cached is None:
        rows = await select_rows(uow, select(RuleVersion))
        cached = list(domain.current_rules(rule_of(row) for row in rows).values())
        uow.session.info["monitoring_rules"] = cached
    return cached


async def evidence_of(uow: UnitOfWork, kind: str, provider_id: str) -> list[dict[str, Any]]:
    query = select(EvidenceRecord).where(
        EvidenceRecord.kind == kind, EvidenceRecord.provider_id == provider_id
    )
    rows = await select_rows(uow, query)
    rows += [
        r for r in pending(uow, EvidenceRecord) if r.kind == kind and r.provider_id == provider_id
    ]
    return [row.body for row in rows]


async def unresolved_alerts(uow: UnitOfWork, keys: Iterable[str]) -> list[AlertRow]:
    wanted = set(keys)
    if not wanted:
        return []
    rows = await select_rows(uow, select(AlertRow).where(col(AlertRow.open_key).in_(wanted)))
    return rows + [r for r in pending(uow, AlertRow) if r.open_key in wanted]


# ------------------------------------------------------------------------- assess


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
    matches = domain.evaluate_rules(await rules_in_force(uow), evidence)
    open_rows = await unresolved_alerts(uow, (m.dedupe_key for m in matches))
    for row in open_rows:  # same cause again: keep the trail on the open alert
        copy_alert(alert_of(row).with_evidence(evidence.evidence_id), row)
        uow.session.add(row)
    raised = domain.raise_alerts(
        matches,
        open_alerts=[alert_of(row) for row in open_rows],
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
    row = AlertRow(**alert_columns(alert))
    if alert.severity is domain.Severity.CRITICAL:
        # Unacknowledged by the end of the next working day (London, England and Wales
        # bank holidays) escalates: see domain.escalation_deadline.
        row.escalation_deadline = domain.escalation_deadline(alert, working_day_deadline)
    uow.session.add(row)
    for channel in CHANNELS:
        uow.session.add(Delivery(alert_id=alert.alert_id, channel=channel))
    uow.emit_raw(quality_v1.TOPIC, "quality.alert.raised", alert.alert_id, alert_payload(alert))


async def consider_suspension(uow: UnitOfWork, provider_id: str) -> None:
    # Cheapest necessary condition first: without an open safeguarding alert there is
    # nothing to recommend, so most evidence stops after one indexed query.
    safeguarding = domain.SAFEGUARDING_RULE_IDS
    alert_rows = await select_rows(
        uow,
        select(AlertRow).where(
            AlertRow.provider_id == provider_id,
            col(AlertRow.open_key).is_not(None),
            col(AlertRow.rule_id).in_(safeguarding),
        ),
    )
    alert_rows += [
        r
        for r in pending(uow, AlertRow)
        if r.provider_id == provider_id and r.rule_id in safeguarding and r.open_key
    ]
    if not alert_rows:
        return
    inspections = [
        domain.OfstedInspection.model_validate(body)
        for body in await evidence_of(uow, domain.EvidenceKind.OFSTED_INSPECTION, provider_id)
    ]
    recommendation = domain.recommend_suspension(
        provider_id,
        inspections=inspections,
        open_alerts=[alert_of(row) for row in alert_rows],
        existing=await recommendations_of(uow, provider_id),
        now=utcnow(),
        recommendation_id=str(uuid.uuid4()),
    )
    if recommendation is not None:
        publish_recommendation(uow, recommendation)


async def recommendations_of(
    uow: UnitOfWork, provider_id: str
) -> list[domain.SuspensionRecommendation]:
    """The provider's recommendations, open and closed, this transaction's included."""
    rows = await select_rows(
        uow, select(Recommendation).where(Recommendation.provider_id == provider_id)
    )
    rows += [r for r in pending(uow, Recommendation) if r.provider_id == provider_id]
    return [domain.SuspensionRecommendation.model_validate(r.model_dump()) for r in rows]


def publish_recommendation(
    uow: UnitOfWork, recommendation: domain.SuspensionRecommendation
) -> None:
    """Keep the recommendation and tell the register (outbox): the commissioner decides."""
    uow.session.add(
        Recommendation(
            recommendation_id=recommendation.recommendation_id,
            provider_id=recommendation.provider_id,
            reasons=list(recommendation.reasons),
            evidence_refs=list(recommendation.evidence_refs),
            alert_ids=list(recommendation.alert_ids),
            recommended_at=recommendation.recommended_at,
            raised_by=recommendation.raised_by,
            grounds=list(recommendation.grounds),
        )
    )
    uow.emit_raw(
        quality_v1.TOPIC,
        quality_v1.SuspensionRecommended.EVENT_TYPE,
        recommendation.provider_id,
        quality_v1.SuspensionRecommended(
            recommendation_id=recommendation.recommendation_id,
            provider_id=recommendation.provider_id,
            reasons=list(recommendation.reasons),
            evidence_refs=list(recommendation.evidence_refs),
            alert_ids=list(recommendation.alert_ids),
            recommended_at=recommendation.recommended_at,
            raised_by=recommendation.raised_by,
            grounds=list(recommendation.grounds),
        ),
    )


# ---------------------------------------------------------------------- providers.v1


async def _upsert_profile(uow: UnitOfWork, snapshot: providers_v1.ProviderSnapshot) -> None:
    profile = await find(uow, ProviderProfile, snapshot.provider_id)
    if profile is None:
        profile = ProviderProfile(
            provider_id=snapshot.provider_id,
            urn=snapshot.urn,
            name=snapshot.name,
            status=snapshot.status.value,
        )
    profile.name = snapshot.name
    profile.status = snapshot.status.value
    if snapshot.latest_inspection is not None:
        judgement = read_inspection(snapshot.latest_inspection).equivalent
        profile.ofsted_judgement = judgement.value if judgement else None
    profile.updated_at = utcnow()
    uow.session.add(profile)


async def on_provider_registered(
    uow: UnitOfWork, envelope: Envelope, event: providers_v1.ProviderRegistered
) -> None:
    await _upsert_profile(uow, event.provider)
    # A provider registered with its inspection (e.g. from a GIAS extract) gets no
    # separate inspection event: assess it here, or a failing one would never alert.
    latest = event.provider.latest_inspection
    if latest is None:
        return
    evidence = domain.inspection_evidence(envelope.id, event.provider.provider_id, latest)
    if evidence is not None:
        await assess(uow, evidence)


async def on_provider_updated(
    uow: UnitOfWork, _envelope: Envelope, event: providers_v1.ProviderUpdated
) -> None:
    await _upsert_profile(uow, event.provider)


async def _known_profile(uow: UnitOfWork, provider_id: str, urn: int, name: str) -> ProviderProfile:
    # Events may arrive before registration was seen (e.g. after a replay): learn it here.
    profile = await find(uow, ProviderProfile, provider_id)
    if profile is None:
        profile = ProviderProfile(provider_id=provider_id, urn=urn, name=name, status="registered")
    profile.name = name
    profile.updated_at = utcnow()
    return profile


async def on_inspection_recorded(
    uow: UnitOfWork, envelope: Envelope, event: providers_v1.ProviderInspectionRecorded
) -> None:
    profile = await _known_profile(uow, event.provider_id, event.urn, event.name)
    if event.is_latest:
        judgement = read_inspection(event.new).equivalent
        profile.ofsted_judgement = judgement.value if judgement else profile.ofsted_judgement
        profile.ofsted_inspected_on = datetime.combine(event.new.inspected_on, time(0), tzinfo=UTC)
    uow.session.add(profile)
    evidence = domain.inspection_evidence(envelope.id, event.provider_id, event.new)
    if evidence is not None:
        # A back-filled older inspection is history, not news: keep it, raise nothing.
        await assess(uow, evidence, alerting=event.is_latest)


async def on_status_changed(
    uow: UnitOfWork, envelope: Envelope, event: providers_v1.ProviderStatusChanged
) -> None:
    profile = await _known_profile(uow, event.provider_id, event.urn, event.name)
    profile.status = event.status.value
    uow.session.add(profile)
    await assess(
        uow,
        domain.ProviderStatusChanged(
            evidence_id=envelope.id,
            provider_id=event.provider_id,
            previous_status=event.previous_status.value,
            new_status=event.status.value,
            changed_on=event.changed_at.date(),
        ),
    )
    if event.recommendation_id:
        await _close_recommendation(uow, event.recommendation_id, event.status.value)


async def on_recommendation_rejected(
    uow: UnitOfWork, _envelope: Envelope, event: providers_v1.ProviderRecommendationRejected
) -> None:
    """The commissioner said no: close ours, so a new recommendation can be raised."""
    await _close_recommendation(uow, event.recommendation_id, f"rejected: {event.reason}"[:200])


async def _close_recommendation(uow: UnitOfWork, recommendation_id: str, decision: str) -> None:
    row = await find(uow, Recommendation, recommendation_id)
    if row is not None and row.status == "open":
        row.status, row.closed_at, row.decision = "closed", utcnow(), decision
        uow.session.add(row)


async def on_document_expiring(
    uow: UnitOfWork, envelope: Envelope, event: providers_v1.ProviderDocumentExpiring
) -> None:
    await assess(
        uow,
        domain.DocumentExpiry(
            evidence_id=envelope.id,
            provider_id=event.provider_id,
            document_type=event.kind.value,
            expires_on=event.expires_on,
            # The register's own day count, so "expired" here agrees with its view.
            as_of=event.expires_on - timedelta(days=event.days_until_expiry),
        ),
    )


# --------------------------------------------------------------------- placements.v1


async def on_contract_created(
    uow: UnitOfWork, _envelope: Envelope, event: placements_v1.PlacementContractCreated
) -> None:
    fact = await find(uow, PlacementFact, event.placement_id)
    if fact is None:
        fact = PlacementFact(
            placement_id=event.placement_id,
            provider_id=event.provider_id,
            primary_need=event.primary_need.value,
            starts_on=event.start_date,
            weekly_fee=event.fee.weekly_total,
        )
    fact.provider_id = event.provider_id
    fact.starts_on = event.start_date
    fact.ends_on = event.term_end
    fact.weekly_fee = event.fee.weekly_total
    fact.on_contract = event.on_contract
    fact.review_due_on = event.first_review_due
    fact.updated_at = utcnow()
    uow.session.add(fact)


async def _update_fact(uow: UnitOfWork, placement_id: str, **changes: Any) -> None:
    fact = await find(uow, PlacementFact, placement_id)
    if fact is None:
        return  # created before monitoring listened; nothing to keep up to date
    for name, value in changes.items():
        setattr(fact, name, value)
    fact.updated_at = utcnow()
    uow.session.add(fact)


async def on_contract_varied(
    uow: UnitOfWork, _envelope: Envelope, event: placements_v1.PlacementContractVaried
) -> None:
    await _update_fact(uow, event.placement_id, weekly_fee=event.fee.weekly_total)


async def on_uplift_requested(
    uow: UnitOfWork, envelope: Envelope, event: placements_v1.PlacementContractUpliftRequested
) -> None:
    await assess(
        uow,
        domain.UpliftRequested(
            evidence_id=envelope.id,
            provider_id=event.provider_id,
            placement_id=event.placement_id,
            requested_on=envelope.time.date(),
            requested_pct=float(min(max(event.requested_percent, Decimal(0)), Decimal(100))),
            cap_pct=float(min(max(event.cap_percent, Decimal(0)), Decimal(100))),
        ),
    )


async def _placement_ended(
    uow: UnitOfWork,
    envelope: Envelope,
    placement_id: str,
    provider_id: str,
    ended_on: date,
    reason: str,
    terminated: bool,
) -> None:
    await _update_fact(uow, placement_id, ends_on=ended_on)
    # Free text from another system: keep it only if it cannot carry a child's name.
    safe_reason = reason[:200]
    try:
        evidence = domain.PlacementEnded(
            evidence_id=envelope.id,
            provider_id=provider_id,
            placement_id=placement_id,
            ended_on=ended_on,
            terminated=terminated,
            reason=safe_reason,
        )
    except domain.DomainError:
        evidence = domain.PlacementEnded(
            evidence_id=envelope.id,
            provider_id=provider_id,
            placement_id=placement_id,
            ended_on=ended_on,
            terminated=terminated,
        )
    await assess(uow, evidence)


async def on_contract_ended(
    uow: UnitOfWork, envelope: Envelope, event: placements_v1.PlacementContractEnded
) -> None:
    await _placement_ended(
        uow, envelope, event.placement_id, event.provider_id, event.ended_on, event.reason, False
    )


async def on_contract_terminated(
    uow: UnitOfWork, envelope: Envelope, event: placements_v1.PlacementContractTerminated
) -> None:
    await _placement_ended(
        uow,
        envelope,
        event.placement_id,
        event.provider_id,
        event.terminated_on,
        event.reason,
        True,
    )


async def on_review_scheduled(
    uow: UnitOfWork, envelope: Envelope, event: placements_v1.PlacementReviewScheduled
) -> None:
    await _update_fact(
        uow, event.placement_id, review_due_on=event.due_on, review_completed_on=None
    )
    if not event.beyond_statutory_limit:
        return  # the common case is no evidence: nothing for a rule to watch
    await assess(
        uow,
        domain.ReviewScheduled(
            evidence_id=envelope.id,
            provider_id=event.provider_id,
            placement_id=event.placement_id,
            due_on=event.due_on,
            statutory_latest=event.statutory_latest,
            beyond_statutory_limit=event.beyond_statutory_limit,
        ),
    )


async def on_review_overdue(
    uow: UnitOfWork, envelope: Envelope, event: placements_v1.PlacementReviewOverdue
) -> None:
    await assess(
        uow,
        domain.ReviewOverdue(
            evidence_id=envelope.id,
            provider_id=event.provider_id,
            placement_id=event.placement_id,
            due_on=event.due_on,
            as_of=event.due_on + timedelta(days=event.days_overdue),
        ),
    )


async def on_review_completed(
    uow: UnitOfWork, envelope: Envelope, event: placements_v1.PlacementReviewCompleted
) -> None:
    await _update_fact(uow, event.placement_id, review_completed_on=event.completed_on)
    await assess(
        uow,
        domain.ReviewOutcome(
            evidence_id=envelope.id,
            provider_id=event.provider_id,
            placement_id=event.placement_id,
            reviewed_on=event.completed_on,
            outcome=domain.ReviewOutcomeKind(event.outcome.value),
        ),
    )


async def on_spend_committed(
    uow: UnitOfWork, _envelope: Envelope, event: placements_v1.PlacementSpendCommitted
) -> None:
    row = await find(uow, SpendLineRow, event.placement_id, event.financial_year)
    if row is None:
        row = SpendLineRow(
            placement_id=event.placement_id,
            financial_year=event.financial_year,
            provider_id=event.provider_id,
            primary_need=event.primary_need.value,
            amount=event.amount,
            on_contract=event.on_contract,
            line=event.line,
        )
    row.amount, row.on_contract, row.updated_at = event.amount, event.on_contract, utcnow()
    uow.session.add(row)


# -------------------------------------------------------------------- procurement.v1


async def on_application_overdue(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.ApplicationOverdue
) -> None:
    await assess(
        uow,
        domain.ApplicationOverdue(
            evidence_id=envelope.id,
            provider_id=event.provider_id,
            application_id=event.application_id,
            due_on=event.evaluation_due_on,
            as_of=max(event.detected_at.date(), event.evaluation_due_on),
        ),
    )


async def on_competition_opened(
    uow: UnitOfWork, _envelope: Envelope, event: procurement_v1.CompetitionOpened
) -> None:
    fact = await find(uow, CompetitionFact, event.competition_id)
    if fact is None:
        fact = CompetitionFact(
            competition_id=event.competition_id,
            category_code=event.category_code,
            kind=event.kind,
            opened_at=event.opened_at,
        )
    fact.need_ref = event.need_ref
    uow.session.add(fact)


async def on_competition_closed(
    uow: UnitOfWork, _envelope: Envelope, event: procurement_v1.CompetitionClosed
) -> None:
    fact = await find(uow, CompetitionFact, event.competition_id)
    if fact is not None:
        fact.bids_received = event.bids_received
        uow.session.add(fact)


async def on_no_suitable_bid(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.CompetitionNoSuitableBid
) -> None:
    # The placement need comes from competition.opened (same key, so it arrived first);
    # a block competition has none and placement-targeted rules skip it.
    fact = await find(uow, CompetitionFact, event.competition_id)
    await assess(
        uow,
        domain.CompetitionWithoutSuitableBid(
            evidence_id=envelope.id,
            competition_id=event.competition_id,
            category_id=fact.category_code if fact else None,
            placement_id=fact.need_ref if fact else None,
            closed_on=event.declared_at.date(),
            bids_received=fact.bids_received if fact else 0,
            round=event.round,
            lot_code=event.lot_code,
            next_action=event.next_action,
        ),
    )


async def on_self_declaration_overdue(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.SelfDeclarationOverdue
) -> None:
    await assess(
        uow,
        domain.SelfDeclarationOverdue(
            evidence_id=envelope.id,
            provider_id=event.provider_id,
            request_id=event.request_id,
            scheme_id=event.scheme_id,
            due_on=event.due_on,
        ),
    )


async def on_notice_overdue(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.NoticeOverdue
) -> None:
    await assess(
        uow,
        domain.NoticeOverdue(
            evidence_id=envelope.id,
            scheme_id=event.scheme_id,
            notice_id=event.notice_id,
            notice_kind=event.kind,
            competition_id=event.competition_id,
            due_on=event.due_on,
            rule=event.rule,
        ),
    )


async def on_deadline_at_risk(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.CompetitionDeadlineAtRisk
) -> None:
    await assess(
        uow,
        domain.CallOffDeadlineAtRisk(
            evidence_id=envelope.id,
            placement_id=event.need_ref,
            competition_id=event.competition_id,
            statutory_deadline=event.statutory_deadline,
            expected_completion=event.expected_completion,
        ),
    )


def _all_subscriptions() -> Subscriptions:
    return {
        providers_v1.TOPIC: {
            providers_v1.PROVIDER_REGISTERED: on_provider_registered,
            providers_v1.PROVIDER_UPDATED: on_provider_updated,
            providers_v1.PROVIDER_INSPECTION_RECORDED: on_inspection_recorded,
            providers_v1.PROVIDER_STATUS_CHANGED: on_status_changed,
            providers_v1.PROVIDER_DOCUMENT_EXPIRING: on_document_expiring,
            providers_v1.PROVIDER_RECOMMENDATION_REJECTED: on_recommendation_rejected,
        },
        placements_v1.TOPIC: {
            "placement.contract.created": on_contract_created,
            "placement.contract.varied": on_contract_varied,
            "placement.contract.uplift_requested": on_uplift_requested,
            "placement.contract.ended": on_contract_ended,
            "placement.contract.terminated": on_contract_terminated,
            "placement.review.scheduled": on_review_scheduled,
            "placement.review.overdue": on_review_overdue,
            "placement.review.completed": on_review_completed,
            "placement.spend.committed": on_spend_committed,
        },
        procurement_v1.TOPIC: {
            procurement_v1.ApplicationOverdue.TYPE: on_application_overdue,
            procurement_v1.CompetitionOpened.TYPE: on_competition_opened,
            procurement_v1.CompetitionClosed.TYPE: on_competition_closed,
            procurement_v1.CompetitionNoSuitableBid.TYPE: on_no_suitable_bid,
            procurement_v1.SelfDeclarationOverdue.TYPE: on_self_declaration_overdue,
            procurement_v1.NoticeOverdue.TYPE: on_notice_overdue,
            procurement_v1.CompetitionDeadlineAtRisk.TYPE: on_deadline_at_risk,
        },
    }


def subscriptions(_runtime: ServiceRuntime) -> Subscriptions:
    return _all_subscriptions()
