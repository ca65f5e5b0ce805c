"""Deciding on an offered block place, and renewing a block contract."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.placements import domain as d
from shared.contracts.placements_v1 import PlacementSource, PlacementStatus

from .factories import AT, block, request


def _offered() -> tuple[d.PlacementNeed, d.BlockContract]:
    need = d.raise_need(request(), "need-1", AT)
    blk = block()
    decision = d.choose_block_place(need, [blk])
    need = d.apply_block_decision(need, decision)
    filled, _ = d.fill_place(blk, need.need_id, decision.place_number)
    return need, filled


def test_accepted_offer_is_an_on_contract_block_placement() -> None:
    need, blk = _offered()
    placed, placement, after = d.accept_block_offer(
        need, blk, "pl-1", date(2026, 3, 1), "commissioner:jo", AT
    )
    assert placed.status is d.NeedStatus.PLACED
    assert placement.source is PlacementSource.BLOCK_CONTRACT and placement.on_contract
    assert placement.block_contract_id == blk.block_contract_id
    assert placement.start_date == need.required_start
    assert placement.term_end == blk.term_end
    assert placement.fee_on(placement.start_date).core == blk.weekly_fee_per_place
    assert placement.notice_period_weeks == blk.notice_period_weeks
    assert placement.status is PlacementStatus.PENDING and placement.reviews
    assert d.place_held_by(after, "pl-1") == 1 and d.place_held_by(after, "need-1") is None
    assert after.places_filled == blk.places_filled


def test_accepted_late_starts_on_the_decision_day_not_before() -> None:
    need, blk = _offered()
    late = need.required_start + timedelta(days=10)
    _, placement, _ = d.accept_block_offer(need, blk, "pl-1", late, "commissioner:jo", AT)
    assert placement.start_date == late
    with pytest.raises(d.DomainError) as caught:
        d.accept_block_offer(
            need, blk, "pl-1", late, "commissioner:jo", AT, start_date=late - timedelta(days=1)
        )
    assert caught.value.rule == "start_before_award"


def test_declined_offer_frees_the_place_and_refers_to_procurement() -> None:
    need, blk = _offered()
    referred, freed, number = d.decline_block_offer(need, blk, "too far")
    assert referred.status is d.NeedStatus.WITH_PROCUREMENT
    assert referred.block_contract_id is None and "too far" in (referred.status_reason or "")
    assert number == 1 and freed.places_filled == blk.places_filled - 1
    with pytest.raises(d.DomainError) as caught:
        d.decline_block_offer(referred, freed, "again")
    assert caught.value.rule == "no_block_offer"
    with pytest.raises(d.DomainError):
        d.decline_block_offer(need, blk, " ")


def test_block_renewal_extends_the_term_only_forwards() -> None:
    blk = block()
    renewed = d.renew_block(blk, blk.term_end + timedelta(days=365))
    assert renewed.term_end == blk.term_end + timedelta(days=365)
    assert renewed.occupants == blk.occupants
    with pytest.raises(d.DomainError) as caught:
        d.renew_block(blk, blk.term_end)
    assert caught.value.rule == "not_after_term_end"


def test_renewal_notice_deadline_is_term_end_less_notice() -> None:
    assert d.renewal_notice_deadline(date(2027, 7, 31), 12) == date(2027, 5, 8)
