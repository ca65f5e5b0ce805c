"""Pure rules: a suspension recommended by hand, and the KPI returns a provider owes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.monitoring import domain

NOW = datetime(2026, 1, 20, 12, tzinfo=UTC)


def _by_hand(**overrides: object) -> domain.SuspensionRecommendation:
    given: dict[str, object] = {
        "grounds": ["safeguarding", "safeguarding", "exclusion"],
        "reason": "  Restraint not recorded.  ",
        "raised_by": "officer-1",
        "existing": [],
        "now": NOW,
        "recommendation_id": "r-1",
    }
    return domain.recommend_suspension_by_hand("p-1", **(given | overrides))  # type: ignore[arg-type]


def test_grounds_are_data_with_their_legal_source() -> None:
    assert all(g.source.strip() for g in domain.SUSPENSION_GROUNDS.values())
    assert "reg 57" in domain.SUSPENSION_GROUNDS["exclusion"].source


def test_a_recommendation_by_hand_says_who_and_why() -> None:
    made = _by_hand()
    assert made.raised_by == "officer-1"
    assert made.grounds == ("safeguarding", "exclusion")  # each ground once
    assert made.reasons[-1] == "Restraint not recorded."
    assert made.reasons[0] == "Grounds: Safeguarding concern"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"grounds": []}, "grounds"),
        ({"grounds": ["whim"]}, "grounds"),
        ({"reason": " "}, "reason"),
        ({"reason": "DOB: 1 May 2015"}, "reason"),
        ({"reason": "x" * 2001}, "reason"),
        ({"existing": [_by_hand()]}, "status"),
    ],
)
def test_a_recommendation_by_hand_is_refused(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(domain.DomainError) as refused:
        _by_hand(**overrides)
    assert refused.value.field == field


def test_a_closed_recommendation_does_not_block_a_new_one() -> None:
    closed = _by_hand().close("rejected: no", NOW)
    assert _by_hand(existing=[closed], recommendation_id="r-2").recommendation_id == "r-2"


def _placement(placement_id: str, starts: date, ends: date | None = None) -> domain.PlacementRecord:
    return domain.PlacementRecord(
        placement_id=placement_id,
        provider_id="p-1",
        primary_need="ASD",
        starts_on=starts,
        ends_on=ends,
        weekly_fee=Decimal("1500"),
    )


def test_kpi_returns_owed_per_placement_active_in_the_term() -> None:
    placements = [
        _placement("pl-1", date(2025, 9, 1)),
        _placement("pl-2", date(2025, 9, 1)),
        _placement("pl-3", date(2026, 1, 5)),  # starts after the autumn term
    ]
    sent = domain.KpiReturn(
        evidence_id="k-1",
        provider_id="p-1",
        placement_id="pl-1",
        term="2025-autumn",
        attendance_pct=95,
        exclusions=0,
        incidents=0,
        outcomes_progress=domain.OutcomeProgress.MET,
        submitted_on=date(2026, 1, 6),
    )
    deadline = datetime(2026, 1, 15, 0, tzinfo=UTC)
    owed = domain.kpi_returns_owed(placements, [sent], "2025-autumn", deadline, NOW)
    assert [(o.placement_id, o.state, o.return_id) for o in owed] == [
        ("pl-1", domain.KpiReturnState.SUBMITTED, "k-1"),
        ("pl-2", domain.KpiReturnState.OVERDUE, None),
    ]
    before = domain.kpi_returns_owed(
        placements, [], "2025-autumn", deadline, datetime(2026, 1, 2, tzinfo=UTC)
    )
    assert {o.state for o in before} == {domain.KpiReturnState.DUE}


def test_previous_term_walks_back_over_the_year() -> None:
    assert domain.previous_term("2026-spring") == "2025-autumn"
    assert domain.previous_term("2026-autumn") == "2026-summer"
    assert domain.next_term(domain.previous_term("2026-summer")) == "2026-summer"
