"""Placements: placement needs, phase transfers, retention, and block place offers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from services.placements.domain._rules import (
    _require,
    _require_aware,
    _require_text,
    add_months,
)
from services.placements.domain.blocks import (
    BlockContract,
    free_place,
    place_held_by,
    transfer_place,
)
from services.placements.domain.placements import (
    Award,
    Placement,
    create_placement,
)
from shared import errors, geography
from shared.contracts import placements_v1 as events
from shared.contracts.common import Attendance, NeedType
from shared.contracts.ehc_plans_v1 import (
    PlacementRequested,
    age_on,
)
from shared.contracts.placements_v1 import (
    PlacementSource,
)
from shared.pseudonym import PSEUDONYM_PREFIX as PSEUDONYM_PREFIX
from shared.pseudonym import pseudonym as pseudonym


class NeedStatus(StrEnum):
    """Where a placement need stands."""

    OPEN = "open"
    BLOCK_PLACE_OFFERED = "block_place_offered"
    WITH_PROCUREMENT = "with_procurement"  # placement.need.raised published: call-off
    PLACED = "placed"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class PlacementNeed:
    """A panel-agreed need for an NMISS placement for one child."""

    need_id: str
    child_ref: str
    la_code: str
    primary_need: NeedType
    secondary_needs: tuple[NeedType, ...]
    date_of_birth: date | None
    year_group: int | None
    attendance: Attendance
    postcode_district: str | None
    required_start: date
    max_distance_km: float | None
    urgent: bool
    next_review_due: date
    raised_at: datetime
    status: NeedStatus = NeedStatus.OPEN
    status_reason: str | None = None
    block_contract_id: str | None = None
    place_number: int | None = None
    phase_transfer_deadline: date | None = None

    @property
    def age_at_start(self) -> int | None:
        """Age in years on the required start date, when the date of birth is known."""
        return (
            None if self.date_of_birth is None else age_on(self.date_of_birth, self.required_start)
        )

    @property
    def is_closed(self) -> bool:
        """Placed or withdrawn: nothing more will be bought for it."""
        return self.status in (NeedStatus.PLACED, NeedStatus.WITHDRAWN)

    @property
    def year_group_at_start(self) -> int | None:
        """National curriculum year at the required start: from the date of birth when
        known, else the year group the council sent (taken as the year at the start)."""
        if self.date_of_birth is None:
            return self.year_group
        return year_group_on(self.date_of_birth, self.required_start)


def year_group_on(date_of_birth: date, on: date) -> int:
    """National curriculum year (R=0) of a child on a date: the age on the 31 August
    before the school year, less 4 (reception is the September after the 4th birthday;
    the convention of the DfE school census)."""
    school_year = on.year if on.month >= 9 else on.year - 1
    return age_on(date_of_birth, date(school_year, 8, 31)) - 4


# --- phase transfers (SEND Regulations 2014 reg 18) ---------------------------------------


@dataclass(frozen=True, slots=True)
class PhaseTransferDeadline:
    """The day by which the EHC plan must name the next school, for one kind of transfer."""

    kind: str
    month: int | None  # a fixed day in the calendar year of the transfer ...
    day: int | None
    months_before: int | None  # ... or this many months before the transfer
    source: str


POST_16_YEAR_GROUP = 12  # year 12: the first year after secondary school
PHASE_TRANSFER_DEADLINES: Mapping[str, PhaseTransferDeadline] = {
    "school": PhaseTransferDeadline(
        "school",
        2,
        15,
        None,
        "SEND Regulations 2014 reg 18(1) (as amended): 15 February in the calendar year of "
        "the transfer (early years to school, infant to junior, primary to middle or "
        "secondary, middle to secondary; reg 2(1) 'transfer between phases of education')",
    ),
    "post16": PhaseTransferDeadline(
        "post16",
        3,
        31,
        None,
        "SEND Regulations 2014 reg 18(1) (as amended): 31 March in the calendar year of "
        "the transfer from secondary school to a post-16 institution",
    ),
    "between_post16": PhaseTransferDeadline(
        "between_post16",
        None,
        None,
        5,
        "SEND Regulations 2014 reg 18 (as amended): at least five months before a young "
        "person moves from one post-16 institution to another",
    ),
}


def phase_transfer_kind(year_group_at_start: int | None) -> str:
    """Which reg 18 deadline applies: by the year group the child starts in (year 12 is
    the move to post-16; later years move between post-16 institutions). Without a year
    group the earliest deadline (15 February) applies: the safe side for the child."""
    if year_group_at_start is None or year_group_at_start < POST_16_YEAR_GROUP:
        return "school"
    return "post16" if year_group_at_start == POST_16_YEAR_GROUP else "between_post16"


def phase_transfer_deadline(required_start: date, year_group_at_start: int | None) -> date:
    """The day the school must be named by for a phase transfer starting on
    ``required_start``. A transfer starting before the statutory day of its own calendar
    year (e.g. in January) must be named before it starts: the start then is the deadline."""
    rule = PHASE_TRANSFER_DEADLINES[phase_transfer_kind(year_group_at_start)]
    if rule.months_before is not None:
        return add_months(required_start, -rule.months_before)
    assert rule.month is not None and rule.day is not None
    return min(date(required_start.year, rule.month, rule.day), required_start)


# --- search origin (UK GDPR Art. 5(1)(c): procurement gets no postcode district) -----------

# Distances for screening are measured from the child's district centroid snapped to the
# centre of its 5 km National Grid cell: procurement learns roughly where (a 25 km2 cell,
# the same for every child whose district centroid lies in it), never the district. A
# distance from
# the cell centre differs from one from the centroid by at most 5000*sqrt(2)/2 m = 3.54 km.
SEARCH_CELL_M = 5000


def search_origin(postcode_district: str | None) -> events.SearchOrigin | None:
    """The coarse grid cell to measure distances from; None for an unknown district."""
    grid = geography.district_grid(postcode_district) if postcode_district else None
    if grid is None:
        return None
    easting, northing = geography.grid_cell_centre(*grid, SEARCH_CELL_M)
    return events.SearchOrigin(easting=easting, northing=northing, cell_m=SEARCH_CELL_M)


# --- retention (UK GDPR Art. 5(1)(e); DPA 2018 Sch 1 para 39: retention and erasure) ------

# What is dropped from a closed need, an ended placement's events and a ceased plan; the
# child reference itself is replaced by its pseudonym (docs/data-inventory.md).
DROPPED_CHILD_FIELDS = ("date_of_birth", "postcode_district", "search_origin")


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    """Child data of what closed before this instant is pseudonymised."""
    _require_aware(now, "now")
    _require(retention_days >= 1, "retention_days", "out_of_range", "at least 1 day")
    return now - timedelta(days=retention_days)


def pseudonymised_event_data(data: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """An outbound event's ``data`` as kept after retention: the child reference
    pseudonymised, the dropped child fields emptied, everything else as it was."""
    kept = dict(data)
    if isinstance(kept.get("child_ref"), str):
        kept["child_ref"] = pseudonym(kept["child_ref"], key)
    for name in DROPPED_CHILD_FIELDS:
        if name in kept:
            kept[name] = None
    return kept


def raise_need(request: PlacementRequested, need_id: str, raised_at: datetime) -> PlacementNeed:
    """A placement need from ``ehc.placement.requested`` (ids are passed in to stay pure)."""
    _require_aware(raised_at, "raised_at")
    need = _need_from_request(request, need_id, raised_at)
    if not request.phase_transfer:
        return need
    deadline = phase_transfer_deadline(need.required_start, need.year_group_at_start)
    return replace(need, phase_transfer_deadline=deadline)


def _need_from_request(
    request: PlacementRequested, need_id: str, raised_at: datetime
) -> PlacementNeed:
    return PlacementNeed(
        need_id=need_id,
        child_ref=request.child_ref,
        la_code=request.la_code,
        primary_need=request.primary_need,
        secondary_needs=request.secondary_needs,
        date_of_birth=request.date_of_birth,
        year_group=request.year_group,
        attendance=request.attendance,
        postcode_district=request.postcode_district,
        required_start=request.required_start,
        max_distance_km=request.max_distance_km,
        urgent=request.urgent,
        next_review_due=request.ehc_plan.next_review_due,
        raised_at=raised_at,
    )


@dataclass(frozen=True, slots=True)
class BlockPlaceDecision:
    """Which block place to offer for a need, or none, and why (kept for audit)."""

    block_contract_id: str | None
    place_number: int | None
    provider_id: str | None
    reason: str
    considered: tuple[str, ...] = ()  # one line per block looked at

    @property
    def offered(self) -> bool:
        """A place was found."""
        return self.block_contract_id is not None


def offered_place(decision: BlockPlaceDecision) -> tuple[str, int, str]:
    """The block contract id, place number and provider id of an offered decision
    (DomainError when no place was offered)."""
    _require(decision.offered, "block_contract_id", "no_place_offered", "no place was offered")
    assert decision.block_contract_id and decision.place_number and decision.provider_id
    return decision.block_contract_id, decision.place_number, decision.provider_id


def _block_refusal(
    block: BlockContract, need: PlacementNeed, distances_km: Mapping[str, float] | None
) -> str | None:
    """Why a block cannot take the need, or None if it can."""
    if (block.primary_need, block.attendance) != (need.primary_need, need.attendance):
        return "different category"
    if not block.term_start <= need.required_start <= block.term_end:
        return "term does not cover the required start"
    if not block.free_place_numbers:
        return "no free place"
    if distances_km is not None and need.max_distance_km is not None:
        distance = distances_km.get(block.provider_id)
        if distance is None:
            return "provider distance unknown"
        if distance > need.max_distance_km:
            return f"provider {distance:.1f} km away, limit {need.max_distance_km:g} km"
    return None


def choose_block_place(
    need: PlacementNeed,
    blocks: Iterable[BlockContract],
    distances_km: Mapping[str, float] | None = None,
) -> BlockPlaceDecision:
    """Offer a block contract place first, when one of the right category is free.

    Right category = same primary need and attendance, term covering the required start,
    a free place, and (when ``distances_km`` by provider id is given) within the need's
    maximum distance. Among several, the block whose term runs longest wins, so the child
    is least likely to move when it ends; ties by block id; the lowest free place number.
    """
    considered: list[str] = []
    candidates: list[BlockContract] = []
    for block in sorted(blocks, key=lambda b: b.block_contract_id):
        refusal = _block_refusal(block, need, distances_km)
        considered.append(f"{block.block_contract_id}: {refusal or 'suitable'}")
        if refusal is None:
            candidates.append(block)
    category = f"{need.primary_need.value}/{need.attendance.value}"
    if not candidates:
        reason = f"no block contract place free for {category}"
        return BlockPlaceDecision(None, None, None, reason, tuple(considered))
    best = min(candidates, key=lambda b: (-b.term_end.toordinal(), b.block_contract_id))
    place = best.free_place_numbers[0]
    reason = f"block contract {best.block_contract_id} place {place} free for {category}"
    return BlockPlaceDecision(
        best.block_contract_id, place, best.provider_id, reason, tuple(considered)
    )


def apply_block_decision(need: PlacementNeed, decision: BlockPlaceDecision) -> PlacementNeed:
    """Record the decision on the need: block place offered, or over to procurement."""
    _require(need.status == NeedStatus.OPEN, "status", "need_not_open", "need is not open")
    if decision.offered:
        return replace(
            need,
            status=NeedStatus.BLOCK_PLACE_OFFERED,
            status_reason=decision.reason,
            block_contract_id=decision.block_contract_id,
            place_number=decision.place_number,
        )
    return replace(need, status=NeedStatus.WITH_PROCUREMENT, status_reason=decision.reason)


def refer_to_procurement(need: PlacementNeed, reason: str) -> PlacementNeed:
    """Send a need to a call-off, e.g. after a block place offer was declined."""
    _require_text(reason, "reason")
    _require(
        need.status in (NeedStatus.OPEN, NeedStatus.BLOCK_PLACE_OFFERED),
        "status",
        "need_not_open",
        f"cannot refer a need that is {need.status.value}",
    )
    return replace(
        need,
        status=NeedStatus.WITH_PROCUREMENT,
        status_reason=reason,
        block_contract_id=None,
        place_number=None,
    )


def _require_not_closed(need: PlacementNeed) -> None:
    _require(not need.is_closed, "status", "need_closed", f"need is already {need.status.value}")


def mark_need_placed(need: PlacementNeed) -> PlacementNeed:
    """The need was met by a placement."""
    _require_not_closed(need)
    return replace(need, status=NeedStatus.PLACED)


def withdraw_need(need: PlacementNeed, reason: str) -> PlacementNeed:
    """Withdraw a need that is not yet placed (e.g. the EHC plan ceased)."""
    _require_text(reason, "reason")
    _require_not_closed(need)
    return replace(need, status=NeedStatus.WITHDRAWN, status_reason=reason)


def _require_offer_of(need: PlacementNeed, block: BlockContract) -> int:
    _require(
        need.status == NeedStatus.BLOCK_PLACE_OFFERED,
        "status",
        "no_block_offer",
        f"need is {need.status.value}, not offered a block place",
    )
    _require(
        need.block_contract_id == block.block_contract_id,
        "block_contract_id",
        "offer_of_other_block",
        "the offer was of another block contract",
    )
    number = place_held_by(block, need.need_id)
    _require(number is not None, "place_number", "offered_place_lost", "offered place not held")
    assert number is not None
    return number


def accept_block_offer(
    need: PlacementNeed,
    block: BlockContract,
    placement_id: str,
    decided_on: date,
    by: str,
    at: datetime,
    next_review_due: date | None = None,
    start_date: date | None = None,
) -> tuple[PlacementNeed, Placement, BlockContract]:
    """The offered block place is accepted: an on-contract IPA (source block contract) at
    the block's fee and terms, starting on the required start (never before the decision),
    running to the block's term end; the place passes from the need to the placement."""
    _require_offer_of(need, block)
    start = start_date or max(need.required_start, decided_on)
    _require(
        start >= decided_on, "start_date", "start_before_award", "start is before the decision"
    )
    award = Award(
        child_ref=need.child_ref,
        provider_id=block.provider_id,
        source=PlacementSource.BLOCK_CONTRACT,
        primary_need=need.primary_need,
        attendance=need.attendance,
        awarded_on=decided_on,
        start_date=start,
        term_end=block.term_end,
        weekly_core_fee=block.weekly_fee_per_place,
        additional_support=block.support,
        weeks_per_year=block.place_weeks,
        notice_period_weeks=block.notice_period_weeks,
        next_review_due=next_review_due or need.next_review_due,
        need_id=need.need_id,
        block_contract_id=block.block_contract_id,
    )
    placement = create_placement(award, placement_id, by, at)
    placed = replace(need, status=NeedStatus.PLACED, status_reason=f"block place accepted by {by}")
    return placed, placement, transfer_place(block, need.need_id, placement_id)


def decline_block_offer(
    need: PlacementNeed, block: BlockContract, reason: str
) -> tuple[PlacementNeed, BlockContract, int]:
    """The offered block place is declined: the place is freed and the need goes to a
    call-off (returns the need, the block and the freed place number)."""
    _require_text(reason, "reason")
    number = _require_offer_of(need, block)
    freed, _ = free_place(block, number)
    referred = refer_to_procurement(need, f"block place declined: {reason}")
    return referred, freed, number


# --- block place offers to the provider ----------------------------------------------------

# How long a provider has to answer a block place offer, in calendar days from the offer.
# Source: Children and Families Act 2014 s.39(2)/s.40(3) (the council must consult a school
# before naming it in an EHC plan) and SEND Code of Practice 0 to 25 (2015) 9.83 (it should
# respond within 15 calendar days); a block
# place offer is that consultation for a place already bought, so it runs on the same clock.
BLOCK_OFFER_RESPONSE_DAYS = 15


class BlockOfferStatus(StrEnum):
    """Where an offer of a block place to the block's provider stands."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # the council decided instead (need withdrawn, or its override)
    EXPIRED = "expired"  # shown only: open, and past its answer-by date


@dataclass(frozen=True, slots=True)
class BlockOffer:
    """A free block place offered to the block's provider for one need."""

    offer_id: str
    need_id: str
    block_contract_id: str
    place_number: int
    provider_id: str
    offered_on: date
    respond_by: date
    status: BlockOfferStatus = BlockOfferStatus.OPEN
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    placement_id: str | None = None


def new_block_offer(
    offer_id: str,
    need: PlacementNeed,
    decision: BlockPlaceDecision,
    offered_on: date,
    response_days: int = BLOCK_OFFER_RESPONSE_DAYS,
) -> BlockOffer:
    """The offer the block's provider answers, for a need given a block place."""
    block_contract_id, place_number, provider_id = offered_place(decision)
    return BlockOffer(
        offer_id=offer_id,
        need_id=need.need_id,
        block_contract_id=block_contract_id,
        place_number=place_number,
        provider_id=provider_id,
        offered_on=offered_on,
        respond_by=offered_on + timedelta(days=response_days),
    )


def block_offer_state(offer: BlockOffer, today: date) -> BlockOfferStatus:
    """The offer's status as people see it: an open offer past its date is expired."""
    if offer.status == BlockOfferStatus.OPEN and today > offer.respond_by:
        return BlockOfferStatus.EXPIRED
    return offer.status


def require_answerable(offer: BlockOffer, today: date) -> None:
    """A provider answers an offer once, and by its answer-by date (after it the council
    decides: the commissioner declines it and the need goes to a call-off)."""
    state = block_offer_state(offer, today)
    if state == BlockOfferStatus.EXPIRED:
        raise errors.Conflict("offer_id", "offer_expired")
    if state != BlockOfferStatus.OPEN:
        raise errors.Conflict("offer_id", f"offer_{state.value}")


@dataclass(frozen=True, slots=True)
class OffersInState:
    """Which stored offers are in a state as people see it (``block_offer_state``): the
    stored status, and bounds on the answer-by date (``respond_by < before``,
    ``respond_by >= on_or_after``) where the state depends on today."""

    stored: BlockOfferStatus
    respond_by_before: date | None = None
    respond_by_on_or_after: date | None = None


def offers_in_state(state: BlockOfferStatus, today: date) -> OffersInState:
    """The stored offers ``block_offer_state`` shows as ``state`` today (for a query)."""
    if state == BlockOfferStatus.EXPIRED:
        return OffersInState(BlockOfferStatus.OPEN, respond_by_before=today)
    if state == BlockOfferStatus.OPEN:
        return OffersInState(BlockOfferStatus.OPEN, respond_by_on_or_after=today)
    return OffersInState(state)


def council_offer_decision(decision: str) -> BlockOfferStatus:
    """The offer's status after the council decides for the provider: accepted, or
    withdrawn (the need goes to a call-off)."""
    return BlockOfferStatus.ACCEPTED if decision == "accepted" else BlockOfferStatus.WITHDRAWN


def provider_offer_answer(decision: str, reason: str | None) -> tuple[BlockOfferStatus, str]:
    """The offer's status after its provider answers, and the reason recorded: a provider
    declining says why; one accepting need not."""
    text = (reason or "").strip()
    if decision == "declined" and not text:
        raise errors.DomainError("reason", "required_to_decline")
    status = BlockOfferStatus.ACCEPTED if decision == "accepted" else BlockOfferStatus.DECLINED
    return status, text or "accepted by the provider"


def settle_block_offer(
    offer: BlockOffer,
    status: BlockOfferStatus,
    by: str,
    at: datetime,
    reason: str | None = None,
    placement_id: str | None = None,
) -> BlockOffer:
    """Record the answer (or the council's decision) on an open offer."""
    _require(
        status
        in (BlockOfferStatus.ACCEPTED, BlockOfferStatus.DECLINED, BlockOfferStatus.WITHDRAWN),
        "decision",
        "not_a_decision",
        f"{status.value} is not a decision",
    )
    if status == BlockOfferStatus.DECLINED:
        _require_text(reason or "", "reason")
    return replace(
        offer, status=status, decided_by=by, decided_at=at, reason=reason, placement_id=placement_id
    )
