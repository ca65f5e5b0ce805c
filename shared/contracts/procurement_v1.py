"""Event payloads of topic ``procurement.v1`` (published by services/procurement).

One pydantic model per event type; the CloudEvents envelope carries ``type`` (the
model's ``TYPE``) and ``subject`` (``payload.subject()``, also the Kafka key). Keys:
scheme events by ``scheme_id``, application events by ``application_id``, membership
events by ``provider_id`` (one provider's membership changes stay in order) and
call-off events (competition, invitation, bid) by ``competition_id``.

Compatibility: within ``.v1`` only optional fields are added; consumers ignore fields
they do not know. Money is ``Decimal`` to the penny (a JSON string), dates are ISO
dates, instants are timezone-aware. Bid prices are never published before the award:
``procurement.bid.received`` says only that a sealed bid arrived.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, Field

from shared.contracts.base import Event
from shared.contracts.common import Attendance, NeedType

TOPIC = "procurement.v1"

Money = Annotated[Decimal, Field(ge=0, decimal_places=2)]
Score = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]
RegimeCode = Literal[
    "pcr2015", "pcr2015_light_touch", "pa2023_dynamic_market", "pa2023_open_framework"
]
DirectAwardGround = Literal["user_choice", "extreme_urgency"]
DocumentKind = Literal["insurance", "safeguarding_policy", "financial_check"]
ApplicationOutcome = Literal["admitted", "partially_admitted", "rejected"]
CompetitionKind = Literal["individual", "block"]
InvitationReason = Literal["initial", "next_tier", "late_joiner"]
FeeBasis = Literal["weekly", "annual"]
ChargeBasis = Literal["weekly", "annual", "one_off"]
NextAction = Literal["reopen_lower_tier", "escalate"]
NoticeKind = Literal["award", "dps_period_change"]

# Weeks a year a placement contract can run, and so the only weeks a bid may offer:
# 38 (term-time: the 38-week school year) or 52 (all year). Placements' individual
# placement agreements are priced weekly over one of these; procurement refuses any
# other at bid time so that an award never reaches placements uncontractable.
CONTRACTABLE_WEEKS_PER_YEAR: tuple[int, ...] = (38, 52)
# Residential attendance fixes the weeks: a 38-week or a 52-week residential place.
WEEKS_PER_YEAR_FOR_ATTENDANCE: dict[str, int] = {"residential_38": 38, "residential_52": 52}
# An individual placement agreement without a stated end runs this many years from its
# start: placements makes the contract for this term and procurement values it over it.
DEFAULT_INDIVIDUAL_TERM_YEARS = 3


class ProcurementEvent(Event):
    """Base of every ``procurement.v1`` payload."""

    TOPIC: ClassVar[str] = TOPIC


# ------------------------------------------------------------------ parts


class CategoryInfo(BaseModel):
    """A category of the scheme (need types and attendance)."""

    code: str
    name: str
    need_types: list[NeedType]
    attendance: list[Attendance]


class LotInfo(BaseModel):
    """A quality tier; higher ``min_quality_score`` is consulted first."""

    code: str
    name: str
    min_quality_score: Score
    block_contracts_allowed: bool = False


class CriterionOutcome(BaseModel):
    """Pass/fail of one selection criterion, e.g. ``document:insurance``."""

    criterion: str
    passed: bool
    reason: str = ""
    score: Decimal | None = None


class CategoryRefusal(BaseModel):
    """A requested category that was not admitted, and why."""

    category_code: str
    reason: str


class FilterInfo(BaseModel):
    """The objective filter a call-off applied to members."""

    need_type: NeedType
    attendance: Attendance
    min_age: int | None = None
    max_age: int | None = None
    max_distance_km: float | None = None
    origin_easting: float | None = None
    origin_northing: float | None = None


class SupportItemInfo(BaseModel):
    """One itemised additional support cost of the winning bid."""

    description: str
    amount: Money
    basis: ChargeBasis


class RankedBid(BaseModel):
    """One compliant bid's explainable score."""

    rank: int = Field(ge=1)
    bid_id: str
    provider_id: str
    price_score: Decimal = Field(ge=0, le=100)
    quality_score: Decimal = Field(ge=0, le=100)
    total: Decimal = Field(ge=0, le=100)


class SetAsideBid(BaseModel):
    """A bid found non-compliant, with the reason."""

    bid_id: str
    provider_id: str
    reason: str


# ----------------------------------------------------------------- scheme


class _SchemeEvent(ProcurementEvent):
    SUBJECT_FIELD: ClassVar[str] = "scheme_id"
    scheme_id: str


class SchemeCreated(_SchemeEvent):
    TYPE: ClassVar[str] = "procurement.scheme.created"
    reference: str
    title: str
    regime: RegimeCode
    term_start: date
    term_end: date
    max_extension_end: date | None = None
    categories: list[CategoryInfo]
    lots: list[LotInfo] = []
    required_documents: list[DocumentKind] = []
    min_tender_days: int
    created_by: str | None = None
    # Issue 12 (optional): transition data and the call-off rules the scheme published.
    established_on: date | None = None
    imported: bool | None = None
    narrowing_published: bool | None = None
    award_quality_weight: int | None = None
    award_price_weight: int | None = None
    # Issue 19 (optional): Procurement Act 2023 light touch scheme; an open framework's
    # planned reopenings (s.49).
    light_touch: bool | None = None
    reopening_dates: list[date] | None = None


class SchemeOpened(_SchemeEvent):
    """Opened from draft, or reopened after a suspension (``previous_status``)."""

    TYPE: ClassVar[str] = "procurement.scheme.opened"
    previous_status: Literal["draft", "suspended"]
    opened_at: AwareDatetime
    opened_by: str | None = None


class SchemeSuspended(_SchemeEvent):
    TYPE: ClassVar[str] = "procurement.scheme.suspended"
    reason: str
    suspended_at: AwareDatetime
    suspended_by: str | None = None


class SchemeExtended(_SchemeEvent):
    """The optional extension of the term was exercised."""

    TYPE: ClassVar[str] = "procurement.scheme.extended"
    previous_term_end: date
    term_end: date
    extended_at: AwareDatetime
    extended_by: str | None = None
    # Issue 12 (optional): the decision and the notice of the changed period it requires
    # (PCR 2015 reg 34(27)(a)); the scheme keeps the pending notice entry.
    reason: str | None = None
    extension_number: int | None = None
    extensions_allowed: int | None = None
    period_notice_form: str | None = None


class SchemeAmended(_SchemeEvent):
    """Issue 14: the scheme's terms were amended (PATCH /schemes/{id}): a draft in any
    field; an open or suspended one only where the law allows (its title, or its term to
    the next extension the notice allowed, which also emits SchemeExtended)."""

    TYPE: ClassVar[str] = "procurement.scheme.amended"
    status: Literal["draft", "open", "suspended"]  # the scheme's status when amended
    changed: list[str]  # the fields changed, e.g. ["title", "lots"]
    reason: str | None = None
    amended_at: AwareDatetime
    amended_by: str | None = None


class SchemeClosed(_SchemeEvent):
    TYPE: ClassVar[str] = "procurement.scheme.closed"
    reason: str
    closed_at: AwareDatetime
    closed_by: str | None = None
    # Issue 12 (optional): closing before the period ends owes a notice (reg 34(27)(b)).
    previous_term_end: date | None = None
    period_notice_form: str | None = None


# ------------------------------------------------------------ applications


class _ApplicationEvent(ProcurementEvent):
    SUBJECT_FIELD: ClassVar[str] = "application_id"
    application_id: str
    scheme_id: str
    provider_id: str


class ApplicationSubmitted(_ApplicationEvent):
    """A request to participate arrived; the evaluation clock runs from the next working day."""

    TYPE: ClassVar[str] = "procurement.application.submitted"
    requested_categories: list[str]
    submitted_at: AwareDatetime
    evaluation_due_on: date
    evaluation_due_at: AwareDatetime
    reminder_at: AwareDatetime


class ApplicationExtended(_ApplicationEvent):
    """The evaluation period was extended (once) to 15 working days."""

    TYPE: ClassVar[str] = "procurement.application.extended"
    reason: str
    extended_by: str
    extended_at: AwareDatetime
    evaluation_due_on: date
    evaluation_due_at: AwareDatetime


class ApplicationDecided(_ApplicationEvent):
    TYPE: ClassVar[str] = "procurement.application.decided"
    outcome: ApplicationOutcome
    admitted_categories: list[str]
    refused_categories: list[CategoryRefusal] = []
    criteria: list[CriterionOutcome]
    quality_score: Score | None = None
    lot_code: str | None = None
    decided_by: str
    decided_at: AwareDatetime
    decided_late: bool = False


class ApplicationReminderDue(_ApplicationEvent):
    """Day 7 of 10 (day 12 of 15 when extended): remind the evaluators to decide."""

    TYPE: ClassVar[str] = "procurement.application.reminder_due"
    evaluation_due_on: date
    evaluation_due_at: AwareDatetime
    reminder_at: AwareDatetime
    extended: bool = False
    detected_at: AwareDatetime


class ApplicationOverdue(_ApplicationEvent):
    """Not decided by the end of its evaluation period: escalate."""

    TYPE: ClassVar[str] = "procurement.application.overdue"
    evaluation_due_on: date
    detected_at: AwareDatetime
    extended: bool


# ------------------------------------------------------------- memberships


class _MembershipEvent(ProcurementEvent):
    SUBJECT_FIELD: ClassVar[str] = "provider_id"
    scheme_id: str
    provider_id: str
    category_code: str


class MembershipAdmitted(_MembershipEvent):
    """A provider became a member of a category (one event per category)."""

    TYPE: ClassVar[str] = "procurement.membership.admitted"
    application_id: str
    lot_code: str | None = None
    quality_score: Score | None = None
    admitted_on: date


class MembershipSuspended(_MembershipEvent):
    TYPE: ClassVar[str] = "procurement.membership.suspended"
    reason: str
    suspended_by: str
    suspended_on: date


class MembershipReinstated(_MembershipEvent):
    TYPE: ClassVar[str] = "procurement.membership.reinstated"
    reason: str
    reinstated_by: str
    reinstated_on: date


class MembershipEnded(_MembershipEvent):
    TYPE: ClassVar[str] = "procurement.membership.ended"
    reason: str
    ended_by: str
    ended_on: date


# ------------------------------------------------------------- call-offs


class _CompetitionEvent(ProcurementEvent):
    SUBJECT_FIELD: ClassVar[str] = "competition_id"
    competition_id: str
    scheme_id: str


class CompetitionOpened(_CompetitionEvent):
    TYPE: ClassVar[str] = "procurement.competition.opened"
    category_code: str
    kind: CompetitionKind
    title: str
    places: int = Field(ge=1)
    term_start: date | None = None
    term_end: date | None = None
    need_ref: str | None = None
    filter: FilterInfo
    quality_weight: int = Field(ge=0, le=100)
    price_weight: int = Field(ge=0, le=100)
    lot_code: str | None = None
    opened_at: AwareDatetime
    deadline_at: AwareDatetime
    urgent_reason: str | None = None
    invited_count: int = Field(ge=0)
    opened_by: str | None = None


class ProviderInvited(_CompetitionEvent):
    """Evidence that one member was invited to bid (and until when)."""

    TYPE: ClassVar[str] = "procurement.provider.invited"
    provider_id: str
    round: int = Field(ge=1)
    lot_code: str | None = None
    reason: InvitationReason
    invited_at: AwareDatetime
    deadline_at: AwareDatetime


class BidReceived(_CompetitionEvent):
    """A sealed bid arrived (no prices until award); a resubmission replaces the last."""

    TYPE: ClassVar[str] = "procurement.bid.received"
    bid_id: str
    provider_id: str
    round: int = Field(ge=1)
    version: int = Field(ge=1)
    replaces_bid_id: str | None = None
    submitted_at: AwareDatetime


class ClarificationAnswered(_CompetitionEvent):
    """A clarification answer is published to every invited provider of the round (equal
    treatment: PCR 2015 reg 18, Procurement Act 2023 s.12). Carries who to tell, not the
    text nor who asked (the portal shows the text to invited providers only)."""

    TYPE: ClassVar[str] = "procurement.clarification.answered"
    clarification_id: str
    round: int = Field(ge=1)
    invited_provider_ids: list[str]
    answered_at: AwareDatetime
    deadline_at: AwareDatetime


class CompetitionClosed(_CompetitionEvent):
    TYPE: ClassVar[str] = "procurement.competition.closed"
    round: int = Field(ge=1)
    closed_at: AwareDatetime
    bids_received: int = Field(ge=0)
    # True: the call-off waits in ``evaluation`` for evaluators' quality scores.
    awaiting_evaluator_scores: bool = False


class CompetitionEvaluated(_CompetitionEvent):
    TYPE: ClassVar[str] = "procurement.competition.evaluated"
    round: int = Field(ge=1)
    quality_weight: int
    price_weight: int
    ranking: list[RankedBid]
    non_compliant: list[SetAsideBid] = []
    tie_break_rule: str
    evaluated_at: AwareDatetime
    # Who ranked it: the commissioner who closed the evaluation, or the workflow.
    evaluated_by: str | None = None


class CompetitionAwarded(_CompetitionEvent):
    """The award with the winning bid's commercial terms (per place)."""

    TYPE: ClassVar[str] = "procurement.competition.awarded"
    round: int = Field(ge=1)
    kind: CompetitionKind
    category_code: str
    lot_code: str | None = None
    bid_id: str
    provider_id: str
    places: int = Field(ge=1)
    need_ref: str | None = None
    fee_basis: FeeBasis
    core_fee: Money
    weekly_core_fee: Money
    weeks_per_year: int = Field(ge=1, le=52)
    additional_support: list[SupportItemInfo] = []
    start_date: date
    end_date: date | None = None
    annual_value: Money
    contract_value: Money
    price_score: Decimal = Field(ge=0, le=100)
    quality_score: Decimal = Field(ge=0, le=100)
    total_score: Decimal = Field(ge=0, le=100)
    approved_by: str
    approved_at: AwareDatetime
    standstill_ends_at: AwareDatetime | None = None
    notice_due_on: date
    # True: standstill applies, no contract exists yet; the contract is made from
    # ``procurement.competition.standstill_ended`` (absent in older events: False).
    contract_awaits_standstill: bool = False


class CompetitionStandstillEnded(CompetitionAwarded):
    """Standstill ended without challenge: the contract is concluded on these terms
    (the award's terms, repeated so that a consumer needs no earlier event)."""

    TYPE: ClassVar[str] = "procurement.competition.standstill_ended"
    standstill_ended_at: AwareDatetime


class CompetitionNoSuitableBid(_CompetitionEvent):
    TYPE: ClassVar[str] = "procurement.competition.no_suitable_bid"
    round: int = Field(ge=1)
    lot_code: str | None = None
    reason: str
    next_action: NextAction
    next_lot_code: str | None = None
    declared_by: str
    declared_at: AwareDatetime


class CompetitionReopened(_CompetitionEvent):
    """A lower tier is consulted in a new round after no suitable bid."""

    TYPE: ClassVar[str] = "procurement.competition.reopened"
    round: int = Field(ge=2)
    lot_code: str | None = None
    reason: str
    deadline_at: AwareDatetime
    invited_count: int = Field(ge=0)
    reopened_at: AwareDatetime


class CompetitionNoEligibleMembers(_CompetitionEvent):
    """Alert: nobody in the category passed the filter; recruit or widen the filter."""

    TYPE: ClassVar[str] = "procurement.competition.no_eligible_members"
    category_code: str
    round: int = Field(ge=1)
    need_ref: str | None = None
    filter: FilterInfo
    members_screened: int = Field(ge=0)
    reasons: list[str] = []
    detected_at: AwareDatetime


# ------------------------------------------------------------------ direct awards


class DirectAwardRecorded(ProcurementEvent):
    """A direct award under the Procurement Act 2023 s.41 was decided on a Schedule 5
    ground; says which notices and standstill must come before the contract. Carries the
    pseudonymous need reference only, never the justification's text."""

    TYPE: ClassVar[str] = "procurement.direct_award.recorded"
    SUBJECT_FIELD: ClassVar[str] = "direct_award_id"
    direct_award_id: str
    ground: DirectAwardGround
    provider_id: str
    scheme_id: str | None = None
    need_ref: str | None = None
    contract_value: Money
    start_date: date
    end_date: date | None = None
    light_touch: bool
    requires_transparency_notice: bool
    requires_contract_award_notice: bool
    standstill_applies: bool
    standstill_mandatory: bool
    standstill_working_days: int | None = None
    decided_by: str
    decided_at: AwareDatetime


# ------------------------------------------------------------------ notices


class NoticeOverdue(ProcurementEvent):
    """Alert: a notice the law requires was not published by its due date."""

    TYPE: ClassVar[str] = "procurement.notice.overdue"
    SUBJECT_FIELD: ClassVar[str] = "notice_id"
    notice_id: str
    kind: NoticeKind
    scheme_id: str
    competition_id: str | None = None
    due_on: date
    rule: str
    detected_at: AwareDatetime


class NoticePublished(ProcurementEvent):
    """A notice was sent for publication or published (who, when, where)."""

    TYPE: ClassVar[str] = "procurement.notice.published"
    SUBJECT_FIELD: ClassVar[str] = "notice_id"
    notice_id: str
    kind: NoticeKind
    scheme_id: str
    competition_id: str | None = None
    status: Literal["sent", "published"]
    by: str
    at: AwareDatetime
    publication_ref: str | None = None
    late: bool = False


class CompetitionDeadlineAtRisk(_CompetitionEvent):
    """Alert: a call-off for a phase transfer cannot be decided by the day the school must
    be named (SEND Regulations 2014 reg 18); the commissioner must act (e.g. a direct
    award where the regime allows, or name a school outside the DPS)."""

    TYPE: ClassVar[str] = "procurement.competition.deadline_at_risk"
    need_ref: str | None = None
    statutory_deadline: date
    expected_completion: date
    tender_deadline_at: AwareDatetime
    reason: str
    source: str = "SEND Regulations 2014 reg 18"
    detected_at: AwareDatetime


# ------------------------------------------------------ self-declarations


class _SelfDeclarationEvent(ProcurementEvent):
    SUBJECT_FIELD: ClassVar[str] = "request_id"
    request_id: str
    scheme_id: str
    provider_id: str


class SelfDeclarationRequested(_SelfDeclarationEvent):
    """A member is asked for a renewed self-declaration within 5 working days (reg 34(25))."""

    TYPE: ClassVar[str] = "procurement.self_declaration.requested"
    requested_by: str
    requested_at: AwareDatetime
    due_on: date
    due_at: AwareDatetime
    reason: str = ""


class SelfDeclarationAnswered(_SelfDeclarationEvent):
    TYPE: ClassVar[str] = "procurement.self_declaration.answered"
    answered_at: AwareDatetime
    due_on: date
    answered_late: bool = False


class SelfDeclarationOverdue(_SelfDeclarationEvent):
    """Alert: the renewed self-declaration was not given within 5 working days."""

    TYPE: ClassVar[str] = "procurement.self_declaration.overdue"
    due_on: date
    detected_at: AwareDatetime


EVENT_MODELS: tuple[type[ProcurementEvent], ...] = (
    SchemeCreated,
    SchemeOpened,
    SchemeSuspended,
    SchemeExtended,
    SchemeClosed,
    SchemeAmended,
    ApplicationSubmitted,
    ApplicationExtended,
    ApplicationDecided,
    ApplicationOverdue,
    ApplicationReminderDue,
    MembershipAdmitted,
    MembershipSuspended,
    MembershipReinstated,
    MembershipEnded,
    CompetitionOpened,
    ProviderInvited,
    BidReceived,
    ClarificationAnswered,
    CompetitionClosed,
    CompetitionEvaluated,
    CompetitionAwarded,
    CompetitionStandstillEnded,
    CompetitionNoSuitableBid,
    CompetitionReopened,
    CompetitionNoEligibleMembers,
    NoticeOverdue,
    NoticePublished,
    DirectAwardRecorded,
    CompetitionDeadlineAtRisk,
    SelfDeclarationRequested,
    SelfDeclarationAnswered,
    SelfDeclarationOverdue,
)

EVENT_TYPES: dict[str, type[BaseModel]] = {model.TYPE: model for model in EVENT_MODELS}
