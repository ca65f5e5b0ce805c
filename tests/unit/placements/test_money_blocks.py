"""Issue 12, money: a block contract keeps every priced item of the winning bid, costs day
places at their weeks, and its unfilled places reach the spend ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.placements import domain as d
from services.placements.commands import block_terms
from services.placements.events import block_spend_events
from shared.contracts.common import Attendance

from .factories import AT, OFFICER, block, request
from .test_money_one_off import _award

SUPPORT = (d.SupportItem("1:1", Decimal("100.00")),)
HOIST = (d.OneOffCharge("hoist", Decimal("500.00")),)


def _year_block(**overrides: object) -> d.BlockContract:
    values: dict[str, object] = {
        "places": 2,
        "term_start": date(2026, 4, 1),
        "term_end": date(2027, 3, 31),
        "weekly_fee_per_place": Decimal("1000.00"),
        "support": SUPPORT,
        "one_off_charges": HOIST,
    }
    values.update(overrides)
    return block(**values)


def test_block_award_keeps_every_priced_item_and_its_weeks() -> None:
    terms = block_terms(_award(kind="block", places=3, need_ref=None))
    assert terms["weeks_per_year"] == 38
    assert terms["support"] == (
        d.SupportItem("1:1 support", Decimal("100.00")),
        d.SupportItem("therapy", Decimal("100.00")),
    )
    assert terms["one_off_charges"] == (d.OneOffCharge("hoist", Decimal("5000.00")),)


def test_block_cost_is_every_place_at_its_weeks_with_support_and_one_off_once() -> None:
    # 2 places x (1000 + 100) x 38 weeks + 2 x 500 once = 84,600.
    assert d.block_cost_by_financial_year(_year_block()) == {2026: Decimal("84600.00")}
    two_years = _year_block(term_end=date(2028, 3, 31))
    assert d.block_cost_by_financial_year(two_years) == {
        2026: Decimal("84600.00"),
        2027: Decimal("83600.00"),
    }
    residential = _year_block(attendance=Attendance.RESIDENTIAL_52, one_off_charges=())
    assert d.block_cost_by_financial_year(residential) == {2026: Decimal("114400.00")}


def test_block_weeks_must_fit_the_attendance() -> None:
    with pytest.raises(d.DomainError) as caught:
        block(attendance=Attendance.RESIDENTIAL_52, weeks_per_year=38)
    assert caught.value.rule == "weeks_per_year_mismatch_attendance"
    with pytest.raises(d.DomainError) as caught:
        block(weeks_per_year=44)
    assert caught.value.rule == "weeks_per_year_invalid"
    assert block(weeks_per_year=52).place_weeks == 52


def test_block_place_placement_carries_the_block_support_and_weeks() -> None:
    blk = _year_block(term_start=date(2025, 9, 1), term_end=date(2028, 8, 31), weeks_per_year=52)
    need = d.raise_need(request(), "need-1", AT)
    need = d.apply_block_decision(need, d.choose_block_place(need, [blk]))
    filled, _ = d.fill_place(blk, need.need_id, need.place_number)
    _, placement, _ = d.accept_block_offer(need, filled, "pl-1", date(2026, 3, 1), OFFICER, AT)
    assert placement.fee_on(placement.start_date).support == SUPPORT
    assert placement.weeks_per_year == 52


def test_unfilled_places_are_the_block_cost_its_placements_do_not_count() -> None:
    blk = _year_block(one_off_charges=())  # 83,600 in FY2026
    assert d.block_unfilled_spend(blk, {}) == {2026: Decimal("83600.00")}
    one_place = {2026: Decimal("41800.00")}
    assert d.block_unfilled_spend(blk, one_place) == {2026: Decimal("41800.00")}
    # A placement varied above the block fee is its own cost: never a negative line.
    assert d.block_unfilled_spend(blk, {2026: Decimal("90000.00")}) == {2026: Decimal("0.00")}


def test_block_ledger_lines_are_keyed_by_the_block_and_marked() -> None:
    blk = _year_block()
    [line] = block_spend_events(blk, {}, {}, None)
    assert line.placement_id == blk.block_contract_id
    assert line.line == "block_unfilled_places" and line.on_contract
    assert line.amount == Decimal("84600.00")
