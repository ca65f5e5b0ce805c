"""Placements made outside this system, imported with their history up to today."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from services.placements import domain as d
from shared.contracts.common import Attendance, NeedType
from shared.contracts.placements_v1 import PlacementSource, PlacementStatus

from .factories import AT, OFFICER

TODAY = date(2026, 6, 1)
YEARS = 3


def _item(**changes: object) -> d.ImportedPlacement:
    item = d.ImportedPlacement(
        child_ref="KCC-EHC-000300",
        provider_id="prov-9",
        primary_need=NeedType.ASD,
        attendance=Attendance.DAY,
        start_date=date(2020, 9, 1),
        weekly_core_fee=Decimal("1500.00"),
        weeks_per_year=38,
        notice_period_weeks=12,
        source=PlacementSource.SPOT,
        next_review_due=date(2026, 11, 2),
    )
    return replace(item, **changes)  # type: ignore[arg-type]


def _states(item: d.ImportedPlacement) -> list[d.Placement]:
    return d.imported_placement(item, "pl-imp-1", OFFICER, AT, TODAY, YEARS)


def test_an_open_placement_rolls_on_term_by_term_to_the_one_in_force() -> None:
    item = _item()
    assert d.imported_term_end(item, TODAY, YEARS) == date(2026, 8, 31)  # 2020, 2023, 2026
    assert d.imported_term_end(item, date(2026, 9, 1), YEARS) == date(2029, 8, 31)
    assert d.imported_term_end(_item(term_end=date(2027, 3, 31)), TODAY, YEARS) == date(2027, 3, 31)
    assert d.imported_term_end(_item(end_date=date(2025, 7, 18)), TODAY, YEARS) == date(2025, 7, 18)
    states = _states(item)
    assert [s.status for s in states] == [PlacementStatus.PENDING, PlacementStatus.ACTIVE]
    assert states[-1].term_end == date(2026, 8, 31)
    assert states[-1].started_on == date(2020, 9, 1)


def test_a_placement_not_yet_started_is_only_created() -> None:
    states = _states(_item(start_date=date(2026, 9, 1)))
    assert [s.status for s in states] == [PlacementStatus.PENDING]


def test_a_placement_over_is_imported_as_ended_and_owes_no_review() -> None:
    states = _states(_item(end_date=date(2025, 7, 18), next_review_due=None))
    assert [s.status for s in states][-1] == PlacementStatus.ENDED
    assert states[-1].term_end == date(2025, 7, 18)


def test_an_open_placement_needs_a_review_date_and_one_end() -> None:
    with pytest.raises(d.DomainError) as no_review:
        _states(_item(next_review_due=None))
    assert (no_review.value.field, no_review.value.rule) == (
        "next_review_due",
        "required_for_open_placement",
    )
    with pytest.raises(d.DomainError) as two_ends:
        _states(_item(end_date=date(2025, 7, 18), term_end=date(2025, 8, 31)))
    assert (two_ends.value.field, two_ends.value.rule) == ("term_end", "differs_from_end_date")
    same = _states(_item(end_date=date(2025, 7, 18), term_end=date(2025, 7, 18)))
    assert same[-1].status == PlacementStatus.ENDED
