"""Placements: EHC plan records (inbound ehc.plans.v1) with out-of-order protection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from services.placements.domain._rules import (
    _require,
    _require_aware,
    statutory_review_latest,
)
from shared.contracts.common import Attendance, NeedType
from shared.contracts.ehc_plans_v1 import (
    EhcPlanAmended,
    EhcPlanCeased,
    EhcPlanIssued,
    EhcPlanReviewed,
    InboundEvent,
    PlacementRequested,
)

# What an issued plan (or a placement request) says of the child and the plan, in the
# order of a council's caseload file (dps/council_import.py).
PROFILE_FIELDS = (
    "la_code",
    "date_of_birth",
    "year_group",
    "primary_need",
    "secondary_needs",
    "attendance",
    "postcode_district",
    "issued_on",
    "next_review_due",
)
PLAN_FIELDS = (*PROFILE_FIELDS, "last_reviewed_on", "ceased_on")


@dataclass(frozen=True, slots=True)
class ChildPlan:
    """What commissioning holds about one child's EHC plan (no names, by design).

    ``field_times`` records, per field, the event ``time`` of the value held: the
    out-of-order protection compares against it field by field.
    """

    child_ref: str
    la_code: str | None = None
    date_of_birth: date | None = None
    year_group: int | None = None
    primary_need: NeedType | None = None
    secondary_needs: tuple[NeedType, ...] = ()
    attendance: Attendance | None = None
    postcode_district: str | None = None
    issued_on: date | None = None
    next_review_due: date | None = None
    last_reviewed_on: date | None = None
    ceased_on: date | None = None
    field_times: Mapping[str, datetime] = field(default_factory=dict)

    @property
    def is_ceased(self) -> bool:
        """The council no longer maintains the plan."""
        return self.ceased_on is not None

    @property
    def review_statutory_latest(self) -> date | None:
        """Latest lawful date of the next review: 12 months from the review last held, or
        from the plan's issue when none is known (CFA 2014 s.44(1))."""
        held = self.last_reviewed_on or self.issued_on
        return None if held is None else statutory_review_latest(held)

    @property
    def next_review_beyond_limit(self) -> bool:
        """The council's ``next_review_due`` is later than the law allows: accepted as the
        council's date, but flagged for monitoring."""
        latest = self.review_statutory_latest
        return bool(latest and self.next_review_due and self.next_review_due > latest)


@dataclass(frozen=True, slots=True)
class PlanChange:
    """Result of applying one EHC event: the new record and what it did."""

    plan: ChildPlan
    applied: tuple[str, ...]
    stale: tuple[str, ...]  # fields not applied because newer data is already held
    ceased: bool  # this event ceased the plan: end the child's placements
    next_review_moved: bool  # reschedule placement reviews


def _profile_values(event: EhcPlanIssued | PlacementRequested) -> dict[str, Any]:
    values: dict[str, Any] = {
        "la_code": event.la_code,
        "primary_need": event.primary_need,
        "secondary_needs": event.secondary_needs,
        "date_of_birth": event.date_of_birth,
        "year_group": event.year_group,
        "attendance": event.attendance,
        "postcode_district": event.postcode_district,
        "issued_on": event.ehc_plan.issued_on,
        "next_review_due": event.ehc_plan.next_review_due,
    }
    # Absent optional details do not erase details we already hold.
    return {k: v for k, v in values.items() if v is not None}


def _amended_values(event: EhcPlanAmended) -> dict[str, Any]:
    sent = event.model_fields_set - {"child_ref", "ehc_plan"}
    values = {name: getattr(event, name) for name in sent if getattr(event, name) is not None}
    if event.ehc_plan is not None:
        values["issued_on"] = event.ehc_plan.issued_on
        values["next_review_due"] = event.ehc_plan.next_review_due
    return values


def plan_values(event: InboundEvent) -> dict[str, Any]:
    """The plan fields an inbound event sets."""
    if isinstance(event, EhcPlanIssued):
        return {**_profile_values(event), "ceased_on": None}  # (re)issuing reopens the plan
    if isinstance(event, PlacementRequested):
        return _profile_values(event)
    if isinstance(event, EhcPlanAmended):
        return _amended_values(event)
    if isinstance(event, EhcPlanReviewed):
        return {"last_reviewed_on": event.reviewed_on, "next_review_due": event.next_review_due}
    if isinstance(event, EhcPlanCeased):
        return {"ceased_on": event.ceased_on}
    raise TypeError(f"not an ehc.plans.v1 payload: {type(event).__name__}")


def _newer_values(
    held: Mapping[str, datetime], values: dict[str, Any], event_time: datetime
) -> tuple[dict[str, Any], list[str]]:
    """The values to apply, and the names of those older than the value held."""
    if not held:
        return values, []
    applied: dict[str, Any] = {}
    stale: list[str] = []
    for name, value in values.items():
        held_time = held.get(name)
        if held_time is None or event_time >= held_time:
            applied[name] = value
        else:
            stale.append(name)
    return applied, stale


def apply_plan_event(
    plan: ChildPlan | None, event: InboundEvent, event_time: datetime
) -> PlanChange:
    """Apply an ``ehc.plans.v1`` event to a child's plan record.

    Out-of-order protection, decided by the envelope's ``time`` (when the council system
    made the change, not when we received it), field by field: a value is applied only if
    ``event_time`` is at or after the time of the value held for that field. So an old
    amendment arriving late cannot overwrite newer data, yet still fills fields nobody has
    changed since. Equal times apply (a key keeps one child's events in order on a
    partition, so the later-delivered one is the later-published one; redelivery of the
    same event writes the same values).
    """
    _require_aware(event_time, "time")
    current = plan or ChildPlan(child_ref=event.child_ref)
    _require(
        current.child_ref == event.child_ref,
        "child_ref",
        "child_ref_mismatch",
        "event is for a different child",
    )
    applied, stale = _newer_values(current.field_times, plan_values(event), event_time)
    times = {**current.field_times, **dict.fromkeys(applied, event_time)}
    if plan is None:  # a council's bulk load is mostly new children: no copy to make
        updated = ChildPlan(child_ref=event.child_ref, field_times=times, **applied)
    else:
        updated = replace(current, field_times=times, **applied)
    return PlanChange(
        plan=updated,
        applied=tuple(applied),
        stale=tuple(stale),
        ceased=applied.get("ceased_on") is not None and not current.is_ceased,
        next_review_moved="next_review_due" in applied
        and applied["next_review_due"] != current.next_review_due,
    )
