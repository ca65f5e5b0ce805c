"""Council dashboard: spend by financial year, on-contract share, cost by need."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.monitoring.domain import (
    DomainError,
    NeedCost,
    ReviewDue,
    Severity,
    SpendLine,
    build_dashboard,
    financial_year_bounds,
    financial_year_label,
    financial_year_of,
    need_totals,
    year_totals,
)
from shared.contracts.common import NeedType

from .factories import NOW, alert

AS_OF = date(2026, 1, 12)  # in financial year 2025 (2025/26)


def spend(
    amount: str,
    year: int = 2025,
    *,
    need: str = "ASD",
    placement: str = "PL1",
    on_contract: bool = True,
) -> SpendLine:
    return SpendLine(
        placement_id=placement,
        provider_id="P1",
        primary_need=need,
        financial_year=year,
        amount=Decimal(amount),
        on_contract=on_contract,
    )


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2025, 3, 31), 2024),
        (date(2025, 4, 1), 2025),
        (date(2025, 12, 31), 2025),
        (date(2026, 3, 31), 2025),
        (date(2026, 4, 1), 2026),
    ],
)
def test_financial_year_runs_april_to_march(day: date, year: int) -> None:
    assert financial_year_of(day) == year


def test_financial_year_bounds_and_label() -> None:
    assert financial_year_bounds(2025) == (date(2025, 4, 1), date(2026, 3, 31))
    assert financial_year_label(2025) == "2025/26"
    assert financial_year_label(2099) == "2099/00"


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_every_day_falls_in_its_financial_years_bounds(day: date) -> None:
    first, last = financial_year_bounds(financial_year_of(day))
    assert first <= day <= last
    assert (last - first).days in (364, 365)


def test_dashboard_aggregates() -> None:
    dashboard = build_dashboard(
        as_of=AS_OF,
        spend=[
            spend("1500.00", need="ASD", placement="PL1"),
            spend("2000.00", need="ASD", placement="PL2", on_contract=False),
            spend("3000.00", need="SEMH", placement="PL3"),
            spend("0.00", need="SEMH", placement="PL4"),  # commitment withdrawn
            spend("700.00", 2024, need="SEMH", placement="PL9"),
        ],
        budgets={2024: Decimal("1000"), 2025: Decimal("6000"), 2026: Decimal("8000")},
        alerts=[
            alert(alert_id="A1"),
            alert(alert_id="A2", severity=Severity.INFO),
            alert(alert_id="A3").acknowledge("o", NOW).resolve("o", "done", NOW),
        ],
        reviews=[
            ReviewDue(placement_id="PL1", provider_id="P1", due_on=date(2026, 1, 11)),
            ReviewDue(placement_id="PL2", provider_id="P1", due_on=AS_OF),  # due today
            ReviewDue(
                placement_id="PL3",
                provider_id="P1",
                due_on=date(2025, 12, 1),
                completed_on=date(2025, 12, 2),
            ),
        ],
    )
    assert dashboard.financial_year == 2025
    rows = {row.financial_year: row for row in dashboard.spend_by_year}
    assert set(rows) == {2024, 2025, 2026}
    assert (rows[2025].label, rows[2025].spend, rows[2025].on_contract_spend) == (
        "2025/26",
        Decimal("6500.00"),
        Decimal("4500.00"),
    )
    assert rows[2025].variance == Decimal("500.00")  # overspend
    assert rows[2024].variance == Decimal("-300.00")
    assert (rows[2026].spend, rows[2026].variance) == (Decimal(0), Decimal("-8000"))
    assert dashboard.on_contract_share == pytest.approx(4500 / 6500)
    assert dashboard.cost_per_placement_by_need == {
        NeedType.ASD: NeedCost(
            need=NeedType.ASD,
            placements=2,
            spend=Decimal("3500.00"),
            cost_per_placement=Decimal("1750.00"),
        ),
        NeedType.SEMH: NeedCost(
            need=NeedType.SEMH,
            placements=1,
            spend=Decimal("3000.00"),
            cost_per_placement=Decimal("3000.00"),
        ),
    }
    assert dashboard.open_alerts_by_severity == {
        Severity.INFO: 1,
        Severity.WARNING: 0,
        Severity.CRITICAL: 1,
    }
    assert (dashboard.reviews_overdue, dashboard.overdue_review_placements) == (1, ("PL1",))


def test_dashboard_for_another_year_and_with_no_spend() -> None:
    empty = build_dashboard(as_of=AS_OF)
    assert (empty.spend_by_year, empty.on_contract_share) == ((), None)
    assert empty.cost_per_placement_by_need == {}
    chosen = build_dashboard(as_of=AS_OF, spend=[spend("100", 2024)], financial_year=2024)
    assert chosen.on_contract_share == 1.0
    assert chosen.spend_by_year[0].budget is None and chosen.spend_by_year[0].variance is None


def test_spend_cannot_be_negative() -> None:
    with pytest.raises(DomainError) as caught:
        spend("-1")
    assert caught.value.field == "amount"


amounts = st.decimals(min_value=0, max_value=100_000, places=2)
years = st.integers(min_value=2023, max_value=2027)


@given(st.lists(st.tuples(amounts, years, st.booleans()), max_size=30))
def test_spend_is_conserved_and_share_is_a_fraction(
    entries: list[tuple[Decimal, int, bool]],
) -> None:
    lines = [
        spend(str(amount), year, on_contract=on, placement=f"PL{i}")
        for i, (amount, year, on) in enumerate(entries)
    ]
    dashboard = build_dashboard(as_of=AS_OF, spend=lines)
    total = sum((amount for amount, _, _ in entries), Decimal(0))
    assert sum((row.spend for row in dashboard.spend_by_year), Decimal(0)) == total
    for row in dashboard.spend_by_year:
        assert row.spend == sum((a for a, y, _ in entries if y == row.financial_year), Decimal(0))
        assert Decimal(0) <= row.on_contract_spend <= row.spend
    if dashboard.on_contract_share is not None:
        assert 0.0 <= dashboard.on_contract_share <= 1.0
    paid_this_year = [a for a, y, _ in entries if y == 2025 and a > 0]
    by_need = dashboard.cost_per_placement_by_need.values()
    assert sum(n.placements for n in by_need) == len(paid_this_year)


@given(st.lists(st.tuples(st.integers(-30, 30), st.booleans()), max_size=20))
def test_reviews_overdue_counts_incomplete_reviews_past_due(
    reviews: list[tuple[int, bool]],
) -> None:
    records = [
        ReviewDue(
            placement_id=f"PL{i}",
            provider_id="P1",
            due_on=AS_OF + timedelta(days=offset),
            completed_on=AS_OF if done else None,
        )
        for i, (offset, done) in enumerate(reviews)
    ]
    expected = sum(1 for offset, done in reviews if offset < 0 and not done)
    assert build_dashboard(as_of=AS_OF, reviews=records).reviews_overdue == expected


def test_totals_from_the_database_give_the_same_dashboard() -> None:
    """The API reads spend summed per year and per need of the selected year."""
    lines = [
        spend("1000.50", 2024, placement="A"),
        spend("250.25", 2024, placement="B", on_contract=False),
        spend("3000", 2025, placement="A", need="SEMH"),
        spend("125.75", 2025, placement="C", on_contract=False),
        spend("0.00", 2025, placement="D", on_contract=False),  # withdrawn: no placement
    ]
    whole = build_dashboard(as_of=AS_OF, spend=lines, budgets={2025: Decimal("5000")})
    summed = build_dashboard(
        as_of=AS_OF,
        totals=year_totals(lines),
        needs=[t for t in need_totals(lines) if t.financial_year == 2025],
        budgets={2025: Decimal("5000")},
    )
    assert summed == whole
    assert [row.spend for row in summed.spend_by_year] == [Decimal("1250.75"), Decimal("3125.75")]
    assert summed.cost_per_placement_by_need[NeedType.ASD].placements == 1


def test_overdue_placements_selected_by_the_database_are_counted_once_in_order() -> None:
    dashboard = build_dashboard(as_of=AS_OF, overdue=["PL2", "PL1", "PL2"])
    assert (dashboard.reviews_overdue, dashboard.overdue_review_placements) == (2, ("PL1", "PL2"))


def test_a_blocks_unfilled_places_are_spend_but_not_placements() -> None:
    filled = spend("2000.00", placement="PL1")
    empty_places = spend("3000.00", placement="BLOCK-1").model_copy(
        update={"line": "block_unfilled_places"}
    )
    dashboard = build_dashboard(as_of=date(2025, 6, 1), spend=[filled, empty_places])
    cost = dashboard.cost_per_placement_by_need[NeedType.ASD]
    assert (cost.placements, cost.spend, cost.cost_per_placement) == (
        1,
        Decimal("5000.00"),
        Decimal("5000.00"),
    )
