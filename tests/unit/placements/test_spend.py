"""Spend summaries from the ledger and the placement.spend.committed snapshots."""

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


def _ledger(placements: list[d.Placement], *held_years: int) -> list[d.LedgerLine]:
    """The ledger lines the placements' spend snapshots post (``held_years``: years posted
    before, so a year no longer committed gets a zero line)."""
    return [
        _line(
            e.placement_id,
            e.financial_year,
            e.amount,
            provider=e.provider_id,
            need=e.primary_need.value,
            on_contract=e.on_contract,
            line=e.line,
        )
        for p in placements
        for e in spend_committed_events(p, previously_committed_years=held_years)
    ]


def _line(
    placement_id: str,
    financial_year: int,
    amount: Decimal,
    *,
    provider: str = "prov-1",
    need: str = "ASD",
    on_contract: bool = True,
    line: str = d.PLACEMENT_LINE,
) -> d.LedgerLine:
    return d.LedgerLine(
        placement_id=placement_id,
        provider_id=provider,
        primary_need=need,
        on_contract=on_contract,
        financial_year=financial_year,
        amount=amount,
        line=line,
    )


def test_summary_by_need_provider_and_contract_for_one_financial_year() -> None:
    lines = _ledger(_three_placements())
    summary = d.summarise_ledger(lines, 2026)
    assert (summary.financial_year, summary.label) == (2026, "2026-27")
    assert {n: s.amount for n, s in summary.by_need_type.items()} == {
        "ASD": Decimal("53200.00"),
        "SEMH": Decimal("156000.00"),
    }
    assert {n: s.placements for n, s in summary.by_need_type.items()} == {"ASD": 1, "SEMH": 1}
    assert summary.by_provider == {"prov-1": Decimal("53200.00"), "prov-2": Decimal("156000.00")}
    assert summary.on_contract == Decimal("53200.00")
    assert summary.off_contract == Decimal("156000.00")
    assert summary.total == Decimal("209200.00")
    assert summary.on_contract_share_percent == Decimal("25.43")
    assert summary.unfilled_block_places == Decimal("0.00")


def test_summary_counts_only_its_own_financial_year() -> None:
    lines = _ledger(_three_placements())
    assert {line.financial_year for line in lines} == {2026, 2027}
    summary = d.summarise_ledger(lines, 2027)
    assert summary.total == Decimal("156000.00")
    assert summary.on_contract_share_percent == Decimal("0.00")
    assert summary.by_need_type == {
        "SEMH": d.NeedSpend(Decimal("156000.00"), 1, Decimal("156000.00"))
    }
    assert summary.by_provider == {"prov-2": Decimal("156000.00")}


def test_no_spend_has_no_share() -> None:
    empty = d.summarise_ledger([], 2026)
    assert empty.total == Decimal("0.00") and empty.on_contract_share_percent is None
    assert empty.by_need_type == {} and empty.by_provider == {}


def test_a_withdrawn_commitment_counts_for_nothing() -> None:
    withdrawn = d.terminate_placement(placement(), date(2026, 4, 1), OFFICER, AT, "withdrawn")
    lines = _ledger([withdrawn], 2026)
    assert [(line.financial_year, line.amount) for line in lines] == [(2026, Decimal("0.00"))]
    summary = d.summarise_ledger(lines, 2026)
    assert summary.by_need_type == {} and summary.by_provider == {}
    assert summary.on_contract_share_percent is None


def test_unfilled_block_places_are_spend_but_not_placements() -> None:
    lines = [
        _line("pl-1", 2026, Decimal("53200.00")),
        _line("blk-1", 2026, Decimal("10000.00"), line=d.BLOCK_UNFILLED_LINE),
        _line("blk-2", 2026, Decimal("5000.00"), need="SEMH", line=d.BLOCK_UNFILLED_LINE),
        _line("pl-2", 2026, Decimal("1000.00"), provider="prov-2", on_contract=False),
    ]
    summary = d.summarise_ledger(lines, 2026)
    assert summary.unfilled_block_places == Decimal("15000.00")
    assert summary.by_need_type == {
        "ASD": d.NeedSpend(Decimal("64200.00"), 2, Decimal("32100.00")),
        "SEMH": d.NeedSpend(Decimal("5000.00"), 0, None),
    }
    assert summary.by_provider == {"prov-1": Decimal("68200.00"), "prov-2": Decimal("1000.00")}
    assert (summary.on_contract, summary.off_contract) == (Decimal("68200.00"), Decimal("1000.00"))
    assert summary.total == Decimal("69200.00")


def test_a_closed_year_correction_counts_in_the_year_it_was_posted() -> None:
    posting = d.post_to_ledger(
        {2025: Decimal("1200.00"), 2026: Decimal("5000.00")},
        {2025: Decimal("1000.00")},
        date(2026, 6, 1),
    )
    lines = [_line("pl-1", fy, amount) for fy, amount in posting.amounts.items()]
    assert d.summarise_ledger(lines, 2025).total == Decimal("1000.00")
    assert d.summarise_ledger(lines, 2026).total == Decimal("5200.00")


def test_shares_and_averages_round_to_the_penny_half_even() -> None:
    lines = [
        _line("pl-1", 2026, Decimal("0.01")),
        _line("pl-2", 2026, Decimal("7.99"), on_contract=False),
        _line("pl-3", 2026, Decimal("0.24"), need="SEMH"),
        _line("pl-4", 2026, Decimal("0.01"), need="SEMH"),
    ]
    summary = d.summarise_ledger(lines, 2026)
    assert summary.on_contract_share_percent == Decimal("3.15")  # 0.26 of 8.25: 3.1515...
    assert summary.by_need_type["SEMH"].average == Decimal(
        "0.12"
    )  # 0.125 (half-up would give 0.13)
    tie = d.summarise_ledger(
        [
            _line("pl-1", 2026, Decimal("1.00")),
            _line("pl-2", 2026, Decimal("799.00"), on_contract=False),
        ],
        2026,
    )
    assert tie.on_contract_share_percent == Decimal("0.12")  # 0.125 (half-up would give 0.13)
    assert tie.by_need_type["ASD"].average == Decimal("400.00")


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
