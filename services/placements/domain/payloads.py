"""Placements: event payload builders (placements.v1) from domain values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from services.placements.domain.blocks import (
    BlockContract,
    block_unfilled_spend,
    utilisation_percent,
)
from services.placements.domain.needs import (
    BlockPlaceDecision,
    PlacementNeed,
    offered_place,
    search_origin,
)
from services.placements.domain.placements import (
    Placement,
    Review,
)
from services.placements.domain.reviews import (
    open_reviews,
    review_reminder_dates,
)
from services.placements.domain.spend import (
    LedgerPosting,
    committed_spend_by_financial_year,
    post_to_ledger,
)
from shared.contracts import placements_v1 as events
from shared.contracts.placements_v1 import (
    PlacementSource,
)


def fee_terms(placement: Placement, on: date) -> events.FeeTerms:
    """Fee terms in force on a date, as carried by created/varied/uplift events."""
    fee = placement.fee_on(on)
    return events.FeeTerms(
        effective_from=on,
        weekly_core_fee=fee.core,
        additional_support=tuple(
            events.SupportItem(description=s.description, weekly_amount=s.weekly_amount)
            for s in fee.support
        ),
        weekly_total=fee.total,
        annual_cost=fee.annual_cost(placement.weeks_per_year),
        one_off_charges=tuple(
            events.OneOffCharge(description=c.description, amount=c.amount)
            for change in placement.fee_history
            if change.effective_from == on
            for c in change.one_off
        ),
    )


def contract_created_event(placement: Placement) -> events.PlacementContractCreated:
    """``placement.contract.created`` for a newly built IPA."""
    first_review = open_reviews(placement)
    return events.PlacementContractCreated(
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
    )


def review_scheduled_event(placement: Placement, review: Review) -> events.PlacementReviewScheduled:
    """``placement.review.scheduled`` for a review from ``review_changes``."""
    return events.PlacementReviewScheduled(
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
) -> events.PlacementNeedOfferedBlockPlace:
    """``placement.need.offered_block_place`` for an offered decision."""
    block_contract_id, place_number, provider_id = offered_place(decision)
    return events.PlacementNeedOfferedBlockPlace(
        need_id=need.need_id,
        child_ref=need.child_ref,
        block_contract_id=block_contract_id,
        place_number=place_number,
        provider_id=provider_id,
        reason=decision.reason,
    )


def block_place_event(
    block: BlockContract, place_number: int, occupant_ref: str, filled: bool
) -> events.BlockContractPlaceFilled | events.BlockContractPlaceFreed:
    """``block_contract.place_filled`` / ``place_freed`` after ``fill_place`` / ``free_place``."""
    model = events.BlockContractPlaceFilled if filled else events.BlockContractPlaceFreed
    return model(
        block_contract_id=block.block_contract_id,
        provider_id=block.provider_id,
        place_number=place_number,
        occupant_ref=occupant_ref,
        places=block.places,
        places_filled=block.places_filled,
        utilisation_percent=utilisation_percent(block),
    )


def need_raised_event(need: PlacementNeed) -> events.PlacementNeedRaised:
    """``placement.need.raised`` for procurement to open a call-off.

    Only what a call-off needs (UK GDPR Art. 5(1)(c), data minimisation): age and year
    group at the start, a coarse search origin; never the child reference, the date of
    birth or the postcode district (docs/law/children-data.md).
    """
    return events.PlacementNeedRaised(
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
) -> list[events.PlacementSpendCommitted]:
    """``placement.spend.committed`` snapshots, one per financial year.

    Years committed before but no longer covered (e.g. after notice) get amount 0. Given
    ``today`` and the amounts held, closed years are not rewritten (``post_to_ledger``).
    """
    held = _held(previously_committed_years)
    posting = post_to_ledger(committed_spend_by_financial_year(placement), held, today)
    return [
        events.PlacementSpendCommitted(
            placement_id=placement.placement_id,
            provider_id=placement.provider_id,
            primary_need=placement.primary_need,
            source=placement.source,
            on_contract=placement.on_contract,
            financial_year=fy,
            amount=amount,
            adjustment=_adjustment_of(posting, fy),
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
) -> list[events.PlacementSpendCommitted]:
    """Ledger lines (``line = block_unfilled_places``, keyed by the block id) carrying the
    block's cost that its placements do not already count, so spend includes empty places."""
    unfilled = block_unfilled_spend(block, placements_spend)
    posting = post_to_ledger(unfilled, held, today)
    return [
        events.PlacementSpendCommitted(
            placement_id=block.block_contract_id,
            provider_id=block.provider_id,
            primary_need=block.primary_need,
            source=PlacementSource.BLOCK_CONTRACT,
            on_contract=True,
            financial_year=fy,
            amount=amount,
            line="block_unfilled_places",
            adjustment=_adjustment_of(posting, fy),
        )
        for fy, amount in sorted(posting.amounts.items())
    ]
