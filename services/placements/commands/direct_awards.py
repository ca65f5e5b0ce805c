"""A direct award under the Procurement Act 2023 (s.41, Schedule 5) becomes the placement
for its need: procurement's ``procurement.direct_award.recorded`` names the need, the
provider, the contract's value and dates; the placement records its legal basis (user
choice or urgency) with the direct award's id as the reference that justifies it.

The same path as a call-off's award (inbound.create_placement_from_award): a pending IPA,
started at once when its start date has come; the need marked placed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

from services.placements import domain
from services.placements.commands._core import (
    DEFAULT_NOTICE_PERIOD_WEEKS,
    DEFAULT_TERM_YEARS,
    SERVICE_ACTOR,
    derived_id,
    place_need,
)
from services.placements.models import (
    PlacementRow,
)
from shared.contracts import procurement_v1
from shared.contracts.placements_v1 import PlacementBasis, PlacementSource
from shared.envelope import Envelope
from shared.fiscal import round_money
from shared.logging import get_logger
from shared.unit_of_work import UnitOfWork

log = get_logger(__name__)

# The placement's legal basis for each Schedule 5 ground procurement records (its
# sources: domain/basis.py BASES). Spend on either is lawful but off-contract (a spot
# purchase: no DPS, dynamic market or framework call-off).
GROUND_BASIS: Mapping[str, PlacementBasis] = MappingProxyType(
    {
        "user_choice": PlacementBasis.USER_CHOICE,  # Act s.41, Sch 5 para 15
        "extreme_urgency": PlacementBasis.URGENT,  # Act s.41, Sch 5 para 13
    }
)

# Weeks a year a placement is charged for when the direct award does not say: what the
# need's attendance requires (residential, procurement_v1), else a school year of 38
# weeks (The Education (School Day and School Year) (England) Regulations 1999 reg 3:
# 380 sessions, 190 days, a school year of 38 weeks).
SCHOOL_YEAR_WEEKS = 38


def weeks_per_year_for(attendance: domain.Attendance) -> int:
    return procurement_v1.WEEKS_PER_YEAR_FOR_ATTENDANCE.get(attendance.value, SCHOOL_YEAR_WEEKS)


def weekly_fee_for(
    contract_value: Decimal, start: date, term_end: date, weeks_per_year: int
) -> Decimal:
    """The weekly core fee that costs ``contract_value`` over [start, term_end] by the
    placements' own apportionment (fees.exact_cost_by_financial_year), so the
    placement's committed cost is the value the direct award was recorded at."""
    unit = domain.FeeChange(
        effective_from=start,
        kind=domain.FeeChangeKind.AWARD,
        by=SERVICE_ACTOR.id,
        at=datetime.now(UTC),
        reason="one pound a week",
        core=Decimal(1),
    )
    periods = domain.fee_periods((unit,), start, term_end)
    weeks = sum(domain.exact_cost_by_financial_year(periods, weeks_per_year).values(), Fraction(0))
    exact = Fraction(contract_value) / weeks
    return round_money(Decimal(exact.numerator) / Decimal(exact.denominator))


def direct_award_to_domain(
    award: procurement_v1.DirectAwardRecorded, need: domain.PlacementNeed, next_review: date
) -> domain.Award:
    """The placement's terms from the direct award: a spot purchase (off-contract) whose
    basis is the ground's, justified by the direct award's id (never a person)."""
    term_end = award.end_date or (
        domain.add_years(award.start_date, DEFAULT_TERM_YEARS) - timedelta(days=1)
    )
    weeks = weeks_per_year_for(need.attendance)
    return domain.Award(
        child_ref=need.child_ref,
        provider_id=award.provider_id,
        source=PlacementSource.SPOT,
        primary_need=need.primary_need,
        attendance=need.attendance,
        # An urgent placement is often recorded after it began: its contract was awarded
        # by the day it started, so the award date is never after the start.
        awarded_on=min(award.decided_at.astimezone(UTC).date(), award.start_date),
        start_date=award.start_date,
        term_end=term_end,
        weekly_core_fee=weekly_fee_for(award.contract_value, award.start_date, term_end, weeks),
        weeks_per_year=weeks,
        notice_period_weeks=DEFAULT_NOTICE_PERIOD_WEEKS,
        next_review_due=next_review,
        need_id=need.need_id,
        scheme_ref=award.scheme_id,
        basis=GROUND_BASIS[award.ground],
        basis_reference=award.direct_award_id,
    )


async def create_placement_from_direct_award(
    uow: UnitOfWork, envelope: Envelope, award: procurement_v1.DirectAwardRecorded, key: bytes
) -> domain.Placement | None:
    """The pending IPA of a direct award; None when it names no need (logged: nothing to
    place) or already made one. An unknown need is a DomainError (dead-lettered)."""
    if award.need_ref is None:
        log.info(
            "direct_award.no_need",
            direct_award_id=award.direct_award_id,
            reason="the direct award names no need, so there is no child to place",
        )
        return None
    placement_id = derived_id("placement", f"direct_award:{award.direct_award_id}")
    if await uow.session.get(PlacementRow, placement_id) is not None:
        return None  # a re-published direct award (new event id) changes nothing
    return await place_need(
        uow,
        award.need_ref,
        lambda need, next_review: direct_award_to_domain(award, need, next_review),
        placement_id,
        award.decided_by,
        key,
        direct_award=award.direct_award_id,
        basis=GROUND_BASIS[award.ground].value,
    )
