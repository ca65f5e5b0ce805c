"""Applying ehc.plans.v1 events to a child's plan record, including out-of-order delivery."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.placements import domain as d
from shared.contracts import ehc_plans_v1 as ehc
from shared.contracts.common import Attendance, NeedType

from .factories import DESIGN_EXAMPLE_DATA

T0 = datetime(2026, 1, 12, 9, 30, tzinfo=UTC)
CHILD = "KCC-EHC-000123"


def _issued() -> ehc.EhcPlanIssued:
    data = {k: v for k, v in DESIGN_EXAMPLE_DATA.items() if k not in ("required_start",)}
    return ehc.EhcPlanIssued.model_validate(data)


def _amended(**fields: object) -> ehc.EhcPlanAmended:
    return ehc.EhcPlanAmended.model_validate({"child_ref": CHILD, **fields})


def test_issued_creates_the_record() -> None:
    change = d.apply_plan_event(None, _issued(), T0)
    plan = change.plan
    assert plan.child_ref == CHILD
    assert plan.primary_need is NeedType.ASD
    assert plan.attendance is Attendance.DAY
    assert plan.next_review_due == date(2026, 11, 2)
    assert not plan.is_ceased
    assert change.stale == ()
    assert plan.field_times["primary_need"] == T0


def test_newer_amendment_overwrites() -> None:
    plan = d.apply_plan_event(None, _issued(), T0).plan
    change = d.apply_plan_event(plan, _amended(postcode_district="TN1"), T0 + timedelta(days=1))
    assert change.plan.postcode_district == "TN1"
    assert change.applied == ("postcode_district",)


def test_older_amendment_arriving_late_does_not_overwrite_newer_data() -> None:
    plan = d.apply_plan_event(None, _issued(), T0).plan
    newer = d.apply_plan_event(plan, _amended(postcode_district="TN1"), T0 + timedelta(days=2))
    late = d.apply_plan_event(
        newer.plan,
        _amended(postcode_district="CT1", primary_need="SEMH"),
        T0 + timedelta(days=1),
    )
    assert late.plan.postcode_district == "TN1"  # newer value kept
    assert late.plan.primary_need is NeedType.SEMH  # nobody changed it since: applied
    assert late.stale == ("postcode_district",)
    assert late.applied == ("primary_need",)


def test_amendment_before_issue_is_kept_when_issue_arrives_late() -> None:
    first = d.apply_plan_event(None, _amended(attendance="residential_52"), T0)
    late_issue = d.apply_plan_event(first.plan, _issued(), T0 - timedelta(days=30))
    assert late_issue.plan.attendance is Attendance.RESIDENTIAL_52
    assert late_issue.plan.primary_need is NeedType.ASD
    assert "attendance" in late_issue.stale


def test_redelivery_changes_nothing() -> None:
    once = d.apply_plan_event(None, _issued(), T0)
    twice = d.apply_plan_event(once.plan, _issued(), T0)
    assert twice.plan == once.plan


def test_reviewed_moves_the_next_review_date() -> None:
    plan = d.apply_plan_event(None, _issued(), T0).plan
    reviewed = ehc.EhcPlanReviewed(
        child_ref=CHILD, reviewed_on=date(2026, 10, 20), next_review_due=date(2027, 10, 20)
    )
    change = d.apply_plan_event(plan, reviewed, T0 + timedelta(days=280))
    assert change.next_review_moved
    assert change.plan.next_review_due == date(2027, 10, 20)
    assert change.plan.last_reviewed_on == date(2026, 10, 20)


def test_ceased_plan_is_flagged_once_and_reissue_reopens() -> None:
    plan = d.apply_plan_event(None, _issued(), T0).plan
    ceased = d.apply_plan_event(
        plan, ehc.EhcPlanCeased(child_ref=CHILD, ceased_on=date(2027, 7, 31)), T0 + timedelta(1)
    )
    assert ceased.ceased and ceased.plan.is_ceased
    again = d.apply_plan_event(
        ceased.plan,
        ehc.EhcPlanCeased(child_ref=CHILD, ceased_on=date(2027, 7, 31)),
        T0 + timedelta(2),
    )
    assert not again.ceased  # already ceased: placements were ended the first time
    reissued = d.apply_plan_event(again.plan, _issued(), T0 + timedelta(days=3))
    assert not reissued.plan.is_ceased


def test_late_cease_older_than_reissue_is_stale() -> None:
    plan = d.apply_plan_event(None, _issued(), T0 + timedelta(days=5)).plan
    late = d.apply_plan_event(
        plan, ehc.EhcPlanCeased(child_ref=CHILD, ceased_on=date(2026, 1, 1)), T0
    )
    assert not late.ceased
    assert not late.plan.is_ceased
    assert late.stale == ("ceased_on",)


def test_event_for_another_child_and_naive_time_are_refused() -> None:
    plan = d.apply_plan_event(None, _issued(), T0).plan
    with pytest.raises(d.DomainError) as caught:
        d.apply_plan_event(plan, ehc.EhcPlanAmended(child_ref="OTHER-1"), T0)
    assert (caught.value.field, caught.value.rule) == ("child_ref", "child_ref_mismatch")
    with pytest.raises(d.DomainError) as naive:
        d.apply_plan_event(plan, _amended(postcode_district="TN1"), datetime(2026, 1, 1))
    assert (naive.value.field, naive.value.rule) == ("time", "timezone_required")
