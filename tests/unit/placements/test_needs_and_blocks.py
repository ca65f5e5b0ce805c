"""Placement needs from ehc.placement.requested; block contract places offered first."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from services.placements import domain as d
from services.placements.events import need_raised_event
from shared.contracts.common import Attendance, NeedType

from .factories import AT, block, request


def _need(**overrides: object) -> d.PlacementNeed:
    return d.raise_need(request(**overrides), "need-1", AT)


def test_need_carries_what_procurement_needs() -> None:
    need = _need()
    event = need_raised_event(need)
    assert event.need_id == "need-1"
    # Not the child reference, date of birth or district (UK GDPR Art. 5(1)(c)).
    assert (event.child_ref, event.date_of_birth, event.postcode_district) == (None, None, None)
    assert event.primary_need is NeedType.ASD
    assert event.secondary_needs == (NeedType.SLCN,)
    assert event.age_at_start == 11  # born 1 May 2014, starts 20 April 2026
    assert event.year_group == 7
    assert event.search_origin is not None and event.search_origin.cell_m == 5000
    assert event.required_start == date(2026, 4, 20)
    assert event.max_distance_km == 50
    assert need.status is d.NeedStatus.OPEN


def test_block_place_of_the_right_category_is_offered_first() -> None:
    need = _need()
    decision = d.choose_block_place(need, [block()])
    assert decision.offered
    assert (decision.block_contract_id, decision.place_number) == ("blk-1", 1)
    assert decision.provider_id == "prov-9"
    assert "blk-1" in decision.reason
    offered = d.apply_block_decision(need, decision)
    assert offered.status is d.NeedStatus.BLOCK_PLACE_OFFERED
    assert offered.status_reason == decision.reason


def test_no_offer_without_a_suitable_free_place_and_reasons_are_recorded() -> None:
    need = _need()
    full, _ = d.fill_place(block(block_contract_id="blk-full", places=1), "need-0")
    blocks = [
        block(block_contract_id="blk-semh", primary_need=NeedType.SEMH),
        block(block_contract_id="blk-resi", attendance=Attendance.RESIDENTIAL_52),
        block(block_contract_id="blk-old", term_end=date(2026, 3, 31)),
        full,
    ]
    decision = d.choose_block_place(need, blocks)
    assert not decision.offered
    assert decision.reason == "no block contract place free for ASD/day"
    assert decision.considered == (
        "blk-full: no free place",
        "blk-old: term does not cover the required start",
        "blk-resi: different category",
        "blk-semh: different category",
    )
    referred = d.apply_block_decision(need, decision)
    assert referred.status is d.NeedStatus.WITH_PROCUREMENT


def test_distance_limit_is_respected_when_distances_are_known() -> None:
    need = _need()
    decision = d.choose_block_place(need, [block()], distances_km={"prov-9": 80.0})
    assert not decision.offered
    assert "80.0 km away" in decision.considered[0]


def test_longest_running_block_wins() -> None:
    need = _need()
    short = block(block_contract_id="blk-a", term_end=date(2027, 8, 31))
    long = block(block_contract_id="blk-b", term_end=date(2029, 8, 31))
    assert d.choose_block_place(need, [short, long]).block_contract_id == "blk-b"


def test_declined_offer_goes_to_procurement_and_need_closes_once() -> None:
    need = d.apply_block_decision(_need(), d.choose_block_place(_need(), [block()]))
    referred = d.refer_to_procurement(need, "provider declined the block place")
    assert referred.status is d.NeedStatus.WITH_PROCUREMENT
    assert referred.block_contract_id is None
    placed = d.mark_need_placed(referred)
    with pytest.raises(d.DomainError) as caught:
        d.withdraw_need(placed, "plan ceased")
    assert caught.value.rule == "need_closed"


def test_fill_free_and_utilisation() -> None:
    blk = block(places=3)
    blk, first = d.fill_place(blk, "need-1")
    blk, third = d.fill_place(blk, "need-2", place_number=3)
    assert (first, third) == (1, 3)
    assert blk.free_place_numbers == (2,)
    assert d.utilisation_percent(blk) == Decimal("66.67")
    blk = d.transfer_place(blk, "need-1", "pl-1")
    assert d.place_held_by(blk, "pl-1") == 1
    blk, holder = d.free_place(blk, 1)
    assert holder == "pl-1"
    assert d.utilisation_percent(blk) == Decimal("33.33")


@pytest.mark.parametrize(
    ("action", "rule"),
    [
        (lambda b: d.fill_place(b, "need-1"), "already_holds_place"),
        (lambda b: d.fill_place(b, "need-9", place_number=1), "place_not_free"),
        (lambda b: d.free_place(b, 2), "place_already_free"),
        (lambda b: d.free_place(b, 7), "unknown_place"),
    ],
)
def test_place_rules(action: object, rule: str) -> None:
    blk, _ = d.fill_place(block(places=2), "need-1")
    with pytest.raises(d.DomainError) as caught:
        action(blk)  # type: ignore[operator]
    assert caught.value.rule == rule


def test_full_block_refuses_another_place() -> None:
    blk, _ = d.fill_place(block(places=1), "need-1")
    with pytest.raises(d.DomainError) as caught:
        d.fill_place(blk, "need-2")
    assert (caught.value.field, caught.value.rule) == ("place_number", "no_free_place")


def test_block_contract_validation_and_renewal_date() -> None:
    blk = block(term_end=date(2028, 8, 31), notice_period_weeks=26)
    # 31 Aug 2028 - 26 weeks notice - 4 weeks lead = 210 days earlier (2028 is leap).
    assert d.block_renewal_decision_date(blk) == date(2028, 2, 3)
    with pytest.raises(d.DomainError) as caught:
        block(places=0)
    assert (caught.value.field, caught.value.rule) == ("places", "places_out_of_range")
    with pytest.raises(d.DomainError) as caught:
        block(weekly_fee_per_place=Decimal("-1"))
    assert caught.value.field == "weekly_fee_per_place"


def test_block_cost_counts_every_place() -> None:
    blk = block(
        places=2,
        term_start=date(2026, 4, 1),
        term_end=date(2027, 3, 31),
        weekly_fee_per_place=Decimal("1000.00"),
    )
    # Day places are paid for 38 weeks a year (issue 12), 52-week residential for 52.
    assert d.block_cost_by_financial_year(blk) == {2026: Decimal("76000.00")}
    residential = replace(blk, attendance=Attendance.RESIDENTIAL_52)
    assert d.block_cost_by_financial_year(residential) == {2026: Decimal("104000.00")}
