"""Spend summaries for dashboards and the placement.spend.committed snapshots."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.placements import domain as d
from services.placements.events import (
    block_offer_event,
    block_place_event,
    contract_created_event,
    fee_terms,
    review_scheduled_event,
    spend_committed_events,
)
from shared.contracts import placements_v1 as pv1
from shared.contracts.common import Attendance, NeedType
from shared.contracts.placements_v1 import PlacementSource

from .factories import AT, OFFICER, active_placement, block, placement, request


def _three_placements() -> list[d.Placement]:
    dps = active_placement(
        start_date=date(2026, 4, 1), term_end=date(2027, 3, 31), weekly_core_fee=Decimal("1000")
    )  # 38 weeks x 1400 = 53,200 in FY2026
    spot = d.create_placement(
        d.Award(
            child_ref="KCC-EHC-000200",
            provider_id="prov-2",
            source=PlacementSource.SPOT,
            primary_need=NeedType.SEMH,
            attendance=Attendance.RESIDENTIAL_52,
            awarded_on=date(2026, 3, 1),
            start_date=date(2026, 4, 1),
            term_end=date(2028, 3, 31),
            weekly_core_fee=Decimal("3000.00"),
            weeks_per_year=52,
            notice_period_weeks=4,
            next_review_due=date(2026, 6, 1),
        ),
        "pl-2",
        OFFICER,
        AT,
    )  # 52 x 3000 = 156,000 a year, FY2026 and FY2027
    withdrawn = d.terminate_placement(placement(), date(2026, 4, 1), OFFICER, AT, "withdrawn")
    return [dps, spot, withdrawn]


def test_summary_per_year_need_provider_and_contract() -> None:
    summary = d.summarise_spend(_three_placements())
    assert summary.by_financial_year == {
        2026: Decimal("209200.00"),
        2027: Decimal("156000.00"),
    }
    assert summary.by_need_type == {
        NeedType.ASD: Decimal("53200.00"),
        NeedType.SEMH: Decimal("312000.00"),
    }
    assert summary.by_provider == {"prov-1": Decimal("53200.00"), "prov-2": Decimal("312000.00")}
    assert summary.on_contract == Decimal("53200.00")
    assert summary.off_contract == Decimal("312000.00")
    assert summary.total == Decimal("365200.00")
    assert summary.on_contract_share_percent == Decimal("14.57")
    assert summary.placements_by_need_type == {NeedType.ASD: 1, NeedType.SEMH: 1}


def test_summary_for_one_financial_year() -> None:
    summary = d.summarise_spend(_three_placements(), financial_year=2027)
    assert summary.total == Decimal("156000.00")
    assert summary.on_contract_share_percent == Decimal("0.00")
    assert summary.average_cost_by_need_type() == {NeedType.SEMH: Decimal("156000.00")}


def test_no_spend_has_no_share() -> None:
    assert d.summarise_spend([]).on_contract_share_percent is None


def test_spend_committed_events_snapshot_each_year_and_withdraw_dropped_years() -> None:
    p = active_placement(start_date=date(2026, 4, 1), term_end=date(2028, 3, 31))
    first = spend_committed_events(p)
    assert [(e.financial_year, e.amount) for e in first] == [
        (2026, Decimal("72200.00")),
        (2027, Decimal("72200.00")),
    ]
    assert all(e.on_contract and e.provider_id == "prov-1" for e in first)
    terminated = d.terminate_placement(p, date(2027, 3, 31), OFFICER, AT, "moved away")
    after = spend_committed_events(terminated, previously_committed_years=[2026, 2027])
    assert [(e.financial_year, e.amount) for e in after] == [
        (2026, Decimal("72200.00")),
        (2027, Decimal("0.00")),
    ]


def test_fee_terms_payload() -> None:
    terms = fee_terms(active_placement(), date(2026, 5, 1))
    assert terms.weekly_total == Decimal("1900.00")
    assert terms.annual_cost == Decimal("72200.00")
    assert terms.additional_support[0].description == "1:1 teaching assistant"


def test_event_builders_produce_valid_payloads() -> None:
    p = placement()
    created = contract_created_event(p)
    assert pv1.event_type_of(created) == "placement.contract.created"
    assert created.first_review_due == date(2026, 11, 2)
    assert created.fee.annual_cost == Decimal("72200.00")
    scheduled = review_scheduled_event(p, p.reviews[0])
    assert scheduled.reminders_on == (date(2026, 9, 21), date(2026, 10, 19))
    need = d.raise_need(request(), "need-1", AT)
    decision = d.choose_block_place(need, [block()])
    offer = block_offer_event(need, decision)
    assert (offer.block_contract_id, offer.place_number) == ("blk-1", 1)
    filled_block, number = d.fill_place(block(), need.need_id)
    filled = block_place_event(filled_block, number, need.need_id, filled=True)
    assert pv1.event_type_of(filled) == "block_contract.place_filled"
    assert filled.utilisation_percent == Decimal("25.00")
