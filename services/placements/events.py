"""Placements' domain results -> ``placements.v1`` payloads, in one place.

Most payloads are built by the domain (``domain.*_event``); those that need what only a
use case knows (who decided, the status change just made) are built here.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.placements import domain
from shared.contracts import placements_v1
from shared.contracts.placements_v1 import PlacementStatus, ReviewOutcome, UpliftDecision

_Status = (
    placements_v1.PlacementContractStarted
    | placements_v1.PlacementContractEnding
    | placements_v1.PlacementContractEnded
    | placements_v1.PlacementContractTerminated
)


def status_event(p: domain.Placement, change: domain.StatusChange) -> _Status:
    """The event of a status change (started, ending, ended or terminated)."""
    common = {
        "placement_id": p.placement_id,
        "child_ref": p.child_ref,
        "provider_id": p.provider_id,
    }
    if change.to_status == PlacementStatus.ACTIVE:
        return placements_v1.PlacementContractStarted(**common, started_on=p.started_on)
    if change.to_status == PlacementStatus.ENDING:
        return placements_v1.PlacementContractEnding(
            **common,
            notice_given_on=p.notice_given_on or change.at.date(),
            end_date=p.end_date or p.term_end,
            reason=change.reason,
            by=change.by,
        )
    if change.to_status == PlacementStatus.ENDED:
        return placements_v1.PlacementContractEnded(
            **common, ended_on=p.end_date or p.term_end, reason=change.reason
        )
    return placements_v1.PlacementContractTerminated(
        **common, terminated_on=p.end_date or change.at.date(), reason=change.reason, by=change.by
    )


def block_created_event(block: domain.BlockContract) -> placements_v1.BlockContractCreated:
    return placements_v1.BlockContractCreated(
        block_contract_id=block.block_contract_id,
        provider_id=block.provider_id,
        primary_need=block.primary_need,
        attendance=block.attendance,
        places=block.places,
        term_start=block.term_start,
        term_end=block.term_end,
        weekly_fee_per_place=block.weekly_fee_per_place,
        competition_ref=block.competition_ref,
        additional_support=tuple(
            placements_v1.SupportItem(description=i.description, weekly_amount=i.weekly_amount)
            for i in block.support
        ),
        one_off_charges=tuple(
            placements_v1.OneOffCharge(description=c.description, amount=c.amount)
            for c in block.one_off_charges
        ),
        weeks_per_year=block.place_weeks,
    )


def review_due_event(
    placement: domain.Placement, review_id: str, due_on: date, weeks_before: int
) -> placements_v1.PlacementReviewDue:
    return placements_v1.PlacementReviewDue(
        placement_id=placement.placement_id,
        review_id=review_id,
        child_ref=placement.child_ref,
        due_on=due_on,
        weeks_before=weeks_before,
    )


def review_overdue_event(
    placement: domain.Placement, review_id: str, due_on: date, today: date
) -> placements_v1.PlacementReviewOverdue:
    return placements_v1.PlacementReviewOverdue(
        placement_id=placement.placement_id,
        review_id=review_id,
        child_ref=placement.child_ref,
        provider_id=placement.provider_id,
        due_on=due_on,
        days_overdue=max(1, (today - due_on).days),
    )


def renewal_requested_event(
    placement: domain.Placement,
) -> placements_v1.PlacementRenewalDecisionRequested:
    return placements_v1.PlacementRenewalDecisionRequested(
        placement_id=placement.placement_id,
        child_ref=placement.child_ref,
        provider_id=placement.provider_id,
        term_end=placement.term_end,
        notice_period_weeks=placement.notice_period_weeks,
        decision_by=domain.add_weeks(placement.term_end, -placement.notice_period_weeks),
    )


def renewal_overdue_event(
    placement: domain.Placement, today: date
) -> placements_v1.PlacementRenewalDecisionOverdue:
    deadline = domain.renewal_notice_deadline(placement.term_end, placement.notice_period_weeks)
    return placements_v1.PlacementRenewalDecisionOverdue(
        placement_id=placement.placement_id,
        child_ref=placement.child_ref,
        provider_id=placement.provider_id,
        term_end=placement.term_end,
        notice_deadline=deadline,
        days_overdue=max(1, (today - deadline).days),
    )


def block_renewal_requested_event(
    block: domain.BlockContract,
) -> placements_v1.BlockContractRenewalRequested:
    return placements_v1.BlockContractRenewalRequested(
        block_contract_id=block.block_contract_id,
        provider_id=block.provider_id,
        term_end=block.term_end,
        decision_by=domain.add_weeks(block.term_end, -block.notice_period_weeks),
        utilisation_percent=domain.utilisation_percent(block),
    )


def review_completed_event(
    placement: domain.Placement,
    review: domain.Review,
    completed_on: date,
    outcome: ReviewOutcome,
    recorded_by: str,
) -> placements_v1.PlacementReviewCompleted:
    return placements_v1.PlacementReviewCompleted(
        placement_id=placement.placement_id,
        review_id=review.review_id,
        child_ref=placement.child_ref,
        provider_id=placement.provider_id,
        due_on=review.due_on,
        completed_on=completed_on,
        outcome=outcome,
        recorded_by=recorded_by,
    )


def uplift_requested_event(
    placement: domain.Placement, uplift: domain.UpliftRequest
) -> placements_v1.PlacementContractUpliftRequested:
    return placements_v1.PlacementContractUpliftRequested(
        placement_id=placement.placement_id,
        uplift_id=uplift.uplift_id,
        provider_id=placement.provider_id,
        requested_percent=uplift.requested_percent,
        cap_percent=uplift.cap_percent,
        above_cap=uplift.above_cap,
        effective_from=uplift.effective_from,
        reason=uplift.reason,
        cumulative_percent=uplift.cumulative_percent,
    )


def uplift_decided_event(
    after: domain.Placement,
    decided: domain.UpliftRequest,
    decision: UpliftDecision,
    decided_by: str,
    reason: str | None,
) -> placements_v1.PlacementContractUpliftDecided:
    approved = decision == UpliftDecision.APPROVED
    return placements_v1.PlacementContractUpliftDecided(
        placement_id=after.placement_id,
        uplift_id=decided.uplift_id,
        provider_id=after.provider_id,
        decision=decision,
        approved_percent=decided.approved_percent,
        effective_from=decided.effective_from,
        decided_by=decided_by,
        reason=reason,
        fee=domain.fee_terms(after, decided.effective_from) if approved else None,
    )


def varied_event(
    after: domain.Placement, effective_from: date, reason: str, varied_by: str
) -> placements_v1.PlacementContractVaried:
    return placements_v1.PlacementContractVaried(
        placement_id=after.placement_id,
        provider_id=after.provider_id,
        fee=domain.fee_terms(after, effective_from),
        reason=reason,
        varied_by=varied_by,
    )


def renewal_decided_event(
    before: domain.Placement,
    decision: str,
    new_term_end: date | None,
    weekly_core_fee: Decimal | None,
    decided_by: str,
    reason: str,
) -> placements_v1.PlacementRenewalDecided:
    return placements_v1.PlacementRenewalDecided(
        placement_id=before.placement_id,
        child_ref=before.child_ref,
        provider_id=before.provider_id,
        decision=decision,
        previous_term_end=before.term_end,
        new_term_end=new_term_end,
        weekly_core_fee=weekly_core_fee,
        decided_by=decided_by,
        reason=reason,
    )


def block_offer_decided_event(
    need: domain.PlacementNeed,
    block: domain.BlockContract,
    place_number: int,
    decision: str,
    placement_id: str | None,
    decided_by: str,
    reason: str,
) -> placements_v1.PlacementNeedBlockOfferDecided:
    return placements_v1.PlacementNeedBlockOfferDecided(
        need_id=need.need_id,
        child_ref=need.child_ref,
        block_contract_id=block.block_contract_id,
        place_number=place_number,
        provider_id=block.provider_id,
        decision=decision,
        placement_id=placement_id,
        decided_by=decided_by,
        reason=reason,
    )


def block_renewal_decided_event(
    block: domain.BlockContract,
    decision: str,
    new_term_end: date | None,
    decided_by: str,
    reason: str,
) -> placements_v1.BlockContractRenewalDecided:
    return placements_v1.BlockContractRenewalDecided(
        block_contract_id=block.block_contract_id,
        provider_id=block.provider_id,
        decision=decision,
        previous_term_end=block.term_end,
        new_term_end=new_term_end,
        decided_by=decided_by,
        reason=reason,
    )
