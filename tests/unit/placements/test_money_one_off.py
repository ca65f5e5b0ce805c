"""Issue 12, money: a one-off support charge is charged once, never weekly or yearly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from services.placements import domain as d
from services.placements.commands import award_to_domain
from services.placements.events import contract_created_event
from shared.contracts import procurement_v1

from .factories import AT, OFFICER, placement, request


def _award(**overrides: object) -> procurement_v1.CompetitionAwarded:
    values: dict[str, object] = {
        "competition_id": "CO-7",
        "scheme_id": "DPS-NMISS",
        "round": 1,
        "kind": "individual",
        "category_code": "ASD-day",
        "bid_id": "bid-1",
        "provider_id": "prov-1",
        "places": 1,
        "need_ref": "need-1",
        "fee_basis": "weekly",
        "core_fee": "1000.00",
        "weekly_core_fee": "1000.00",
        "weeks_per_year": 38,
        "additional_support": [
            {"description": "1:1 support", "amount": "100.00", "basis": "weekly"},
            {"description": "therapy", "amount": "3800.00", "basis": "annual"},
            {"description": "hoist", "amount": "5000.00", "basis": "one_off"},
        ],
        "start_date": "2026-04-01",
        "annual_value": "0",
        "contract_value": "0",
        "price_score": "50",
        "quality_score": "50",
        "total_score": "50",
        "approved_by": "commissioner:jo",
        "approved_at": datetime(2026, 3, 1, tzinfo=UTC),
        "notice_due_on": "2026-03-31",
    }
    values.update(overrides)
    return procurement_v1.CompetitionAwarded.model_validate(values)


def test_split_support_keeps_one_off_whole_and_spreads_annual() -> None:
    weekly, once = d.split_support(
        [
            ("1:1", Decimal("100.00"), "weekly"),
            ("therapy", Decimal("3800.00"), "annual"),
            ("hoist", Decimal("5000.00"), "one_off"),
        ],
        38,
    )
    assert weekly == (
        d.SupportItem("1:1", Decimal("100.00")),
        d.SupportItem("therapy", Decimal("100.00")),
    )
    assert once == (d.OneOffCharge("hoist", Decimal("5000.00")),)


def test_award_one_off_charge_is_committed_once_not_every_year() -> None:
    need = d.raise_need(request(required_start=date(2026, 4, 1)), "need-1", AT)
    award = award_to_domain(_award(), need, date(2026, 11, 2))
    created = d.create_placement(award, "pl-7", OFFICER, AT)
    # Three full financial years (1 Apr 2026 - 31 Mar 2029).
    spend = d.committed_spend_by_financial_year(created)
    weekly_year = Decimal(1200 * 38)  # core 1000 + 100 weekly + 100 (annual 3800 / 38)
    assert spend == {
        2026: weekly_year + Decimal("5000.00"),
        2027: weekly_year,
        2028: weekly_year,
    }
    assert created.fee_on(date(2027, 1, 1)).total == Decimal("1200.00")


def test_one_off_charge_falls_in_the_year_of_its_effective_date_only_if_in_term() -> None:
    with_charge = placement(one_off_charges=(d.OneOffCharge("ramp", Decimal("2500.00")),))
    without = placement()
    a = d.committed_spend_by_financial_year(with_charge)
    b = d.committed_spend_by_financial_year(without)
    assert a[2026] - b[2026] == Decimal("2500.00")
    assert all(a[fy] == b[fy] for fy in a if fy != 2026)
    # Terminated before start: nothing is committed, the one-off neither.
    gone = d.terminate_placement(with_charge, date(2026, 4, 1), OFFICER, AT, "withdrawn")
    assert d.committed_spend_by_financial_year(gone) == {}


def test_created_event_lists_one_off_apart_from_the_weekly_total() -> None:
    created = placement(one_off_charges=(d.OneOffCharge("ramp", Decimal("2500.00")),))
    fee = contract_created_event(created).fee
    assert [(c.description, c.amount) for c in fee.one_off_charges] == [
        ("ramp", Decimal("2500.00"))
    ]
    assert fee.weekly_total == Decimal("1900.00")
