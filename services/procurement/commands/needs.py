"""placements.v1 ``placement.need.raised``: an individual-placement call-off opened from a
need, under the oldest open scheme with a category for it.

Individual call-offs opened from a need apply the scheme's published award criteria
(reg 34(23)-(24), reg 76(4)); their age/distance screening only where the scheme may.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.procurement import clocks, events
from services.procurement import domain as d
from services.procurement.commands._actors import NEEDS
from services.procurement.commands.call_offs import open_call_off
from services.procurement.models import CompetitionRow
from services.procurement.store import open_schemes
from shared.contracts import placements_v1
from shared.runtime import ServiceRuntime
from shared.unit_of_work import UnitOfWork
from shared.working_days import london_date


def need_age(need: placements_v1.PlacementNeedRaised) -> int | None:
    """Age at the required start, as placements sends it. An older event's date of birth
    is ignored (UK GDPR Art. 5(1)(c): procurement holds no child's date of birth)."""
    return need.age_at_start


def need_origin(need: placements_v1.PlacementNeedRaised) -> d.GridPoint | None:
    """Where distances are measured from: the coarse grid cell placements sends. An older
    event's postcode district is ignored (procurement holds no child's district); its
    need is then screened without a distance, as one with an unknown district was."""
    origin = need.search_origin
    return None if origin is None else d.GridPoint(float(origin.easting), float(origin.northing))


def need_title(need: placements_v1.PlacementNeedRaised) -> str:
    """A call-off's published title: never a child reference, date of birth or need
    (UK GDPR Art. 9; the need id is placements' own opaque id, not the child's)."""
    return f"Individual placement: {need.attendance.value}, need {need.need_id}"


async def scheme_for_need(
    uow: UnitOfWork, need: placements_v1.PlacementNeedRaised, today: date
) -> tuple[d.Scheme, d.Category] | None:
    """The oldest open scheme in its term with a category for the need type and attendance."""
    for scheme in await open_schemes(uow):
        if not scheme.within_term(today):
            continue
        for category in scheme.categories:
            if need.primary_need in category.need_types and need.attendance in category.attendance:
                return scheme, category
    return None


def need_spec(
    need: placements_v1.PlacementNeedRaised, scheme: d.Scheme, category: d.Category
) -> d.CompetitionSpec:
    age = need_age(need)
    origin = need_origin(need)
    # Without a known origin the distance cannot be measured; widen rather than guess.
    max_km = need.max_distance_km if origin is not None else None
    return d.CompetitionSpec(
        competition_id=f"need-{need.need_id}",
        scheme_id=scheme.scheme_id,
        category_code=category.code,
        kind=d.CompetitionKind.INDIVIDUAL,
        title=need_title(need),
        filter=d.permitted_filter(
            scheme,
            d.FilterCriteria(
                need_type=need.primary_need,
                attendance=need.attendance,
                min_age=age,
                max_age=age,
                origin=origin if max_km is not None else None,
                max_distance_km=max_km,
            ),
        ),
        quality_weight=scheme.award_criteria.quality_weight,
        price_weight=scheme.award_criteria.price_weight,
        quality_questions=scheme.award_criteria.quality_questions,
        need_ref=need.need_id,
        opened_by=NEEDS.id,
    )


def _no_scheme_alert(uow: UnitOfWork, need: placements_v1.PlacementNeedRaised, why: str) -> None:
    uow.emit(events.no_scheme_for_need(need, why, datetime.now(UTC)))
    uow.audit(NEEDS, "competition.no_eligible_members", "need", need.need_id, reason=why)


def check_phase_transfer(
    uow: UnitOfWork, c: d.Competition, scheme: d.Scheme, statutory: date, now: datetime
) -> None:
    """Alert when the call-off cannot be decided by the phase-transfer deadline."""
    check = d.check_call_off_timetable(scheme, c.deadline_at, statutory)
    if not check.at_risk:
        return
    uow.emit(events.deadline_at_risk(c, check, statutory, now))
    uow.audit(NEEDS, "competition.deadline_at_risk", "competition", c.competition_id)


async def open_need_call_off(
    uow: UnitOfWork, runtime: ServiceRuntime, need: placements_v1.PlacementNeedRaised
) -> None:
    """Open the need's call-off (once), or raise the alert that none can be opened."""
    now = datetime.now(UTC)
    if await uow.session.get(CompetitionRow, f"need-{need.need_id}") is not None:
        return  # already opened (a replay under another event id)
    found = await scheme_for_need(uow, need, london_date(now))
    if found is None:
        why = f"no open scheme has a category for {need.primary_need} / {need.attendance}"
        _no_scheme_alert(uow, need, why)
        return
    scheme, category = found
    urgent = "urgent placement need" if need.urgent else None
    days = d.tender_floor_days(scheme, urgent)
    spec = need_spec(need, scheme, category)
    try:
        c = await open_call_off(
            uow,
            scheme,
            spec,
            deadline_at=now + timedelta(days=days),
            urgent_reason=urgent,
            actor=NEEDS,
            now=now,
        )
    except d.DomainError as exc:  # e.g. the term ends within the tender period
        _no_scheme_alert(uow, need, f"{exc.field}: {exc.message} [{exc.rule}]")
        return
    if c.status is d.CompetitionStatus.OPEN and need.phase_transfer_deadline is not None:
        check_phase_transfer(uow, c, scheme, need.phase_transfer_deadline, now)
    if c.status is d.CompetitionStatus.OPEN:
        uow.after_commit(
            lambda: clocks.start_competition_workflow(runtime, c.competition_id, c.deadline_at)
        )
