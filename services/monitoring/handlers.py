"""Kafka subscribers of monitoring: it watches every topic for quality evidence.

Every handler turns its event into a domain `Evidence` record and calls the `assess`
command, which stores the evidence, evaluates the rules in force, opens at most one alert
per cause and recommends suspension where the evidence warrants it. The API calls
`assess` too, so evidence entered by officers follows exactly the same path. Facts
monitoring keeps (providers, placements, spend, competitions) are written by
`commands.facts`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from services.monitoring import domain, store
from services.monitoring.commands import facts, notifications
from services.monitoring.commands.assessment import assess
from services.monitoring.delivery import notifications as messages
from services.monitoring.models import CompetitionFact
from shared.consumer import batch_handler
from shared.contracts import placements_v1, procurement_v1, providers_v1
from shared.envelope import Envelope
from shared.runtime import ServiceRuntime, Subscriptions
from shared.unit_of_work import UnitOfWork


async def _assess(
    uow: UnitOfWork, envelope: Envelope, kind: Callable[..., domain.Evidence], **fields: Any
) -> None:
    """Assess the evidence of `kind` that `envelope` carries (its id is the evidence id)."""
    await assess(uow, kind(evidence_id=envelope.id, **fields))


# ---------------------------------------------------------------------- providers.v1


async def on_provider_registered(
    uow: UnitOfWork, envelope: Envelope, event: providers_v1.ProviderRegistered
) -> None:
    await facts.upsert_profile(uow, event.provider)
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
    await facts.upsert_profile(uow, event.provider)


@batch_handler
async def on_inspection_recorded(
    uow: UnitOfWork, events: Sequence[tuple[Envelope, providers_v1.ProviderInspectionRecorded]]
) -> None:
    """A batch's inspections in order, after one read of what they all need (the Ofsted
    feed is monitoring's busiest source of evidence)."""
    await facts.prepare_inspections(uow, [(envelope.id, event) for envelope, event in events])
    for envelope, event in events:
        uow.answering(envelope)
        await facts.record_inspection(uow, envelope.id, event)


async def on_status_changed(
    uow: UnitOfWork, envelope: Envelope, event: providers_v1.ProviderStatusChanged
) -> None:
    evidence = domain.ProviderStatusChanged(
        evidence_id=envelope.id,
        provider_id=event.provider_id,
        previous_status=event.previous_status.value,
        new_status=event.status.value,
        changed_on=event.changed_at.date(),
    )
    await facts.change_status(uow, evidence, event)


async def on_recommendation_rejected(
    uow: UnitOfWork, _envelope: Envelope, event: providers_v1.ProviderRecommendationRejected
) -> None:
    """The commissioner said no: close ours, so a new recommendation can be raised."""
    await facts.close_recommendation(
        uow, event.recommendation_id, f"rejected: {event.reason}"[:200]
    )


async def on_document_expiring(
    uow: UnitOfWork, envelope: Envelope, event: providers_v1.ProviderDocumentExpiring
) -> None:
    await _assess(
        uow,
        envelope,
        domain.DocumentExpiry,
        provider_id=event.provider_id,
        document_type=event.kind.value,
        expires_on=event.expires_on,
        # The register's own day count, so "expired" here agrees with its view.
        as_of=event.expires_on - timedelta(days=event.days_until_expiry),
    )


# --------------------------------------------------------------------- placements.v1


async def on_contract_created(
    uow: UnitOfWork, _envelope: Envelope, event: placements_v1.PlacementContractCreated
) -> None:
    await facts.record_contract(uow, event)


async def on_contract_varied(
    uow: UnitOfWork, _envelope: Envelope, event: placements_v1.PlacementContractVaried
) -> None:
    await facts.update_placement(uow, event.placement_id, weekly_fee=event.fee.weekly_total)


async def on_uplift_requested(
    uow: UnitOfWork, envelope: Envelope, event: placements_v1.PlacementContractUpliftRequested
) -> None:
    await _assess(
        uow,
        envelope,
        domain.UpliftRequested,
        provider_id=event.provider_id,
        placement_id=event.placement_id,
        requested_on=envelope.time.date(),
        requested_pct=float(min(max(event.requested_percent, Decimal(0)), Decimal(100))),
        cap_pct=float(min(max(event.cap_percent, Decimal(0)), Decimal(100))),
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
    await facts.update_placement(uow, placement_id, ends_on=ended_on)
    # Free text from another system: keep it only if it cannot carry a child's name.
    safe_reason = reason[:200]
    ended = partial(
        domain.PlacementEnded,
        evidence_id=envelope.id,
        provider_id=provider_id,
        placement_id=placement_id,
        ended_on=ended_on,
        terminated=terminated,
    )
    try:
        evidence = ended(reason=safe_reason)
    except domain.DomainError:
        evidence = ended()
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
    await facts.update_placement(
        uow, event.placement_id, review_due_on=event.due_on, review_completed_on=None
    )
    if not event.beyond_statutory_limit:
        return  # the common case is no evidence: nothing for a rule to watch
    await _assess(
        uow,
        envelope,
        domain.ReviewScheduled,
        provider_id=event.provider_id,
        placement_id=event.placement_id,
        due_on=event.due_on,
        statutory_latest=event.statutory_latest,
        beyond_statutory_limit=event.beyond_statutory_limit,
    )


async def on_review_overdue(
    uow: UnitOfWork, envelope: Envelope, event: placements_v1.PlacementReviewOverdue
) -> None:
    await _assess(
        uow,
        envelope,
        domain.ReviewOverdue,
        provider_id=event.provider_id,
        placement_id=event.placement_id,
        due_on=event.due_on,
        as_of=event.due_on + timedelta(days=event.days_overdue),
    )


async def on_review_completed(
    uow: UnitOfWork, envelope: Envelope, event: placements_v1.PlacementReviewCompleted
) -> None:
    await facts.update_placement(uow, event.placement_id, review_completed_on=event.completed_on)
    await _assess(
        uow,
        envelope,
        domain.ReviewOutcome,
        provider_id=event.provider_id,
        placement_id=event.placement_id,
        reviewed_on=event.completed_on,
        outcome=domain.ReviewOutcomeKind(event.outcome.value),
    )


async def on_spend_committed(
    uow: UnitOfWork, _envelope: Envelope, event: placements_v1.PlacementSpendCommitted
) -> None:
    await facts.record_spend(uow, event)


# -------------------------------------------------------------------- procurement.v1


async def on_application_overdue(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.ApplicationOverdue
) -> None:
    await _assess(
        uow,
        envelope,
        domain.ApplicationOverdue,
        provider_id=event.provider_id,
        application_id=event.application_id,
        due_on=event.evaluation_due_on,
        as_of=max(event.detected_at.date(), event.evaluation_due_on),
    )


async def on_competition_opened(
    uow: UnitOfWork, _envelope: Envelope, event: procurement_v1.CompetitionOpened
) -> None:
    await facts.record_competition_opened(uow, event)


async def on_competition_closed(
    uow: UnitOfWork, _envelope: Envelope, event: procurement_v1.CompetitionClosed
) -> None:
    await facts.record_competition_closed(uow, event)
    await notifications.cancel_reminders(uow, event.competition_id, None)


async def on_no_suitable_bid(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.CompetitionNoSuitableBid
) -> None:
    # The placement need comes from competition.opened (same key, so it arrived first);
    # a block competition has none and placement-targeted rules skip it.
    fact = await store.find(uow, CompetitionFact, event.competition_id)
    await _assess(
        uow,
        envelope,
        domain.CompetitionWithoutSuitableBid,
        competition_id=event.competition_id,
        category_id=fact.category_code if fact else None,
        placement_id=fact.need_ref if fact else None,
        closed_on=event.declared_at.date(),
        bids_received=fact.bids_received if fact else 0,
        round=event.round,
        lot_code=event.lot_code,
        next_action=event.next_action,
    )


async def on_self_declaration_overdue(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.SelfDeclarationOverdue
) -> None:
    await _assess(
        uow,
        envelope,
        domain.SelfDeclarationOverdue,
        provider_id=event.provider_id,
        request_id=event.request_id,
        scheme_id=event.scheme_id,
        due_on=event.due_on,
    )


async def on_notice_overdue(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.NoticeOverdue
) -> None:
    await _assess(
        uow,
        envelope,
        domain.NoticeOverdue,
        scheme_id=event.scheme_id,
        notice_id=event.notice_id,
        notice_kind=event.kind,
        competition_id=event.competition_id,
        due_on=event.due_on,
        rule=event.rule,
    )


async def on_deadline_at_risk(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.CompetitionDeadlineAtRisk
) -> None:
    await _assess(
        uow,
        envelope,
        domain.CallOffDeadlineAtRisk,
        placement_id=event.need_ref,
        competition_id=event.competition_id,
        statutory_deadline=event.statutory_deadline,
        expected_completion=event.expected_completion,
    )


# ------------------------------------------- providers' e-mail notifications (issue 15)
#
# Procurement events a provider's people may want to hear of. Each queues e-mails in the
# event's own transaction (the consumer's inbox makes a redelivered event a no-op; the
# e-mail's unique dedupe key backs that up), so every subscribed person gets one e-mail
# per event.


def _link(path: str) -> str:
    return messages.portal_link(notifications.settings().console_base_url, path)


def _call_off_link(competition_id: str) -> str:
    return _link(f"/portal/call-offs/{competition_id}")


async def on_provider_invited(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.ProviderInvited
) -> None:
    await notifications.record_invitation(
        uow, event.competition_id, event.provider_id, event.deadline_at
    )
    link = _call_off_link(event.competition_id)
    topic = notifications.competition_key(event.competition_id, event.provider_id)
    await notifications.queue(
        uow,
        event_id=envelope.id,
        provider_id=event.provider_id,
        kind="invitation",
        topic_key=topic,
        message=messages.invitation(event.competition_id, event.deadline_at, link),
        due_at=event.invited_at,
    )
    # The reminder is queued now with its due time: the sender sends nothing before it
    # (on the business clock), a bid or the close cancels it. One durable row, no timer.
    remind_at = messages.reminder_due_at(
        event.invited_at, event.deadline_at, notifications.settings().reminder_lead
    )
    if remind_at is not None:
        await notifications.queue(
            uow,
            event_id=envelope.id,
            provider_id=event.provider_id,
            kind="deadline",
            topic_key=topic,
            message=messages.deadline_reminder(event.competition_id, event.deadline_at, link),
            due_at=remind_at,
            expires_at=event.deadline_at,
        )


async def on_bid_received(
    uow: UnitOfWork, _envelope: Envelope, event: procurement_v1.BidReceived
) -> None:
    await notifications.record_bid(uow, event.competition_id, event.provider_id)
    await notifications.cancel_reminders(uow, event.competition_id, event.provider_id)


async def on_application_decided(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.ApplicationDecided
) -> None:
    await notifications.queue(
        uow,
        event_id=envelope.id,
        provider_id=event.provider_id,
        kind="decision",
        topic_key=f"application:{event.application_id}",
        message=messages.application_decided(event.application_id, _link("/portal#applications")),
        due_at=event.decided_at,
    )


async def on_competition_awarded(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.CompetitionAwarded
) -> None:
    """Every provider that bid hears that there is an outcome; only the portal says more
    (the winner's price and the ranking stay there, reg 55(3))."""
    link = _call_off_link(event.competition_id)
    for provider_id in sorted({*await store.bidders(uow, event.competition_id), event.provider_id}):
        await notifications.queue(
            uow,
            event_id=envelope.id,
            provider_id=provider_id,
            kind="award",
            topic_key=notifications.competition_key(event.competition_id, provider_id),
            message=messages.award_outcome(
                event.competition_id, provider_id == event.provider_id, link
            ),
            due_at=event.approved_at,
        )


async def on_clarification_answered(
    uow: UnitOfWork, envelope: Envelope, event: procurement_v1.ClarificationAnswered
) -> None:
    """Every invited provider hears of every answer (equal treatment), never who asked."""
    link = _call_off_link(event.competition_id)
    for provider_id in sorted(set(event.invited_provider_ids)):
        await notifications.queue(
            uow,
            event_id=envelope.id,
            provider_id=provider_id,
            kind="clarification",
            topic_key=f"clarification:{event.clarification_id}:{provider_id}",
            message=messages.clarification_answered(event.competition_id, link),
            due_at=event.answered_at,
            expires_at=event.deadline_at,
        )


def subscriptions(_runtime: ServiceRuntime) -> Subscriptions:
    """Monitoring's evidence subscribers and the notification ones (competition.closed
    does both)."""
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
            procurement_v1.ProviderInvited.TYPE: on_provider_invited,
            procurement_v1.BidReceived.TYPE: on_bid_received,
            procurement_v1.ApplicationDecided.TYPE: on_application_decided,
            procurement_v1.CompetitionAwarded.TYPE: on_competition_awarded,
            procurement_v1.ClarificationAnswered.TYPE: on_clarification_answered,
        },
    }
