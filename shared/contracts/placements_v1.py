"""Outbound topic ``placements.v1``: every change to placement needs, placement contracts
(individual placement agreements), reviews, renewals, block contracts and committed spend.

Published by ``services/placements``; consumed by procurement (needs to buy) and monitoring
(everything, spend dashboards). These models are the envelope's ``data``; the envelope's
``subject`` is the aggregate id (``placement_id``, ``need_id`` or ``block_contract_id``).

Conventions:
- money is ``Decimal`` in pounds with at most 2 decimal places; pydantic writes it to JSON
  as a string (``"1234.50"``) so no consumer loses pennies to floating point;
- ``financial_year`` is the year the financial year starts: 2025 = 1 April 2025 to
  31 March 2026;
- unknown fields are ignored when parsing, so adding optional fields stays compatible.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Event
from shared.contracts.common import PERSONAL, Attendance, NeedType

TOPIC = "placements.v1"

Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Percent = Annotated[Decimal, Field(max_digits=7, decimal_places=4)]


class PlacementSource(StrEnum):
    """How a placement was bought; decides on-contract vs off-contract spend."""

    DPS_AWARD = "dps_award"  # call-off competition under the DPS: on-contract
    BLOCK_CONTRACT = "block_contract"  # a place in a block contract: on-contract
    SPOT = "spot"  # bought one-off outside the DPS, recorded manually: off-contract


class PlacementBasis(StrEnum):
    """The legal basis a placement was bought on; decides lawful vs non-compliant spend.

    The rules, their sources and words are data in services/placements/domain/basis.py
    (published in docs/law/placement-basis.md).
    """

    DPS_CALL_OFF = "dps_call_off"  # PCR 2015 reg 34: call-off under a DPS
    DYNAMIC_MARKET_CALL_OFF = "dynamic_market_call_off"  # PA 2023 s.34
    FRAMEWORK_CALL_OFF = "framework_call_off"  # PA 2023 s.45 / open framework s.49
    BLOCK_CONTRACT = "block_contract"  # a place in a block contract
    USER_CHOICE = "user_choice"  # PA 2023 s.41, Sch 5 para 15; CFA 2014 s.39(4)
    TRIBUNAL_ORDER = "tribunal_order"  # CFA 2014 s.51; SEND Regs 2014 reg 44
    URGENT = "urgent"  # PA 2023 s.41, Sch 5 para 13; PCR 2015 reg 32(2)(c)
    BELOW_THRESHOLD = "below_threshold"  # PA 2023 ss.3, 84-88: not a public contract
    OFF_CONTRACT_SPOT = "off_contract_spot"  # no lawful basis recorded: non-compliant


class PlacementStatus(StrEnum):
    """Individual placement agreement status: pending -> active -> ending -> ended, or terminated."""

    PENDING = "pending"
    ACTIVE = "active"
    ENDING = "ending"
    ENDED = "ended"
    TERMINATED = "terminated"


class ReviewOutcome(StrEnum):
    """Outcome of a placement's annual review."""

    CONTINUE = "continue"
    VARY = "vary"
    END = "end"


class UpliftDecision(StrEnum):
    """A commissioner's decision on a fee uplift request."""

    APPROVED = "approved"
    REJECTED = "rejected"


class _Outbound(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _PlacementsEvent(Event):
    """Base of every ``placements.v1`` payload."""

    TOPIC: ClassVar[str] = TOPIC


class SupportItem(_Outbound):
    """One itemised piece of additional support, priced per week."""

    description: str = Field(min_length=1, max_length=200)
    weekly_amount: Money


class OneOffCharge(_Outbound):
    """A support charge paid once (not weekly), due on the terms' effective date."""

    description: str = Field(min_length=1, max_length=200)
    amount: Money


class FeeTerms(_Outbound):
    """Weekly fee terms in force from a date."""

    effective_from: date
    weekly_core_fee: Money
    additional_support: tuple[SupportItem, ...] = ()
    weekly_total: Money = Field(description="Core fee plus all support, per week.")
    annual_cost: Money = Field(description="weekly_total x weeks_per_year.")
    one_off_charges: tuple[OneOffCharge, ...] = Field(
        default=(), description="Charged once on effective_from; not in weekly_total."
    )


# --- placement needs -------------------------------------------------------------------


class SearchOrigin(_Outbound):
    """A British National Grid cell centre (metres) to measure distances from.

    The centroid of the child's postcode district, snapped to the centre of its
    ``cell_m`` x ``cell_m`` grid cell: no district or postcode leaves placements, and a
    distance from it differs from one measured from the district centroid by at most
    ``cell_m * sqrt(2) / 2`` (3.54 km for 5 km cells).
    """

    easting: int = Field(ge=0, le=800_000)
    northing: int = Field(ge=0, le=1_400_000)
    cell_m: int = Field(default=5000, ge=1)


class PlacementNeedRaised(_PlacementsEvent):
    """``placement.need.raised``: procurement should open a call-off for this need.

    Published only when no block contract place was offered (see ``need.offered_block_place``).
    """

    TYPE: ClassVar[str] = "placement.need.raised"
    SUBJECT_FIELD: ClassVar[str] = "need_id"

    need_id: str = Field(description="Placements' own opaque id of the need (not the child's).")
    child_ref: str | None = Field(
        default=None,
        description="No longer sent: procurement needs no child reference (UK GDPR Art. "
        "5(1)(c)). Events published before carry it; consumers ignore it.",
        json_schema_extra=PERSONAL,
    )
    la_code: str
    primary_need: NeedType = Field(json_schema_extra=PERSONAL)
    secondary_needs: tuple[NeedType, ...] = Field(default=(), json_schema_extra=PERSONAL)
    date_of_birth: date | None = Field(
        default=None,
        description="No longer sent: age_at_start / year_group say what procurement needs. "
        "Events published before carry it; consumers ignore it.",
        json_schema_extra=PERSONAL,
    )
    year_group: int | None = Field(
        default=None,
        description="National curriculum year at required_start (R=0).",
        json_schema_extra=PERSONAL,
    )
    age_at_start: int | None = Field(
        default=None, description="Age in years on required_start.", json_schema_extra=PERSONAL
    )
    attendance: Attendance
    postcode_district: str | None = Field(
        default=None,
        description="No longer sent: search_origin replaces it. Events published before "
        "carry it; consumers ignore it.",
        json_schema_extra=PERSONAL,
    )
    search_origin: SearchOrigin | None = Field(
        default=None,
        description="Where distances are measured from: a coarse grid cell, not the "
        "child's district; none when the district is unknown.",
        json_schema_extra=PERSONAL,
    )
    required_start: date
    max_distance_km: float | None = None
    urgent: bool = False
    phase_transfer_deadline: date | None = Field(
        default=None,
        description="For a phase transfer, the day by which the school must be named "
        "(SEND Regulations 2014 reg 18: 15 February, or 31 March for post-16).",
    )


class PlacementNeedOfferedBlockPlace(_PlacementsEvent):
    """``placement.need.offered_block_place``: a free block contract place was offered."""

    TYPE: ClassVar[str] = "placement.need.offered_block_place"
    SUBJECT_FIELD: ClassVar[str] = "need_id"

    need_id: str
    child_ref: str = Field(json_schema_extra=PERSONAL)
    block_contract_id: str
    place_number: int = Field(ge=1)
    provider_id: str
    reason: str


# --- placement contracts ----------------------------------------------------------------


class PlacementContractCreated(_PlacementsEvent):
    """``placement.contract.created``: an individual placement agreement was made (pending)."""

    TYPE: ClassVar[str] = "placement.contract.created"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    placement_id: str
    need_id: str | None = None
    child_ref: str = Field(json_schema_extra=PERSONAL)
    provider_id: str
    source: PlacementSource
    on_contract: bool
    scheme_ref: str | None = None
    competition_ref: str | None = None
    block_contract_id: str | None = None
    primary_need: NeedType = Field(json_schema_extra=PERSONAL)
    attendance: Attendance
    awarded_on: date
    start_date: date
    term_end: date
    weeks_per_year: int
    notice_period_weeks: int
    fee: FeeTerms
    first_review_due: date | None = None
    basis: PlacementBasis | None = Field(
        default=None,
        description="The legal basis it was bought on. Events published before carry "
        "none: read it from source (dps_award: dps_call_off, block_contract: "
        "block_contract, spot: off_contract_spot).",
    )


class PlacementContractStarted(_PlacementsEvent):
    """``placement.contract.started``: the child started; the placement is active."""

    TYPE: ClassVar[str] = "placement.contract.started"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    placement_id: str
    child_ref: str = Field(json_schema_extra=PERSONAL)
    provider_id: str
    started_on: date


class PlacementContractVaried(_PlacementsEvent):
    """``placement.contract.varied``: fee or support changed from a date."""

    TYPE: ClassVar[str] = "placement.contract.varied"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    placement_id: str
    provider_id: str
    fee: FeeTerms
    reason: str
    varied_by: str


class PlacementContractUpliftRequested(_PlacementsEvent):
    """``placement.contract.uplift_requested``: the provider asked for a fee increase."""

    TYPE: ClassVar[str] = "placement.contract.uplift_requested"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    placement_id: str
    uplift_id: str
    provider_id: str
    requested_percent: Percent
    cap_percent: Percent
    above_cap: bool
    effective_from: date
    reason: str | None = None
    cumulative_percent: Decimal | None = Field(
        default=None,
        description="Compounded with the other approved or pending uplifts of the worst "
        "12 months containing this one; above cap_percent a reason is required.",
    )


class PlacementContractUpliftDecided(_PlacementsEvent):
    """``placement.contract.uplift_decided``: the commissioner approved or rejected an uplift."""

    TYPE: ClassVar[str] = "placement.contract.uplift_decided"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    placement_id: str
    uplift_id: str
    provider_id: str
    decision: UpliftDecision
    approved_percent: Percent | None = None
    effective_from: date
    decided_by: str
    reason: str | None = None
    fee: FeeTerms | None = Field(default=None, description="New fee terms when approved.")


class PlacementContractEnding(_PlacementsEvent):
    """``placement.contract.ending``: notice was given (or renewal declined); end date set."""

    TYPE: ClassVar[str] = "placement.contract.ending"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    placement_id: str
    child_ref: str = Field(json_schema_extra=PERSONAL)
    provider_id: str
    notice_given_on: date
    end_date: date
    reason: str
    by: str


class PlacementContractEnded(_PlacementsEvent):
    """``placement.contract.ended``: the placement reached its end date."""

    TYPE: ClassVar[str] = "placement.contract.ended"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    placement_id: str
    child_ref: str = Field(json_schema_extra=PERSONAL)
    provider_id: str
    ended_on: date
    reason: str


class PlacementContractTerminated(_PlacementsEvent):
    """``placement.contract.terminated``: ended at once (before start, or without notice)."""

    TYPE: ClassVar[str] = "placement.contract.terminated"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    placement_id: str
    child_ref: str = Field(json_schema_extra=PERSONAL)
    provider_id: str
    terminated_on: date
    reason: str
    by: str


# --- reviews and renewals -----------------------------------------------------------------


class PlacementReviewScheduled(_PlacementsEvent):
    """``placement.review.scheduled``: an annual review was (re)scheduled."""

    TYPE: ClassVar[str] = "placement.review.scheduled"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    placement_id: str
    review_id: str
    child_ref: str = Field(json_schema_extra=PERSONAL)
    provider_id: str
    due_on: date
    reminders_on: tuple[date, ...] = ()
    statutory_latest: date | None = Field(
        default=None,
        description="Latest lawful due date: 12 months from the review last held "
        "(Children and Families Act 2014 s.44).",
    )
    beyond_statutory_limit: bool = Field(
        default=False,
        description="The council's due date is later than statutory_latest: kept, flagged.",
    )


class PlacementReviewDue(_PlacementsEvent):
    """``placement.review.due``: a reminder that a review falls due soon."""

    TYPE: ClassVar[str] = "placement.review.due"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    placement_id: str
    review_id: str
    child_ref: str = Field(json_schema_extra=PERSONAL)
    due_on: date
    weeks_before: int


class PlacementReviewOverdue(_PlacementsEvent):
    """``placement.review.overdue``: the due date passed without an outcome."""

    TYPE: ClassVar[str] = "placement.review.overdue"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    placement_id: str
    review_id: str
    child_ref: str = Field(json_schema_extra=PERSONAL)
    provider_id: str
    due_on: date
    days_overdue: int = Field(ge=1)


class PlacementReviewCompleted(_PlacementsEvent):
    """``placement.review.completed``: the review's outcome was recorded."""

    TYPE: ClassVar[str] = "placement.review.completed"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    placement_id: str
    review_id: str
    child_ref: str = Field(json_schema_extra=PERSONAL)
    provider_id: str
    due_on: date
    completed_on: date
    outcome: ReviewOutcome
    recorded_by: str


class PlacementRenewalDecisionRequested(_PlacementsEvent):
    """``placement.renewal.decision_requested``: decide whether to renew before notice runs out."""

    TYPE: ClassVar[str] = "placement.renewal.decision_requested"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    placement_id: str
    child_ref: str = Field(json_schema_extra=PERSONAL)
    provider_id: str
    term_end: date
    notice_period_weeks: int
    decision_by: date


class PlacementRenewalDecisionOverdue(_PlacementsEvent):
    """``placement.renewal.decision_overdue``: no renewal decision by the notice deadline."""

    TYPE: ClassVar[str] = "placement.renewal.decision_overdue"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    placement_id: str
    child_ref: str = Field(json_schema_extra=PERSONAL)
    provider_id: str
    term_end: date
    notice_deadline: date = Field(description="Last day notice could be given for term end.")
    days_overdue: int = Field(ge=1)


class PlacementRenewalDecided(_PlacementsEvent):
    """``placement.renewal.decided``: the council renewed the term or declined to renew
    (the placement then ends at term end)."""

    TYPE: ClassVar[str] = "placement.renewal.decided"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    placement_id: str
    child_ref: str = Field(json_schema_extra=PERSONAL)
    provider_id: str
    decision: str = Field(description="renew or decline")
    previous_term_end: date
    new_term_end: date | None = None
    weekly_core_fee: Money | None = None
    decided_by: str
    reason: str


class PlacementNeedBlockOfferDecided(_PlacementsEvent):
    """``placement.need.block_offer_decided``: an offered block place was accepted (a
    placement was made in it) or declined (the place is freed and the need goes to
    procurement)."""

    TYPE: ClassVar[str] = "placement.need.block_offer_decided"
    SUBJECT_FIELD: ClassVar[str] = "need_id"

    need_id: str
    child_ref: str = Field(json_schema_extra=PERSONAL)
    block_contract_id: str
    place_number: int = Field(ge=1)
    provider_id: str
    decision: str = Field(description="accepted or declined")
    placement_id: str | None = None
    decided_by: str
    reason: str


# --- block contracts ----------------------------------------------------------------------


class BlockContractCreated(_PlacementsEvent):
    """``block_contract.created``: N places bought for a term from a provider in a category."""

    TYPE: ClassVar[str] = "block_contract.created"
    SUBJECT_FIELD: ClassVar[str] = "block_contract_id"

    block_contract_id: str
    provider_id: str
    primary_need: NeedType
    attendance: Attendance
    places: int = Field(ge=1)
    term_start: date
    term_end: date
    weekly_fee_per_place: Money
    competition_ref: str | None = None
    additional_support: tuple[SupportItem, ...] = Field(
        default=(), description="Weekly support per place, from the winning bid."
    )
    one_off_charges: tuple[OneOffCharge, ...] = Field(
        default=(), description="Charged once per place at term start."
    )
    weeks_per_year: int | None = Field(default=None, description="Weeks each place is paid for.")


class _BlockPlaceChange(_PlacementsEvent):
    SUBJECT_FIELD: ClassVar[str] = "block_contract_id"

    block_contract_id: str
    provider_id: str
    place_number: int = Field(ge=1)
    occupant_ref: str = Field(description="Need or placement id holding the place.")
    places: int
    places_filled: int
    utilisation_percent: Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]


class BlockContractPlaceFilled(_BlockPlaceChange):
    """``block_contract.place_filled``: a place was taken."""

    TYPE: ClassVar[str] = "block_contract.place_filled"


class BlockContractPlaceFreed(_BlockPlaceChange):
    """``block_contract.place_freed``: a place became free."""

    TYPE: ClassVar[str] = "block_contract.place_freed"


class BlockContractRenewalRequested(_PlacementsEvent):
    """``block_contract.renewal_requested``: decide whether to renew the block before term end."""

    TYPE: ClassVar[str] = "block_contract.renewal_requested"
    SUBJECT_FIELD: ClassVar[str] = "block_contract_id"

    block_contract_id: str
    provider_id: str
    term_end: date
    decision_by: date
    utilisation_percent: Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]


class BlockContractRenewalDecided(_PlacementsEvent):
    """``block_contract.renewal_decided``: renew (new term end), re-procure or let it end."""

    TYPE: ClassVar[str] = "block_contract.renewal_decided"
    SUBJECT_FIELD: ClassVar[str] = "block_contract_id"

    block_contract_id: str
    provider_id: str
    decision: str = Field(description="renew, reprocure or end")
    previous_term_end: date
    new_term_end: date | None = None
    decided_by: str
    reason: str


# --- spend --------------------------------------------------------------------------------


class PlacementSpendCommitted(_PlacementsEvent):
    """``placement.spend.committed``: the committed cost of a placement in one financial year.

    A snapshot, not a delta: the latest event for (placement_id, financial_year) replaces
    earlier ones. An amount of 0 withdraws a commitment (e.g. terminated before start).
    """

    TYPE: ClassVar[str] = "placement.spend.committed"
    SUBJECT_FIELD: ClassVar[str] = "placement_id"

    placement_id: str
    provider_id: str
    primary_need: NeedType
    source: PlacementSource
    on_contract: bool
    financial_year: int = Field(description="Start year: 2025 = 1 April 2025 to 31 March 2026.")
    amount: Money
    line: Literal["placement", "block_unfilled_places"] = Field(
        default="placement",
        description="block_unfilled_places: placement_id is a block contract id and amount "
        "is the block's cost not counted by the placements in its places.",
    )
    adjustment: Decimal | None = Field(
        default=None,
        description="Part of amount (may be negative) correcting closed financial years "
        "after a back-dated change: a closed year's line is never rewritten.",
    )
    basis: PlacementBasis | None = Field(
        default=None,
        description="The placement's legal basis (block_contract on a block's unfilled "
        "places line): off-contract spend on a lawful basis is not non-compliant. Events "
        "published before carry none: read it from source as on placement.contract.created.",
    )


EVENT_CLASSES: tuple[type[_PlacementsEvent], ...] = (
    PlacementNeedRaised,
    PlacementNeedOfferedBlockPlace,
    PlacementContractCreated,
    PlacementContractStarted,
    PlacementContractVaried,
    PlacementContractUpliftRequested,
    PlacementContractUpliftDecided,
    PlacementContractEnding,
    PlacementContractEnded,
    PlacementContractTerminated,
    PlacementReviewScheduled,
    PlacementReviewDue,
    PlacementReviewOverdue,
    PlacementReviewCompleted,
    PlacementRenewalDecisionRequested,
    PlacementRenewalDecisionOverdue,
    PlacementRenewalDecided,
    PlacementNeedBlockOfferDecided,
    BlockContractCreated,
    BlockContractPlaceFilled,
    BlockContractPlaceFreed,
    BlockContractRenewalRequested,
    BlockContractRenewalDecided,
    PlacementSpendCommitted,
)

EVENT_TYPES: dict[str, type[BaseModel]] = {model.TYPE: model for model in EVENT_CLASSES}

EVENT_TYPE_OF: dict[type[BaseModel], str] = {model: name for name, model in EVENT_TYPES.items()}


def event_type_of(payload: BaseModel) -> str:
    """The type string to put in the envelope for a payload model instance."""
    return EVENT_TYPE_OF[type(payload)]


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of every outbound event type, keyed by type string."""
    return {name: model.model_json_schema() for name, model in EVENT_TYPES.items()}
