"""EHC plan records: the table and its rows <-> ``domain.ChildPlan`` (Core statements)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from services.placements import domain
from services.placements.models._base import (
    PlacementsModel,
    _json,
)
from shared.contracts.common import Attendance, NeedType
from shared.db import one_of, upsert
from shared.infra_models import AwareDateTime, utcnow


class ChildPlanRow(PlacementsModel, table=True):
    """What commissioning holds about one child's EHC plan; ``field_times`` holds, per
    field, the council's event time of the value held (out-of-order protection)."""

    __tablename__ = "child_plan"

    child_ref: str = Field(primary_key=True, max_length=40)
    la_code: str | None = Field(default=None, max_length=3)
    date_of_birth: date | None = None
    year_group: int | None = None
    primary_need: str | None = Field(default=None, max_length=10)
    secondary_needs: list[str] = _json(list)
    attendance: str | None = Field(default=None, max_length=20)
    postcode_district: str | None = Field(default=None, max_length=4)
    issued_on: date | None = None
    next_review_due: date | None = None
    last_reviewed_on: date | None = None
    ceased_on: date | None = None
    field_times: dict[str, str] = _json(dict)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(AwareDateTime()))
    # Set when the plan's child data was pseudonymised (ceased plans, after retention).
    pseudonymised_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime()))


def plan_from_row(row: ChildPlanRow | None) -> domain.ChildPlan | None:
    return None if row is None else plan_from_columns(row.model_dump())


def plan_from_columns(row: Mapping[Any, Any]) -> domain.ChildPlan:
    return domain.ChildPlan(
        child_ref=row["child_ref"],
        la_code=row["la_code"],
        date_of_birth=row["date_of_birth"],
        year_group=row["year_group"],
        primary_need=NeedType(row["primary_need"]) if row["primary_need"] else None,
        secondary_needs=tuple(NeedType(n) for n in row["secondary_needs"]),
        attendance=Attendance(row["attendance"]) if row["attendance"] else None,
        postcode_district=row["postcode_district"],
        issued_on=row["issued_on"],
        next_review_due=row["next_review_due"],
        last_reviewed_on=row["last_reviewed_on"],
        ceased_on=row["ceased_on"],
        field_times={k: datetime.fromisoformat(v) for k, v in row["field_times"].items()},
    )


def plan_columns(plan: domain.ChildPlan, updated_at: datetime) -> dict[str, Any]:
    return {
        "child_ref": plan.child_ref,
        "la_code": plan.la_code,
        "date_of_birth": plan.date_of_birth,
        "year_group": plan.year_group,
        "primary_need": plan.primary_need.value if plan.primary_need else None,
        "secondary_needs": [n.value for n in plan.secondary_needs],
        "attendance": plan.attendance.value if plan.attendance else None,
        "postcode_district": plan.postcode_district,
        "issued_on": plan.issued_on,
        "next_review_due": plan.next_review_due,
        "last_reviewed_on": plan.last_reviewed_on,
        "ceased_on": plan.ceased_on,
        "field_times": _iso_times(plan.field_times),
        "updated_at": updated_at,
    }


def _iso_times(times: Mapping[str, datetime]) -> dict[str, str]:
    # Most fields of a plan were set by the same event: format each distinct time once.
    formatted: dict[datetime, str] = {}
    return {k: formatted.get(v) or formatted.setdefault(v, v.isoformat()) for k, v in times.items()}


# Child plans are read and written with Core statements, not ORM rows: a council's bulk
# load of EHC plans is the hottest path of the service, and ORM rows cost more than SQL.
_PLANS = ChildPlanRow.__table__  # type: ignore[attr-defined]


async def load_plans(
    session: AsyncSession, child_refs: Collection[str]
) -> dict[str, domain.ChildPlan]:
    """The plans held of these children, with one query (absent children are left out)."""
    if not child_refs:
        return {}
    result = await session.execute(
        _PLANS.select().where(one_of(session, _PLANS.c.child_ref, child_refs))
    )
    return {row["child_ref"]: plan_from_columns(row) for row in result.mappings()}


async def save_plans(session: AsyncSession, plans: Iterable[domain.ChildPlan]) -> None:
    now = utcnow()
    await upsert(session, _PLANS, [plan_columns(plan, now) for plan in plans], "child_ref")
