"""Provider scorecard: a pure aggregation of plain records."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.monitoring.domain import Severity, build_scorecard

from .factories import NOW, alert, inspection, kpi_return, placement, visit

AS_OF = date(2026, 1, 12)


def test_scorecard_aggregates_one_provider() -> None:
    card = build_scorecard(
        "P1",
        as_of=AS_OF,
        inspections=[
            inspection(evidence_id="o1", inspected_on=date(2022, 3, 1), judgement="good"),
            inspection(
                evidence_id="o2", inspected_on=date(2025, 10, 1), judgement="requires_improvement"
            ),
            inspection(evidence_id="o3", inspected_on=date(2026, 2, 1), judgement="inadequate"),
            inspection(evidence_id="o4", provider_id="P2", inspected_on=date(2025, 12, 1)),
        ],
        visits=[
            visit(evidence_id="v2", visited_on=date(2025, 11, 20), rating=3),
            visit(evidence_id="v1", visited_on=date(2025, 6, 1), rating=2),
            visit(evidence_id="v3", provider_id="P2", rating=4),
        ],
        kpi_returns=[
            kpi_return(placement_id="PL1", term="2025-autumn", attendance_pct=90, exclusions=1),
            kpi_return(
                placement_id="PL2",
                term="2025-autumn",
                attendance_pct=80,
                outcomes_progress="not_met",
            ),
            kpi_return(placement_id="PL1", term="2025-summer", attendance_pct=97),
            kpi_return(placement_id="PLX", provider_id="P2", term="2025-autumn", attendance_pct=0),
        ],
        alerts=[
            alert(alert_id="A1"),
            alert(alert_id="A2", severity=Severity.WARNING),
            alert(alert_id="A3").acknowledge("o", NOW),
            alert(alert_id="A4").acknowledge("o", NOW).resolve("o", "done", NOW),
            alert(alert_id="A5", provider_id="P2"),
        ],
        placements=[
            placement(placement_id="PL1", weekly_fee=Decimal("1500.00")),
            placement(placement_id="PL2", weekly_fee=Decimal("2250.50")),
            placement(placement_id="PL3", ends_on=date(2025, 12, 19)),  # ended
            placement(placement_id="PL4", starts_on=date(2026, 2, 1)),  # not started
            placement(placement_id="PLX", provider_id="P2"),
        ],
    )
    assert card.current_ofsted is not None and card.current_ofsted.evidence_id == "o2"
    assert [(v.visited_on, v.rating) for v in card.visit_ratings] == [
        (date(2025, 6, 1), 2),
        (date(2025, 11, 20), 3),
    ]
    assert card.mean_visit_rating == 2.5
    assert [(t.term, t.returns, t.mean_attendance_pct) for t in card.kpi_by_term] == [
        ("2025-summer", 1, 97.0),
        ("2025-autumn", 2, 85.0),
    ]
    assert (card.kpi_by_term[1].exclusions, card.kpi_by_term[1].outcomes_not_met) == (1, 1)
    assert card.open_alerts_by_severity == {
        Severity.INFO: 0,
        Severity.WARNING: 1,
        Severity.CRITICAL: 2,
    }
    assert card.active_placements == 2
    assert card.weekly_spend == Decimal("3750.50")


def test_empty_scorecard() -> None:
    card = build_scorecard("P9", as_of=AS_OF)
    assert card.current_ofsted is None
    assert card.mean_visit_rating is None
    assert card.kpi_by_term == ()
    assert set(card.open_alerts_by_severity.values()) == {0}
    assert (card.active_placements, card.weekly_spend) == (0, Decimal(0))


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["2025-spring", "2025-summer", "2025-autumn", "2026-spring"]),
            st.floats(min_value=0, max_value=100, allow_nan=False),
        ),
        max_size=20,
    )
)
def test_attendance_trend_is_in_term_order_and_within_the_range(
    entries: list[tuple[str, float]],
) -> None:
    returns = [
        kpi_return(placement_id=f"PL{i}", term=term, attendance_pct=pct)
        for i, (term, pct) in enumerate(entries)
    ]
    card = build_scorecard("P1", as_of=AS_OF, kpi_returns=returns)
    terms = [t.term for t in card.kpi_by_term]
    assert terms == sorted(
        set(terms), key=lambda t: (t[:4], ["spring", "summer", "autumn"].index(t[5:]))
    )
    assert sum(t.returns for t in card.kpi_by_term) == len(entries)
    for term_kpi in card.kpi_by_term:
        values = [pct for term, pct in entries if term == term_kpi.term]
        assert min(values) - 1e-9 <= term_kpi.mean_attendance_pct <= max(values) + 1e-9


@given(st.lists(st.decimals(min_value=0, max_value=10_000, places=2), max_size=15))
def test_weekly_spend_is_the_sum_of_active_fees(fees: list[Decimal]) -> None:
    placements = [placement(placement_id=f"PL{i}", weekly_fee=fee) for i, fee in enumerate(fees)]
    card = build_scorecard("P1", as_of=AS_OF, placements=placements)
    assert card.active_placements == len(fees)
    assert card.weekly_spend == sum(fees, Decimal(0))
