"""Placements' domain results -> ``placements.v1`` payloads, in one place.

Commands emit what these build; the domain never builds a payload. Spend snapshots
(``placement.spend.committed``) carry the domain's ledger posting per financial year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from services.placements import domain
from services.placements.domain import (
    BlockContract,
    BlockPlaceDecision,
    LedgerPosting,
    Placement,
    PlacementNeed,
    Review,
    block_unfilled_spend,
    committed_spend_by_financial_year,
    offered_place,
    open_reviews,
    post_to_ledger,
    review_reminder_dates,
    search_origin,
    utilisation_percent,
)
from shared.contracts import placements_v1
from shared.contracts.placements_v1 import (
    PlacementBasis,
    PlacementSource,
    PlacementStatus,
    ReviewOutcome,
    UpliftDecision,
)

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
        fee=fee_terms(after, decided.effective_from) if approved else None,
    )


def varied_event(
    after: domain.Placement, effective_from: date, reason: str, varied_by: str
) -> placements_v1.PlacementContractVaried:
    return placements_v1.PlacementContractVaried(
        placement_id=after.placement_id,
        provider_id=after.provider_id,
        fee=fee_terms(after, effective_from),
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


def fee_terms(placement: Placement, on: date) -> placements_v1.FeeTerms:
    """Fee terms in force on a date, as carried by created/varied/uplift placements_v1."""
    fee = placement.fee_on(on)
    return placements_v1.FeeTerms(
        effective_from=on,
        weekly_core_fee=fee.core,
        additional_support=tuple(
            placements_v1.SupportItem(description=s.description, weekly_amount=s.weekly_amount)
            for s in fee.support
        ),
        weekly_total=fee.total,
        annual_cost=fee.annual_cost(placement.weeks_per_year),
        one_off_charges=tuple(
            placements_v1.OneOffCharge(description=c.description, amount=c.amount)
            for change in placement.fee_history
            if change.effective_from == on
            for c in change.one_off
        ),
    )


def contract_created_event(placement: Placement) -> placements_v1.PlacementContractCreated:
    """``placement.contract.created`` for a newly built IPA."""
    first_review = open_reviews(placement)
    return placements_v1.PlacementContractCreated(
        placement_id=placement.placement_id,
        need_id=placement.need_id,
        child_ref=placement.child_ref,
        provider_id=placement.provider_id,
        source=placement.source,
        on_contract=placement.on_contract,
        scheme_ref=placement.scheme_ref,
        competition_ref=placement.competition_ref,
        block_contract_id=placement.block_contract_id,
        primary_need=placement.primary_need,
        attendance=placement.attendance,
        awarded_on=placement.awarded_on,
        start_date=placement.start_date,
        term_end=placement.term_end,
        weeks_per_year=placement.weeks_per_year,
        notice_period_weeks=placement.notice_period_weeks,
        fee=fee_terms(placement, placement.start_date),
        first_review_due=first_review[0].due_on if first_review else None,
        basis=placement.legal_basis,
    )


def review_scheduled_event(
    placement: Placement, review: Review
) -> placements_v1.PlacementReviewScheduled:
    """``placement.review.scheduled`` for a review from ``review_changes``."""
    return placements_v1.PlacementReviewScheduled(
        placement_id=placement.placement_id,
        review_id=review.review_id,
        child_ref=placement.child_ref,
        provider_id=placement.provider_id,
        due_on=review.due_on,
        reminders_on=review_reminder_dates(review.due_on),
        statutory_latest=review.statutory_latest,
        beyond_statutory_limit=review.beyond_statutory_limit,
    )


def block_offer_event(
    need: PlacementNeed, decision: BlockPlaceDecision
) -> placements_v1.PlacementNeedOfferedBlockPlace:
    """``placement.need.offered_block_place`` for an offered decision."""
    block_contract_id, place_number, provider_id = offered_place(decision)
    return placements_v1.PlacementNeedOfferedBlockPlace(
        need_id=need.need_id,
        child_ref=need.child_ref,
        block_contract_id=block_contract_id,
        place_number=place_number,
        provider_id=provider_id,
        reason=decision.reason,
    )


def block_place_event(
    block: BlockContract, place_number: int, occupant_ref: str, filled: bool
) -> placements_v1.BlockContractPlaceFilled | placements_v1.BlockContractPlaceFreed:
    """``block_contract.place_filled`` / ``place_freed`` after ``fill_place`` / ``free_place``."""
    model = (
        placements_v1.BlockContractPlaceFilled if filled else placements_v1.BlockContractPlaceFreed
    )
    return model(
        block_contract_id=block.block_contract_id,
        provider_id=block.provider_id,
        place_number=place_number,
        occupant_ref=occupant_ref,
        places=block.places,
        places_filled=block.places_filled,
        utilisation_percent=utilisation_percent(block),
    )


def need_raised_event(need: PlacementNeed) -> placements_v1.PlacementNeedRaised:
    """``placement.need.raised`` for procurement to open a call-off.

    Only what a call-off needs (UK GDPR Art. 5(1)(c), data minimisation): age and year
    group at the start, a coarse search origin; never the child reference, the date of
    birth or the postcode district (docs/law/children-data.md).
    """
    return placements_v1.PlacementNeedRaised(
        need_id=need.need_id,
        la_code=need.la_code,
        primary_need=need.primary_need,
        secondary_needs=need.secondary_needs,
        year_group=need.year_group_at_start,
        age_at_start=need.age_at_start,
        attendance=need.attendance,
        search_origin=search_origin(need.postcode_district),
        required_start=need.required_start,
        max_distance_km=need.max_distance_km,
        urgent=need.urgent,
        phase_transfer_deadline=need.phase_transfer_deadline,
    )


def _held(previous: Iterable[int] | Mapping[int, Decimal]) -> dict[int, Decimal]:
    if isinstance(previous, Mapping):
        return dict(previous)
    return dict.fromkeys(previous, Decimal("0.00"))


def spend_committed_events(
    placement: Placement,
    previously_committed_years: Iterable[int] | Mapping[int, Decimal] = (),
    today: date | None = None,
) -> list[placements_v1.PlacementSpendCommitted]:
    """``placement.spend.committed`` snapshots, one per financial year.

    Years committed before but no longer covered (e.g. after notice) get amount 0. Given
    ``today`` and the amounts held, closed years are not rewritten (``post_to_ledger``).
    """
    held = _held(previously_committed_years)
    posting = post_to_ledger(committed_spend_by_financial_year(placement), held, today)
    return [
        placements_v1.PlacementSpendCommitted(
            placement_id=placement.placement_id,
            provider_id=placement.provider_id,
            primary_need=placement.primary_need,
            source=placement.source,
            on_contract=placement.on_contract,
            financial_year=fy,
            amount=amount,
            adjustment=_adjustment_of(posting, fy),
            basis=placement.legal_basis,
        )
        for fy, amount in sorted(posting.amounts.items())
    ]


def _adjustment_of(posting: LedgerPosting, fy: int) -> Decimal | None:
    return posting.adjustment if fy == posting.current_year and posting.adjustment else None


def block_spend_events(
    block: BlockContract,
    placements_spend: Mapping[int, Decimal],
    held: Mapping[int, Decimal],
    today: date | None,
) -> list[placements_v1.PlacementSpendCommitted]:
    """Ledger lines (``line = block_unfilled_places``, keyed by the block id) carrying the
    block's cost that its placements do not already count, so spend includes empty places."""
    unfilled = block_unfilled_spend(block, placements_spend)
    posting = post_to_ledger(unfilled, held, today)
    return [
        placements_v1.PlacementSpendCommitted(
            placement_id=block.block_contract_id,
            provider_id=block.provider_id,
            primary_need=block.primary_need,
            source=PlacementSource.BLOCK_CONTRACT,
            on_contract=True,
            financial_year=fy,
            amount=amount,
            line="block_unfilled_places",
            adjustment=_adjustment_of(posting, fy),
            basis=PlacementBasis.BLOCK_CONTRACT,
        )
        for fy, amount in sorted(posting.amounts.items())
    ]
