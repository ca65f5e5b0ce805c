"""Procurement rules: DPS schemes, requests to participate, memberships, call-offs,
bids, evaluation, awards and award notices.

Pure layer: no I/O, no database, no clock reads. Every function that depends on time
takes ``now`` (an aware datetime) or ``today`` (a date, Europe/London). Objects are
frozen dataclasses; transitions return new objects. A rule broken by the caller raises
:class:`DomainError` naming the ``field`` and the ``rule`` (the API turns it into 422).

Legal sources are the Public Contracts Regulations 2015 (PCR 2015): regulation 34
(dynamic purchasing systems), 50 (contract award notices), 55 (informing tenderers),
74-76 (light-touch regime), 86-87 (standstill). The scheme's *regime* decides which
timescales apply; regimes are data (:data:`REGIMES`), not branches in code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from types import MappingProxyType

from shared.contracts.common import Attendance, NeedType
from shared.contracts.procurement_v1 import (
    CONTRACTABLE_WEEKS_PER_YEAR,
    DEFAULT_INDIVIDUAL_TERM_YEARS,
    WEEKS_PER_YEAR_FOR_ATTENDANCE,
)
from shared.working_days import (
    LONDON,
    add_working_days,
    end_of_day,
    london_date,
    next_working_day_on_or_after,
)

# --------------------------------------------------------------------------- errors


class Rule(StrEnum):
    """Machine-readable name of the rule a request broke (returned with a 422)."""

    REQUIRED = "required"
    OUT_OF_RANGE = "out_of_range"
    DUPLICATE = "duplicate"
    UNKNOWN = "unknown"
    MISMATCH = "mismatch"
    INVALID_TRANSITION = "invalid_transition"
    REGIME_NOT_SUPPORTED = "regime_not_supported"
    SCHEME_NOT_OPEN = "scheme_not_open"
    TERM_ENDED = "term_ended"
    TERM_NOT_STARTED = "term_not_started"
    EXTENSION_NOT_AVAILABLE = "extension_not_available"
    ALREADY_MEMBER = "already_member"
    ALREADY_DECIDED = "already_decided"
    EXTENSION_ALREADY_USED = "extension_already_used"
    EXTENSION_AFTER_DEADLINE = "extension_after_deadline"
    ASSESSMENT_MISSING = "assessment_missing"
    PROVIDER_NOT_ACTIVE = "provider_not_active"
    DOCUMENT_MISSING = "document_missing"
    DOCUMENT_EXPIRED = "document_expired"
    FILTER_OUTSIDE_CATEGORY = "filter_outside_category"
    WEIGHTS_MUST_SUM_TO_100 = "weights_must_sum_to_100"
    DEADLINE_IN_PAST = "deadline_in_past"
    DEADLINE_AFTER_TERM = "deadline_after_term"
    TENDER_PERIOD_TOO_SHORT = "tender_period_too_short"
    COMPETITION_NOT_OPEN = "competition_not_open"
    DEADLINE_NOT_REACHED = "deadline_not_reached"
    BID_LATE = "bid_late"
    NOT_INVITED = "not_invited"
    MEMBER_NOT_ACTIVE = "member_not_active"
    BID_MALFORMED = "bid_malformed"
    NO_COMPLIANT_BID = "no_compliant_bid"
    BID_SET_ASIDE = "bid_set_aside"
    NO_LOWER_TIER = "no_lower_tier"
    WEEKS_NOT_CONTRACTABLE = "weeks_not_contractable"
    FILTER_NOT_PERMITTED = "filter_not_permitted"
    AWARD_CRITERIA_MISMATCH = "award_criteria_mismatch"
    REGIME_CLOSED_TO_NEW_SCHEMES = "regime_closed_to_new_schemes"
    LONG_STOP_PASSED = "long_stop_passed"
    SCHEME_SUSPENDED = "scheme_suspended"
    DECLARATION_ALREADY_ANSWERED = "declaration_already_answered"
    APPROVER_SCORED_BID = "approver_scored_bid"
    AMENDMENT_REFUSED = "amendment_refused"
    CLARIFICATIONS_CLOSED = "clarifications_closed"
    CLARIFICATION_ALREADY_ANSWERED = "clarification_already_answered"
    ANSWER_AFTER_DEADLINE = "answer_after_deadline"
    WITHDRAWAL_AFTER_DEADLINE = "withdrawal_after_deadline"
    NO_LIVE_BID = "no_live_bid"
    REPLY_BY_PASSED = "reply_by_passed"
    APPLICATION_CLARIFICATION_ANSWERED = "application_clarification_answered"


class DomainError(Exception):
    """A business rule refused the request; ``field`` and ``rule`` say which and why."""

    def __init__(self, field: str, rule: Rule, message: str) -> None:
        super().__init__(f"{field}: {message} [{rule}]")
        self.field = field
        self.rule = rule
        self.message = message

    def as_dict(self) -> dict[str, str]:
        """JSON-ready detail for an HTTP 422 body or a dead-letter record."""
        return {"field": self.field, "rule": str(self.rule), "message": self.message}


def _require(condition: bool, field: str, rule: Rule, message: str) -> None:
    if not condition:
        raise DomainError(field, rule, message)


def _require_text(value: str | None, field: str) -> str:
    _require(bool(value and value.strip()), field, Rule.REQUIRED, f"{field} is required")
    assert value is not None
    return value.strip()


def _today(now: datetime) -> date:
    return london_date(now)


_HUNDREDTH = Decimal("0.01")


def _round2(x: Decimal) -> Decimal:
    """Scores and money are shown, compared and stored to 2 decimal places."""
    return x.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)


# -------------------------------------------------------------------------- regimes


class RegimeCode(StrEnum):
    """Which law a scheme was let under; decides timescales and notices."""

    PCR2015 = "pcr2015"
    PCR2015_LIGHT_TOUCH = "pcr2015_light_touch"
    PA2023_DYNAMIC_MARKET = "pa2023_dynamic_market"


@dataclass(frozen=True, slots=True)
class Regime:
    """The timescales and notice rules of one procurement regime, with their sources."""

    code: RegimeCode
    title: str
    supported: bool
    # Minimum call-off tender period in calendar days; None: the scheme's rules set it.
    statutory_min_tender_days: int | None
    urgent_shortening_allowed: bool
    tender_period_source: str
    application_evaluation_working_days: int
    application_evaluation_max_working_days: int
    evaluation_source: str
    standstill_days: int
    standstill_mandatory: bool
    standstill_source: str
    award_notice_days: int
    award_notice_quarterly_grouping: bool
    award_notice_source: str
    # Who a call-off invites: may the list be tiered (cascade by lot) or screened by
    # ad hoc per-call-off filters (age, distance)? Only where the scheme published it too.
    may_tier: bool = False
    may_screen: bool = False
    invitation_source: str = ""
    # Transition to the Procurement Act 2023: a scheme of this regime must have been
    # established before ``new_schemes_before`` and cannot be used or extended after
    # ``long_stop`` (its last day). None: no such limit.
    new_schemes_before: date | None = None
    long_stop: date | None = None
    transition_source: str = ""


# Procurement Act 2023 go-live, and the last day a PCR 2015 DPS may be used.
PA2023_GO_LIVE = date(2025, 2, 24)
PCR_DPS_LONG_STOP = date(2029, 2, 23)
TRANSITION_SOURCE = (
    "Procurement Act 2023 (Commencement No. 3 and Transitional and Saving Provisions) "
    "Regulations 2024, as amended: procurements begun from 24 February 2025 run under the "
    "Act, so no new PCR 2015 DPS may be established from then; reg 5(4): a PCR 2015 DPS "
    "established before then may not be used after the end of 23 February 2029"
)
FULL_PCR_INVITATION_SOURCE = (
    "PCR 2015 reg 34(21)-(22): every participant admitted to the relevant category is "
    "invited; the list may be narrowed only by categories defined in advance "
    "(reg 34(3)-(4)), never by tiers or ad hoc filters per call-off"
)
LIGHT_TOUCH_INVITATION_SOURCE = (
    "PCR 2015 regs 74-76: the scheme's published rules decide (reg 76(1)-(2)); tiered "
    "call-offs (higher lot first) and age/distance screening apply only where the scheme "
    "published them"
)


REGIMES: Mapping[RegimeCode, Regime] = MappingProxyType(
    {
        RegimeCode.PCR2015: Regime(
            code=RegimeCode.PCR2015,
            title="PCR 2015 dynamic purchasing system",
            supported=True,
            statutory_min_tender_days=10,
            urgent_shortening_allowed=False,
            tender_period_source="PCR 2015 reg 34: tenders at least 10 days from invitation",
            application_evaluation_working_days=10,
            application_evaluation_max_working_days=15,
            evaluation_source="PCR 2015 reg 34: 10 working days, 15 where justified",
            standstill_days=10,
            standstill_mandatory=False,
            standstill_source=(
                "PCR 2015 regs 86-87: standstill need not be applied to a specific contract "
                "under a DPS; a voluntary standstill guards against ineffectiveness (reg 99)"
            ),
            award_notice_days=30,
            award_notice_quarterly_grouping=True,
            award_notice_source=(
                "PCR 2015 reg 50: award notice within 30 days; DPS call-offs may be "
                "grouped quarterly, sent within 30 days of the quarter's end"
            ),
            may_tier=False,
            may_screen=False,
            invitation_source=FULL_PCR_INVITATION_SOURCE,
            new_schemes_before=PA2023_GO_LIVE,
            long_stop=PCR_DPS_LONG_STOP,
            transition_source=TRANSITION_SOURCE,
        ),
        RegimeCode.PCR2015_LIGHT_TOUCH: Regime(
            code=RegimeCode.PCR2015_LIGHT_TOUCH,
            title="PCR 2015 light-touch regime (social and other specific services)",
            supported=True,
            statutory_min_tender_days=None,
            urgent_shortening_allowed=True,
            tender_period_source=(
                "PCR 2015 regs 74-76: the scheme's rules set reasonable timescales"
            ),
            application_evaluation_working_days=10,
            application_evaluation_max_working_days=15,
            evaluation_source="Scheme rules adopting PCR 2015 reg 34 timescales (reg 76)",
            standstill_days=10,
            standstill_mandatory=False,
            standstill_source="PCR 2015 regs 86-87: voluntary for DPS call-offs",
            award_notice_days=30,
            award_notice_quarterly_grouping=True,
            award_notice_source=(
                "PCR 2015 reg 75: award notice within 30 days or grouped quarterly, "
                "sent within 30 days of the quarter's end"
            ),
            may_tier=True,
            may_screen=True,
            invitation_source=LIGHT_TOUCH_INVITATION_SOURCE,
            new_schemes_before=PA2023_GO_LIVE,
            long_stop=PCR_DPS_LONG_STOP,
            transition_source=TRANSITION_SOURCE,
        ),
        # Placeholder so the code exists; schemes under it are refused until implemented.
        RegimeCode.PA2023_DYNAMIC_MARKET: Regime(
            code=RegimeCode.PA2023_DYNAMIC_MARKET,
            title="Procurement Act 2023 dynamic market (not yet implemented)",
            supported=False,
            statutory_min_tender_days=None,
            urgent_shortening_allowed=True,
            tender_period_source="Procurement Act 2023 (not yet implemented)",
            application_evaluation_working_days=10,
            application_evaluation_max_working_days=15,
            evaluation_source="Procurement Act 2023 (not yet implemented)",
            standstill_days=8,
            standstill_mandatory=False,
            standstill_source="Procurement Act 2023 s.51 (working days; not yet implemented)",
            award_notice_days=30,
            award_notice_quarterly_grouping=False,
            award_notice_source="Procurement Act 2023: contract details notice (120 light-touch)",
        ),
    }
)


def regime_for(code: RegimeCode | str) -> Regime:
    """The regime table entry for ``code``; refuses unknown or unsupported regimes."""
    try:
        regime = REGIMES[RegimeCode(code)]
    except ValueError:
        raise DomainError("regime", Rule.UNKNOWN, f"unknown regime {code!r}")
    _require(regime.supported, "regime", Rule.REGIME_NOT_SUPPORTED, f"{code} is not supported yet")
    return regime


# ------------------------------------------------------------------ scheme vocabulary


class SchemeStatus(StrEnum):
    """draft -> open <-> suspended -> closed (closed is final)."""

    DRAFT = "draft"
    OPEN = "open"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class DocumentKind(StrEnum):
    """Compliance documents a provider keeps current to be admitted and invited."""

    INSURANCE = "insurance"
    SAFEGUARDING_POLICY = "safeguarding_policy"
    FINANCIAL_CHECK = "financial_check"


class QuestionKind(StrEnum):
    """A selection question is either pass/fail or scored out of ``max_score``."""

    PASS_FAIL = "pass_fail"
    SCORED = "scored"


@dataclass(frozen=True, slots=True)
class Category:
    """A part of the scheme by need types and attendance, e.g. "ASD, day"."""

    code: str
    name: str
    need_types: frozenset[NeedType]
    attendance: frozenset[Attendance]


@dataclass(frozen=True, slots=True)
class Lot:
    """A quality tier: members scoring at least ``min_quality_score``/100 sit in it.

    Lots with a higher threshold are consulted first in call-offs (the Kent model:
    lot 2 >= 60 with block contracts, then lot 1 >= 30).
    """

    code: str
    name: str
    min_quality_score: Decimal
    block_contracts_allowed: bool = False
    # Kent (Find a Tender 2022/S 000-001313): lot 2 also needs >= 6 on each of award
    # questions 11-16, lot 1 >= 3 on each. None: no per-question minimum for this lot.
    min_question_score: Decimal | None = None
    min_score_questions: tuple[str, ...] = ()  # the questions it applies to; () = all scored

    def question_shortfalls(
        self, questions: Sequence[SelectionQuestion], scores: Mapping[str, Decimal]
    ) -> list[str]:
        """The lot's per-question minimums the scores miss, e.g. "Q11 scored 5 < 6"."""
        if self.min_question_score is None:
            return []
        named = set(self.min_score_questions)
        return [
            f"{q.question_id} scored {scores.get(q.question_id, Decimal(0))} "
            f"< {self.min_question_score}"
            for q in questions
            if q.kind is QuestionKind.SCORED
            and (not named or q.question_id in named)
            and scores.get(q.question_id, Decimal(0)) < self.min_question_score
        ]


@dataclass(frozen=True, slots=True)
class SelectionQuestion:
    """A selection criterion of the request to participate."""

    question_id: str
    text: str
    kind: QuestionKind
    max_score: int = 0  # scored only
    weight: int = 0  # scored only: relative weight in the quality score
    min_score: Decimal | None = None  # scored only: fail the criterion below this


ALL_DOCUMENTS: frozenset[DocumentKind] = frozenset(DocumentKind)


@dataclass(frozen=True, slots=True)
class QualityQuestion:
    """A call-off quality question, scored by evaluators out of ``max_score``; a bid
    scoring below ``min_score`` (moderated) is not suitable."""

    question_id: str
    text: str
    max_score: int
    weight: int
    min_score: int | None = None


AWARD_CRITERIA_SOURCE = (
    "PCR 2015 reg 34(23)-(24): call-offs are awarded on the criteria set out in the "
    "notice for the DPS; reg 76(4): light-touch awards follow the published criteria"
)


@dataclass(frozen=True, slots=True)
class AwardCriteria:
    """The call-off award criteria the scheme published; every call-off applies them."""

    quality_weight: int
    price_weight: int
    quality_questions: tuple[QualityQuestion, ...] = ()


# Used only when a scheme is created without stating its criteria; it is then stored
# and shown with the scheme as its published criteria (never assumed per call-off).
DEFAULT_AWARD_CRITERIA = AwardCriteria(
    60, 40, (QualityQuestion("fit", "How the offer meets the child's needs", 100, 1),)
)


@dataclass(frozen=True, slots=True)
class TermExtension:
    """An optional extension of the DPS period the notice allowed, as decided."""

    previous_term_end: date
    term_end: date
    decided_by: str
    decided_at: datetime
    reason: str


PERIOD_NOTICE_SOURCE = (
    "PCR 2015 reg 34(27): a change of the DPS period of validity is notified on the form "
    "first used for the call for competition; a termination by a contract award notice"
)


@dataclass(frozen=True, slots=True)
class PeriodChangeNotice:
    """A notice owed because the DPS period changed (pending until sent)."""

    change: str  # "extended" | "terminated"
    previous_end: date
    new_end: date
    form: str
    decided_by: str
    decided_at: datetime
    reason: str
    status: str = "pending"


@dataclass(frozen=True, slots=True)
class Scheme:
    """A DPS: its term, parts (categories and lots), selection rules and settings."""

    scheme_id: str
    reference: str
    title: str
    regime: RegimeCode
    term_start: date
    term_end: date
    categories: tuple[Category, ...]
    selection_questions: tuple[SelectionQuestion, ...]
    lots: tuple[Lot, ...] = ()
    pass_mark: Decimal = Decimal(0)  # out of 100, over scored questions
    required_documents: frozenset[DocumentKind] = ALL_DOCUMENTS
    max_extension_end: date | None = None  # the optional extension the notice allowed
    extension_exercised: bool = False
    min_tender_days: int = 10  # calendar days, never below the regime's statutory minimum
    urgent_min_tender_days: int = 3  # floor for urgent placements where the regime allows
    late_joiner_min_days: int | None = None  # None: half the min tender period, rounded up
    voluntary_standstill: bool = False
    # Standstill for block call-offs valued at or above the light-touch threshold (on by
    # default; see standstill_decision). voluntary_standstill covers every call-off.
    standstill_blocks_above_threshold: bool = True
    group_notices_quarterly: bool = True
    status: SchemeStatus = SchemeStatus.DRAFT
    status_reason: str | None = None
    # The scheme published tiered call-offs and age/distance screening (where the
    # regime allows them: Regime.may_tier / may_screen).
    narrowing_published: bool = False
    # When the DPS was established (its call for competition); for a scheme imported
    # from before the Procurement Act 2023 went live, its original date.
    established_on: date | None = None
    imported: bool = False
    award_criteria: AwardCriteria = DEFAULT_AWARD_CRITERIA
    # The optional extension periods the notice allows, each the term end it moves to
    # (Kent: three one-year extensions); max_extension_end alone means one.
    extension_ends: tuple[date, ...] = ()
    extensions: tuple[TermExtension, ...] = ()
    period_notices: tuple[PeriodChangeNotice, ...] = ()

    @property
    def term_end_effective(self) -> date:
        """Last day of the term, including the extensions exercised."""
        if self.extensions:
            return self.extensions[-1].term_end
        if self.extension_exercised and self.max_extension_end is not None:
            return self.max_extension_end
        return self.term_end

    @property
    def extension_options(self) -> tuple[date, ...]:
        """The term ends the notice's optional extensions lead to, in order."""
        if self.extension_ends:
            return self.extension_ends
        return (self.max_extension_end,) if self.max_extension_end is not None else ()

    @property
    def extensions_used(self) -> int:
        if self.extensions:
            return len(self.extensions)
        return 1 if self.extension_exercised and self.max_extension_end is not None else 0

    @property
    def last_usable_day(self) -> date:
        """Last day the scheme may be used: its term, capped by the regime's long-stop."""
        long_stop = self.regime_rules.long_stop
        end = self.term_end_effective
        return min(end, long_stop) if long_stop is not None else end

    @property
    def may_tier(self) -> bool:
        """Tiered call-offs: the regime permits them and the scheme published them."""
        return self.regime_rules.may_tier and self.narrowing_published

    @property
    def may_screen(self) -> bool:
        """Ad hoc age/distance screening: the regime permits and the scheme published it."""
        return self.regime_rules.may_screen and self.narrowing_published

    @property
    def regime_rules(self) -> Regime:
        return REGIMES[self.regime]

    @property
    def tender_days_floor(self) -> int:
        """Minimum tender period (calendar days) for a normal call-off."""
        return max(self.regime_rules.statutory_min_tender_days or 0, self.min_tender_days)

    @property
    def late_joiner_days(self) -> int:
        """A late joiner is invited only if at least this many days remain to bid."""
        if self.late_joiner_min_days is not None:
            return self.late_joiner_min_days
        return math.ceil(self.tender_days_floor / 2)

    @property
    def lots_by_tier(self) -> tuple[Lot, ...]:
        """Lots in the order they are consulted: highest quality threshold first."""
        return tuple(sorted(self.lots, key=lambda lot: lot.min_quality_score, reverse=True))

    def category(self, code: str) -> Category:
        for c in self.categories:
            if c.code == code:
                return c
        raise DomainError("category_code", Rule.UNKNOWN, f"no category {code!r} in scheme")

    def lot(self, code: str) -> Lot:
        for lot in self.lots:
            if lot.code == code:
                return lot
        raise DomainError("lot_code", Rule.UNKNOWN, f"no lot {code!r} in scheme")

    def within_term(self, today: date) -> bool:
        return self.term_start <= today <= self.last_usable_day


# ----------------------------------------------------------------- scheme lifecycle


def _validate_unique(codes: Sequence[str], field: str) -> None:
    for code in codes:
        _require_text(code, field)
    _require(len(set(codes)) == len(codes), field, Rule.DUPLICATE, f"duplicate {field}")


def _validate_question(q: SelectionQuestion) -> None:
    f = f"selection_questions.{q.question_id}"
    _require_text(q.text, f + ".text")
    if q.kind is QuestionKind.SCORED:
        _require(q.max_score > 0, f + ".max_score", Rule.OUT_OF_RANGE, "max_score must be > 0")
        _require(q.weight > 0, f + ".weight", Rule.OUT_OF_RANGE, "weight must be > 0")
        if q.min_score is not None:
            _require(
                0 <= q.min_score <= q.max_score,
                f + ".min_score",
                Rule.OUT_OF_RANGE,
                "min_score must be within 0..max_score",
            )


def _validate_scheme(s: Scheme) -> None:
    regime = regime_for(s.regime)
    _require_text(s.title, "title")
    _require_text(s.reference, "reference")
    _require(s.term_end > s.term_start, "term_end", Rule.OUT_OF_RANGE, "term must end after start")
    if s.max_extension_end is not None:
        _require(
            s.max_extension_end > s.term_end,
            "max_extension_end",
            Rule.OUT_OF_RANGE,
            "extension must end after the term end",
        )
    _require(bool(s.categories), "categories", Rule.REQUIRED, "at least one category")
    _validate_unique([c.code for c in s.categories], "categories")
    for c in s.categories:
        _require(bool(c.need_types), f"categories.{c.code}.need_types", Rule.REQUIRED, "needed")
        _require(bool(c.attendance), f"categories.{c.code}.attendance", Rule.REQUIRED, "needed")
    _validate_unique([q.question_id for q in s.selection_questions], "selection_questions")
    for q in s.selection_questions:
        _validate_question(q)
    scored = any(q.kind is QuestionKind.SCORED for q in s.selection_questions)
    _require(0 <= s.pass_mark <= 100, "pass_mark", Rule.OUT_OF_RANGE, "pass_mark is out of 100")
    _require(
        scored or s.pass_mark == 0, "pass_mark", Rule.REQUIRED, "a pass mark needs scored questions"
    )
    _validate_unique([lot.code for lot in s.lots], "lots")
    thresholds = [lot.min_quality_score for lot in s.lots]
    _require(len(set(thresholds)) == len(thresholds), "lots", Rule.DUPLICATE, "equal thresholds")
    for lot in s.lots:
        _require(
            0 <= lot.min_quality_score <= 100,
            f"lots.{lot.code}.min_quality_score",
            Rule.OUT_OF_RANGE,
            "lot threshold is out of 100",
        )
    _require(scored or not s.lots, "lots", Rule.REQUIRED, "lots need scored questions")
    floor = regime.statutory_min_tender_days or 1
    _require(
        s.min_tender_days >= floor,
        "min_tender_days",
        Rule.OUT_OF_RANGE,
        f"at least {floor} days ({regime.tender_period_source})",
    )
    _require(
        1 <= s.urgent_min_tender_days <= s.min_tender_days,
        "urgent_min_tender_days",
        Rule.OUT_OF_RANGE,
        "between 1 and min_tender_days",
    )
    if s.late_joiner_min_days is not None:
        _require(
            0 <= s.late_joiner_min_days <= s.min_tender_days,
            "late_joiner_min_days",
            Rule.OUT_OF_RANGE,
            "between 0 and min_tender_days",
        )
    _validate_lot_minimums(s)
    _validate_extension_ends(s)
    _validate_award_criteria(s.award_criteria)
    _validate_establishment(s, regime)


def _validate_lot_minimums(s: Scheme) -> None:
    scored = {q.question_id: q for q in s.selection_questions if q.kind is QuestionKind.SCORED}
    for lot in s.lots:
        f = f"lots.{lot.code}"
        for qid in lot.min_score_questions:
            _require(qid in scored, f + ".min_score_questions", Rule.UNKNOWN, f"no scored {qid}")
        if lot.min_question_score is None:
            continue
        named = [scored[q] for q in lot.min_score_questions] or list(scored.values())
        _require(
            all(0 <= lot.min_question_score <= q.max_score for q in named),
            f + ".min_question_score",
            Rule.OUT_OF_RANGE,
            "must be within 0..max_score of each question it applies to",
        )


def _validate_extension_ends(s: Scheme) -> None:
    ends = s.extension_options
    previous = s.term_end
    for end in ends:
        _require(
            end > previous,
            "extension_ends" if s.extension_ends else "max_extension_end",
            Rule.OUT_OF_RANGE,
            "each extension must end after the term (or the previous extension) ends",
        )
        previous = end
    if s.extension_ends and s.max_extension_end is not None:
        _require(
            s.max_extension_end == s.extension_ends[-1],
            "max_extension_end",
            Rule.MISMATCH,
            "max_extension_end must be the last extension's end",
        )


def _validate_award_criteria(a: AwardCriteria) -> None:
    f = "award_criteria."
    for name, w in (("quality_weight", a.quality_weight), ("price_weight", a.price_weight)):
        _require(0 <= w <= 100, f + name, Rule.OUT_OF_RANGE, "between 0 and 100")
    _require(
        a.quality_weight + a.price_weight == 100,
        f + "price_weight",
        Rule.WEIGHTS_MUST_SUM_TO_100,
        "quality and price weights must sum to 100",
    )
    _validate_unique([q.question_id for q in a.quality_questions], f + "quality_questions")
    for q in a.quality_questions:
        qf = f"{f}quality_questions.{q.question_id}"
        _require_text(q.text, qf + ".text")
        _require(q.max_score > 0, qf + ".max_score", Rule.OUT_OF_RANGE, "> 0")
        _require(q.weight > 0, qf + ".weight", Rule.OUT_OF_RANGE, "> 0")
        if q.min_score is not None:
            ok = 0 <= q.min_score <= q.max_score
            _require(ok, qf + ".min_score", Rule.OUT_OF_RANGE, "within 0..max_score")
    _require(
        (a.quality_weight == 0) == (not a.quality_questions),
        f + "quality_questions",
        Rule.REQUIRED,
        "a quality weight needs quality questions, and questions need a quality weight",
    )


def _validate_establishment(s: Scheme, regime: Regime) -> None:
    cutoff = regime.new_schemes_before
    if cutoff is None:
        return
    _require(
        s.established_on is not None,
        "established_on",
        Rule.REQUIRED,
        "the date the DPS was established is needed under this regime",
    )
    assert s.established_on is not None
    _require(
        s.established_on < cutoff,
        "regime",
        Rule.REGIME_CLOSED_TO_NEW_SCHEMES,
        f"no new {regime.code} DPS from {cutoff.isoformat()}; an existing one may be "
        f"imported with its original establishment date ({regime.transition_source})",
    )


def create_scheme(draft: Scheme) -> Scheme:
    """Validate a new scheme and return it in ``draft`` status."""
    _validate_scheme(draft)
    return replace(draft, status=SchemeStatus.DRAFT, status_reason=None)


def _transition(
    s: Scheme, allowed_from: Iterable[SchemeStatus], to: SchemeStatus, reason: str | None
) -> Scheme:
    _require(
        s.status in set(allowed_from),
        "status",
        Rule.INVALID_TRANSITION,
        f"cannot go from {s.status} to {to}",
    )
    return replace(s, status=to, status_reason=reason)


def open_scheme(s: Scheme, today: date) -> Scheme:
    """Open a draft scheme, or reopen a suspended one, while it may still be used."""
    _require(today <= s.term_end_effective, "term_end", Rule.TERM_ENDED, "term has ended")
    _require_before_long_stop(s, today)
    return _transition(s, {SchemeStatus.DRAFT, SchemeStatus.SUSPENDED}, SchemeStatus.OPEN, None)


# What a suspension stops. PCR 2015 reg 34(2)(b), (15)-(16): the DPS stays open to any
# provider meeting the selection criteria throughout its period, so applications are
# still received and decided. New call-offs are paused; running call-offs take no new
# bids until the scheme is reopened (bids already received are kept and evaluated at the
# deadline), so no call-off is let while the scheme is under review.
SUSPENSION_SOURCE = (
    "PCR 2015 reg 34(2)(b), (15)-(16): open to any provider throughout the period; a "
    "suspension pauses call-offs (new ones and new bids) but not admission"
)


def suspend_scheme(s: Scheme, reason: str) -> Scheme:
    """Pause call-offs (new ones, and new bids in running ones); applications go on."""
    reason = _require_text(reason, "reason")
    return _transition(s, {SchemeStatus.OPEN}, SchemeStatus.SUSPENDED, reason)


def close_scheme(s: Scheme, reason: str, *, by: str = "", now: datetime | None = None) -> Scheme:
    """Close the scheme for good (from any status but closed). Closing an open or
    suspended scheme before its period ends records the notice reg 34(27)(b) requires."""
    reason = _require_text(reason, "reason")
    allowed = {SchemeStatus.DRAFT, SchemeStatus.OPEN, SchemeStatus.SUSPENDED}
    closed = _transition(s, allowed, SchemeStatus.CLOSED, reason)
    if now is None or s.status is SchemeStatus.DRAFT or _today(now) > s.term_end_effective:
        return closed
    notice = PeriodChangeNotice(
        change="terminated",
        previous_end=s.term_end_effective,
        new_end=_today(now),
        form="contract award notice (reg 34(27)(b))",
        decided_by=_require_text(by, "by"),
        decided_at=now,
        reason=reason,
    )
    return replace(closed, period_notices=(*s.period_notices, notice))


def extend_scheme_term(s: Scheme, today: date, *, by: str, reason: str, now: datetime) -> Scheme:
    """Exercise the next optional extension the notice allows, before the term ends.

    Refused beyond the extensions the notice allows, or past the regime's long-stop
    (PCR 2015 DPS: 23 February 2029). Records who, when and why, and the notice of the
    changed period (reg 34(27)(a)).
    """
    options, used = s.extension_options, s.extensions_used
    _require(
        used < len(options),
        "max_extension_end",
        Rule.EXTENSION_NOT_AVAILABLE,
        f"no unused extension ({used} of {len(options)} the notice allows used)",
    )
    _require(s.status is not SchemeStatus.CLOSED, "status", Rule.INVALID_TRANSITION, "closed")
    current_end = s.term_end_effective
    _require(today <= current_end, "term_end", Rule.TERM_ENDED, "term has already ended")
    new_end = options[used]
    long_stop = s.regime_rules.long_stop
    _require(
        long_stop is None or new_end <= long_stop,
        "max_extension_end",
        Rule.LONG_STOP_PASSED,
        f"cannot extend to {new_end.isoformat()}, past the long-stop "
        f"{long_stop.isoformat() if long_stop else ''} ({s.regime_rules.transition_source})",
    )
    by, reason = _require_text(by, "by"), _require_text(reason, "reason")
    extension = TermExtension(current_end, new_end, by, now, reason)
    notice = PeriodChangeNotice(
        change="extended",
        previous_end=current_end,
        new_end=new_end,
        form="notice first used for the call for competition (reg 34(27)(a))",
        decided_by=by,
        decided_at=now,
        reason=reason,
    )
    return replace(
        s,
        extension_exercised=True,
        extensions=(*s.extensions, extension),
        period_notices=(*s.period_notices, notice),
    )


# ----------------------------------------------------------------- scheme amendments


class WhileLive(StrEnum):
    """What an amendment of a field may do once the scheme has opened (open, suspended)."""

    ALLOWED = "allowed"  # changes nothing anyone relied on; recorded with a reason
    REFUSED = "refused"  # would alter who would have applied: a new call for competition
    EXTENSION_ONLY = "extension_only"  # only the next extension the notice allowed


@dataclass(frozen=True, slots=True)
class AmendmentRule:
    """Whether a scheme's field may change once the scheme is open, and why (the law)."""

    field: str
    while_live: WhileLive
    source: str


DRAFT_AMENDMENT_SOURCE = (
    "Nothing of a draft scheme is published or relied on: until it opens (its call for "
    "competition) anything may change, validated as when it was created"
)
CONDITIONS_SOURCE = (
    "PCR 2015 reg 34(2)(b) and (15)-(16): the DPS is open throughout its period to any "
    "provider meeting the selection criteria set out when it was established, so changing "
    "them would alter who would have applied (reg 18: equal treatment, transparency); "
    "light-touch: reg 76(4)(a), the conditions for participation as the call for "
    "competition published them. A different scheme needs a new call for competition"
)
CATEGORIES_SOURCE = (
    "PCR 2015 reg 34(4)-(5): the categories (here also the lots and their thresholds) are "
    "defined objectively in the call for competition with their selection criteria; "
    "light-touch: reg 76(4)(a). A different scheme needs a new call for competition"
)
TIME_LIMITS_SOURCE = (
    "PCR 2015 reg 34: the call-off time limits as published with the DPS; light-touch: "
    "reg 76(4)(b), the time limits the call for competition published"
)
TITLE_SOURCE = (
    "A title names the scheme; it changes neither the conditions for participation, the "
    "time limits nor the award procedure (reg 76(4)(a)-(c), reg 34(2)(b)), so it may be "
    "corrected while open, with the reason recorded"
)
TERM_SOURCE = (
    "PCR 2015 reg 34(27)(a): the period may be extended as the notice allowed (its "
    "optional extensions), the change notified on the form first used for the call for "
    "competition; any other change of the period needs a new call for competition"
)

# The fields an amendment may change, each with what it may do once the scheme is open.
# Not amendable at all: the reference and the regime (the scheme's identity and its law).
AMENDMENT_RULES: Mapping[str, AmendmentRule] = MappingProxyType(
    {
        rule.field: rule
        for rule in (
            AmendmentRule("title", WhileLive.ALLOWED, TITLE_SOURCE),
            AmendmentRule("categories", WhileLive.REFUSED, CATEGORIES_SOURCE),
            AmendmentRule("lots", WhileLive.REFUSED, CATEGORIES_SOURCE),
            AmendmentRule("selection_questions", WhileLive.REFUSED, CONDITIONS_SOURCE),
            AmendmentRule("pass_mark", WhileLive.REFUSED, CONDITIONS_SOURCE),
            AmendmentRule("required_documents", WhileLive.REFUSED, CONDITIONS_SOURCE),
            AmendmentRule("award_criteria", WhileLive.REFUSED, AWARD_CRITERIA_SOURCE),
            AmendmentRule("min_tender_days", WhileLive.REFUSED, TIME_LIMITS_SOURCE),
            AmendmentRule("term_start", WhileLive.REFUSED, TERM_SOURCE),
            AmendmentRule("term_end", WhileLive.EXTENSION_ONLY, TERM_SOURCE),
            AmendmentRule("max_extension_end", WhileLive.REFUSED, TERM_SOURCE),
            AmendmentRule("extension_ends", WhileLive.REFUSED, TERM_SOURCE),
        )
    }
)


@dataclass(frozen=True, slots=True)
class Amendment:
    """An amended scheme and what changed; ``extended``: the term end moved to the next
    extension the notice allowed (a period notice is owed, reg 34(27)(a))."""

    scheme: Scheme
    changed: tuple[str, ...]
    extended: bool = False


def _current(s: Scheme, name: str) -> object:
    # The term end a person sees and may move is the effective one (with extensions).
    return s.term_end_effective if name == "term_end" else getattr(s, name)


def changed_fields(s: Scheme, candidate: Scheme) -> tuple[str, ...]:
    """The amendable fields whose value the candidate changes, in the table's order."""
    return tuple(f for f in AMENDMENT_RULES if getattr(candidate, f) != _current(s, f))


def amend_scheme(s: Scheme, candidate: Scheme, *, by: str, reason: str, now: datetime) -> Amendment:
    """Amend a scheme: a draft in any field (validated as a new scheme); an open or
    suspended one only where AMENDMENT_RULES allow, with a reason; a closed one never."""
    changed = changed_fields(s, candidate)
    _require(bool(changed), "body", Rule.REQUIRED, "nothing to change")
    _require(
        s.status is not SchemeStatus.CLOSED,
        "status",
        Rule.INVALID_TRANSITION,
        "a closed scheme cannot be amended",
    )
    if s.status is SchemeStatus.DRAFT:
        _validate_scheme(candidate)
        return Amendment(candidate, changed)
    reason = _require_text(reason, "reason")
    for name in changed:
        rule = AMENDMENT_RULES[name]
        _require(
            rule.while_live is not WhileLive.REFUSED,
            name,
            Rule.AMENDMENT_REFUSED,
            f"cannot change {name} once the scheme has opened ({rule.source})",
        )
    amended = replace(s, title=_require_text(candidate.title, "title"))
    if "term_end" not in changed:
        return Amendment(amended, changed)
    used, options = s.extensions_used, s.extension_options
    _require(
        used < len(options) and candidate.term_end == options[used],
        "term_end",
        Rule.EXTENSION_NOT_AVAILABLE,
        "once open, the term may only move to the next extension the notice allowed "
        f"({options[used].isoformat() if used < len(options) else 'none left'}; {TERM_SOURCE})",
    )
    extended = extend_scheme_term(amended, _today(now), by=by, reason=reason, now=now)
    return Amendment(extended, changed, extended=True)


def accepts_applications(s: Scheme, today: date) -> bool:
    """Open or suspended schemes take requests to participate while they may be used."""
    live = s.status in (SchemeStatus.OPEN, SchemeStatus.SUSPENDED)
    return live and today <= s.last_usable_day


def _require_before_long_stop(s: Scheme, today: date) -> None:
    long_stop = s.regime_rules.long_stop
    _require(
        long_stop is None or today <= long_stop,
        "scheme_id",
        Rule.LONG_STOP_PASSED,
        f"a {s.regime} DPS cannot be used after {long_stop} ({s.regime_rules.transition_source})",
    )


def _require_accepts_applications(s: Scheme, today: date) -> None:
    _require(today <= s.term_end_effective, "scheme_id", Rule.TERM_ENDED, "term has ended")
    _require_before_long_stop(s, today)
    _require(
        s.status in (SchemeStatus.OPEN, SchemeStatus.SUSPENDED),
        "scheme_id",
        Rule.SCHEME_NOT_OPEN,
        f"{s.status}",
    )


def _require_accepts_call_offs(s: Scheme, today: date) -> None:
    _require_accepts_applications(s, today)
    _require(s.status is SchemeStatus.OPEN, "scheme_id", Rule.SCHEME_NOT_OPEN, f"{s.status}")
    _require(today >= s.term_start, "scheme_id", Rule.TERM_NOT_STARTED, "term not started")


def require_scheme_takes_bids(s: Scheme, today: date) -> None:
    """A running call-off takes new bids only while its scheme is open and usable
    (see SUSPENSION_SOURCE); bids already received are kept."""
    _require_before_long_stop(s, today)
    _require(
        s.status is not SchemeStatus.SUSPENDED,
        "scheme_id",
        Rule.SCHEME_SUSPENDED,
        f"the scheme is suspended ({s.status_reason}): no new bids until it is reopened; "
        "bids already received are kept",
    )


# ------------------------------------------------------ providers and compliance


@dataclass(frozen=True, slots=True)
class GridPoint:
    """British National Grid position in metres (distances in GB are Euclidean)."""

    easting: float
    northing: float

    def distance_km(self, other: GridPoint) -> float:
        return math.hypot(self.easting - other.easting, self.northing - other.northing) / 1000


@dataclass(frozen=True, slots=True)
class ProviderSnapshot:
    """What procurement knows of a provider from ``providers.v1`` (the register)."""

    provider_id: str
    active: bool
    need_types: frozenset[NeedType] = frozenset()
    attendance: frozenset[Attendance] = frozenset()
    age_low: int | None = None
    age_high: int | None = None
    location: GridPoint | None = None


@dataclass(frozen=True, slots=True)
class ComplianceDocument:
    """A provider's document; valid up to and including ``expires_on`` (None: no expiry)."""

    kind: DocumentKind
    expires_on: date | None = None
    reference: str = ""


@dataclass(frozen=True, slots=True)
class DocumentProblem:
    """A required document that is missing or expired on the day checked."""

    kind: DocumentKind
    rule: Rule
    message: str


def document_problems(
    required: Iterable[DocumentKind], documents: Iterable[ComplianceDocument], today: date
) -> tuple[DocumentProblem, ...]:
    """Missing or expired required documents, in a stable order, each naming the kind."""
    best: dict[DocumentKind, ComplianceDocument] = {}
    for doc in documents:
        held = best.get(doc.kind)
        if held is None or _outlasts(doc, held):
            best[doc.kind] = doc
    problems = []
    for kind in sorted(required):
        latest = best.get(kind)
        if latest is None:
            problems.append(DocumentProblem(kind, Rule.DOCUMENT_MISSING, f"{kind} is missing"))
        elif latest.expires_on is not None and latest.expires_on < today:
            message = f"{kind} expired on {latest.expires_on.isoformat()}"
            problems.append(DocumentProblem(kind, Rule.DOCUMENT_EXPIRED, message))
    return tuple(problems)


def _outlasts(a: ComplianceDocument, b: ComplianceDocument) -> bool:
    if b.expires_on is None:
        return False
    return a.expires_on is None or a.expires_on > b.expires_on


def require_admissible(
    scheme: Scheme,
    provider: ProviderSnapshot,
    documents: Iterable[ComplianceDocument],
    today: date,
) -> None:
    """Raise if the provider cannot be admitted now: inactive, or a document missing/expired."""
    _require(provider.active, "provider_id", Rule.PROVIDER_NOT_ACTIVE, "not active in the register")
    for problem in document_problems(scheme.required_documents, documents, today):
        raise DomainError(f"documents.{problem.kind}", problem.rule, problem.message)


def age_on(date_of_birth: date, on: date) -> int:
    """Age in whole years on a date (for the age filter of an individual placement)."""
    had_birthday = (on.month, on.day) >= (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - (0 if had_birthday else 1)


# ------------------------------------------------------------------ memberships


class MembershipStatus(StrEnum):
    """active <-> suspended -> ended (ended is final)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Membership:
    """A provider admitted to one category of a scheme (in a lot, when tiered)."""

    scheme_id: str
    provider_id: str
    category_code: str
    lot_code: str | None
    quality_score: Decimal | None
    admitted_on: date
    application_id: str
    status: MembershipStatus = MembershipStatus.ACTIVE
    status_reason: str | None = None
    status_changed_by: str | None = None
    status_changed_on: date | None = None


def _membership_transition(
    m: Membership,
    allowed_from: set[MembershipStatus],
    to: MembershipStatus,
    reason: str,
    by: str,
    today: date,
) -> Membership:
    reason = _require_text(reason, "reason")
    by = _require_text(by, "by")
    _require(m.status in allowed_from, "status", Rule.INVALID_TRANSITION, f"{m.status} -> {to}")
    return replace(
        m, status=to, status_reason=reason, status_changed_by=by, status_changed_on=today
    )


def suspend_membership(m: Membership, reason: str, by: str, today: date) -> Membership:
    """Suspend an active member: no invitations or bids until reinstated."""
    return _membership_transition(
        m, {MembershipStatus.ACTIVE}, MembershipStatus.SUSPENDED, reason, by, today
    )


# A member suspended (or ended) during a running call-off: its bids there are set aside
# at once with the reason, and new bids are refused (submit_bid). A member reinstated
# before the deadline may bid again (a new bid replaces the set-aside one). Choice made
# for issue 12 under PCR 2015 reg 34(25)-(26) / reg 57-59 (exclusion grounds apply
# throughout the DPS) and equal treatment (reg 18): no award to a member not in good
# standing, recorded so the bidder is told why.
SUSPENDED_BIDS_SOURCE = (
    "PCR 2015 regs 18, 34(26) (reg 59(4)-(8) applies throughout the DPS): a suspended "
    "member's running bids are set aside with the reason; it may bid again if reinstated"
)


def bids_set_aside_by(m: Membership, live_bids: Iterable[Bid]) -> tuple[NonCompliantBid, ...]:
    """The member's live bids to set aside now that it is not active, each with why."""
    if m.status is MembershipStatus.ACTIVE:
        return ()
    why = f"membership {m.status} on {m.status_changed_on}: {m.status_reason}"
    return tuple(
        NonCompliantBid(b.bid_id, b.provider_id, why)
        for b in sorted(live_bids, key=lambda b: b.bid_id)
        if b.provider_id == m.provider_id
    )


def reinstate_membership(m: Membership, reason: str, by: str, today: date) -> Membership:
    """Lift a suspension."""
    return _membership_transition(
        m, {MembershipStatus.SUSPENDED}, MembershipStatus.ACTIVE, reason, by, today
    )


def end_membership(m: Membership, reason: str, by: str, today: date) -> Membership:
    """End a membership for good; the provider may apply again later."""
    allowed = {MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED}
    return _membership_transition(m, allowed, MembershipStatus.ENDED, reason, by, today)


# ------------------------------------------------ renewed self-declarations

SELF_DECLARATION_WORKING_DAYS = 5
SELF_DECLARATION_SOURCE = (
    "PCR 2015 reg 34(25): the authority may at any time during the DPS require an admitted "
    "participant to submit a renewed and updated self-declaration within 5 working days "
    "from the date on which the request is transmitted"
)


@dataclass(frozen=True, slots=True)
class SelfDeclarationRequest:
    """A commissioner's request to a member for a renewed self-declaration."""

    request_id: str
    scheme_id: str
    provider_id: str
    requested_by: str
    requested_at: datetime
    reason: str = ""
    answered_by: str | None = None
    answered_at: datetime | None = None
    declaration: Mapping[str, str] = field(default_factory=dict)

    @property
    def due_on(self) -> date:
        """Last working day to answer: 5 working days after the day it was sent."""
        return add_working_days(london_date(self.requested_at), SELF_DECLARATION_WORKING_DAYS)

    @property
    def due_at(self) -> datetime:
        return end_of_day(self.due_on)

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def answered_late(self) -> bool:
        return self.answered_at is not None and self.answered_at >= self.due_at


def request_self_declaration(
    scheme: Scheme,
    memberships: Iterable[Membership],
    *,
    request_id: str,
    provider_id: str,
    by: str,
    reason: str = "",
    now: datetime,
) -> SelfDeclarationRequest:
    """Ask a member (active or suspended) of the scheme for a renewed self-declaration."""
    _require_text(request_id, "request_id")
    by = _require_text(by, "by")
    _require(scheme.status is not SchemeStatus.CLOSED, "scheme_id", Rule.SCHEME_NOT_OPEN, "closed")
    member = any(
        m.provider_id == provider_id
        and m.scheme_id == scheme.scheme_id
        and m.status is not MembershipStatus.ENDED
        for m in memberships
    )
    _require(member, "provider_id", Rule.MEMBER_NOT_ACTIVE, "not a member of the scheme")
    return SelfDeclarationRequest(
        request_id, scheme.scheme_id, provider_id, by, now, (reason or "").strip()
    )


def answer_self_declaration(
    request: SelfDeclarationRequest,
    *,
    provider_id: str,
    declaration: Mapping[str, str],
    now: datetime,
) -> SelfDeclarationRequest:
    """The member's renewed declaration (once); a late answer is kept and shown late."""
    _require(provider_id == request.provider_id, "provider_id", Rule.MISMATCH, "not your request")
    _require(
        not request.answered,
        "request_id",
        Rule.DECLARATION_ALREADY_ANSWERED,
        "the declaration was already given",
    )
    _require(bool(declaration), "declaration", Rule.REQUIRED, "the declaration is empty")
    for key, value in declaration.items():
        _require_text(value, f"declaration.{key}")
    return replace(request, answered_by=provider_id, answered_at=now, declaration=dict(declaration))


def self_declaration_overdue(request: SelfDeclarationRequest, now: datetime) -> bool:
    """Unanswered once its fifth working day has ended (escalate)."""
    return not request.answered and now >= request.due_at


# ----------------------------------------------------------------- applications

# The evaluator is reminded on the working day this many days before the last one:
# day 7 of 10 (day 12 of 15 once extended), leaving three full working days.
REMINDER_WORKING_DAYS_BEFORE_DEADLINE = 3


class ApplicationOutcome(StrEnum):
    """Result of evaluating a request to participate."""

    ADMITTED = "admitted"
    PARTIALLY_ADMITTED = "partially_admitted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class QuestionAssessment:
    """An evaluator's judgement of one answer: ``passed`` (pass/fail) or ``score``."""

    passed: bool | None = None
    score: Decimal | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """Pass/fail of one criterion; ``criterion`` is e.g. ``question:Q1``,
    ``document:insurance``, ``register``, ``pass_mark``, ``lot``, ``scheme``."""

    criterion: str
    passed: bool
    reason: str = ""
    score: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CategoryRefusal:
    """A requested category not admitted, and why."""

    category_code: str
    reason: str


@dataclass(frozen=True, slots=True)
class ApplicationDecision:
    """The recorded decision on a request to participate."""

    outcome: ApplicationOutcome
    criteria: tuple[CriterionResult, ...]
    admitted_categories: tuple[str, ...]
    refused_categories: tuple[CategoryRefusal, ...]
    quality_score: Decimal | None
    lot_code: str | None
    decided_by: str
    decided_at: datetime
    decided_late: bool

    @property
    def failed_criteria(self) -> tuple[CriterionResult, ...]:
        return tuple(c for c in self.criteria if not c.passed)


@dataclass(frozen=True, slots=True)
class Application:
    """A provider's request to participate in (some categories of) a scheme."""

    application_id: str
    scheme_id: str
    provider_id: str
    requested_categories: tuple[str, ...]
    answers: Mapping[str, str]
    submitted_at: datetime
    evaluation_working_days: int  # 10, or 15 once extended
    extension_reason: str | None = None
    extended_by: str | None = None
    extended_at: datetime | None = None
    decision: ApplicationDecision | None = None

    @property
    def received_on(self) -> date:
        """London date of receipt; it does not count towards the working days."""
        return london_date(self.submitted_at)

    @property
    def due_on(self) -> date:
        """Last working day on which the decision is on time."""
        return add_working_days(self.received_on, self.evaluation_working_days)

    @property
    def due_at(self) -> datetime:
        """Exclusive deadline instant (end of ``due_on``, Europe/London)."""
        return end_of_day(self.due_on)

    @property
    def reminder_on(self) -> date:
        """Working day on which the evaluator is reminded (day 7 of 10; day 12 of 15)."""
        days = self.evaluation_working_days - REMINDER_WORKING_DAYS_BEFORE_DEADLINE
        return add_working_days(self.received_on, days)

    @property
    def reminder_at(self) -> datetime:
        """Start (00:00 London) of ``reminder_on``."""
        return datetime.combine(self.reminder_on, time(0), tzinfo=LONDON)

    @property
    def extended(self) -> bool:
        return self.extension_reason is not None

    @property
    def decided(self) -> bool:
        return self.decision is not None


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """The decided application and the memberships it creates (empty if rejected)."""

    application: Application
    memberships: tuple[Membership, ...]


def submit_application(
    scheme: Scheme,
    *,
    application_id: str,
    provider_id: str,
    requested_categories: Sequence[str],
    answers: Mapping[str, str],
    existing_memberships: Iterable[Membership] = (),
    now: datetime,
) -> Application:
    """Receive a request to participate; its 10-working-day clock starts the next working day.

    A member may apply for further categories; it may not re-apply for a category it
    holds (active or suspended).
    """
    _require_accepts_applications(scheme, _today(now))
    _require_text(application_id, "application_id")
    _require_text(provider_id, "provider_id")
    requested = tuple(requested_categories)
    _require(bool(requested), "requested_categories", Rule.REQUIRED, "request a category")
    _validate_unique(requested, "requested_categories")
    for code in requested:
        scheme.category(code)
    held = {
        m.category_code
        for m in existing_memberships
        if m.provider_id == provider_id
        and m.scheme_id == scheme.scheme_id
        and m.status is not MembershipStatus.ENDED
    }
    for code in requested:
        _require(
            code not in held, "requested_categories", Rule.ALREADY_MEMBER, f"already in {code}"
        )
    _validate_answers(scheme, answers)
    days = scheme.regime_rules.application_evaluation_working_days
    return Application(
        application_id=application_id,
        scheme_id=scheme.scheme_id,
        provider_id=provider_id,
        requested_categories=requested,
        answers=dict(answers),
        submitted_at=now,
        evaluation_working_days=days,
    )


# Register statuses from which a provider may submit a request to participate. A
# provider registered but not yet active (e.g. documents still missing) may apply: its
# documents and register status are selection criteria, judged when the application is
# decided within the 10-working-day clock (PCR 2015 reg 34(2)(b), (15)-(16)).
MAY_APPLY_REGISTER_STATUSES = frozenset({"registered", "active"})


def require_may_apply(register_status: str | None) -> None:
    """Refuse a request to participate only from a provider unknown to, suspended on or
    removed from the register; missing documents never stop an application."""
    _require(
        register_status is not None,
        "provider_id",
        Rule.UNKNOWN,
        "not (yet) in the register",
    )
    _require(
        register_status in MAY_APPLY_REGISTER_STATUSES,
        "provider_id",
        Rule.PROVIDER_NOT_ACTIVE,
        f"the provider is {register_status} on the register",
    )


def _validate_answers(scheme: Scheme, answers: Mapping[str, str]) -> None:
    known = {q.question_id for q in scheme.selection_questions}
    for qid in answers:
        _require(qid in known, f"answers.{qid}", Rule.UNKNOWN, "no such selection question")
    for qid in sorted(known):
        _require_text(answers.get(qid), f"answers.{qid}")


def extend_evaluation(
    application: Application, scheme: Scheme, *, reason: str, by: str, now: datetime
) -> Application:
    """Extend the evaluation to 15 working days, once, with a reason, before the deadline.

    PCR 2015 reg 34 allows 15 working days "in individual cases where justified"; a
    second extension, or one asked for after the 10 days have run out, is refused.
    """
    _require(not application.decided, "application_id", Rule.ALREADY_DECIDED, "decided")
    _require(
        not application.extended,
        "application_id",
        Rule.EXTENSION_ALREADY_USED,
        "the evaluation period was already extended",
    )
    reason = _require_text(reason, "reason")
    by = _require_text(by, "by")
    _require(
        now < application.due_at,
        "application_id",
        Rule.EXTENSION_AFTER_DEADLINE,
        f"the deadline {application.due_on.isoformat()} has passed",
    )
    return replace(
        application,
        evaluation_working_days=scheme.regime_rules.application_evaluation_max_working_days,
        extension_reason=reason,
        extended_by=by,
        extended_at=now,
    )


def is_overdue(application: Application, now: datetime) -> bool:
    """Undecided after the end of its last evaluation day (escalate)."""
    return not application.decided and now >= application.due_at


def reminder_due(application: Application, now: datetime) -> bool:
    """Undecided and the reminder day has begun."""
    return not application.decided and now >= application.reminder_at


def application_quality_score(
    questions: Sequence[SelectionQuestion], assessments: Mapping[str, QuestionAssessment]
) -> Decimal | None:
    """Weighted score out of 100 over scored questions; None if the scheme has none."""
    scored = [q for q in questions if q.kind is QuestionKind.SCORED]
    if not scored:
        return None
    total_weight = sum(q.weight for q in scored)
    earned = sum(
        (_assessed_score(q, assessments) / q.max_score * q.weight for q in scored), Decimal(0)
    )
    return _round2(earned / total_weight * 100)


def _assessed_score(q: SelectionQuestion, assessments: Mapping[str, QuestionAssessment]) -> Decimal:
    score = assessments[q.question_id].score
    assert score is not None  # checked by _validate_assessments
    return Decimal(score)


def _validate_assessments(
    questions: Sequence[SelectionQuestion], assessments: Mapping[str, QuestionAssessment]
) -> None:
    known = {q.question_id for q in questions}
    for qid in assessments:
        _require(qid in known, f"assessments.{qid}", Rule.UNKNOWN, "no such selection question")
    for q in questions:
        f = f"assessments.{q.question_id}"
        a = assessments.get(q.question_id)
        _require(a is not None, f, Rule.ASSESSMENT_MISSING, "not assessed")
        assert a is not None
        if q.kind is QuestionKind.PASS_FAIL:
            _require(a.passed is not None, f, Rule.ASSESSMENT_MISSING, "pass or fail needed")
        else:
            _require(a.score is not None, f, Rule.ASSESSMENT_MISSING, "score needed")
            assert a.score is not None
            _require(0 <= a.score <= q.max_score, f, Rule.OUT_OF_RANGE, f"0..{q.max_score}")


def _question_results(
    questions: Sequence[SelectionQuestion], assessments: Mapping[str, QuestionAssessment]
) -> list[CriterionResult]:
    results = []
    for q in questions:
        a = assessments[q.question_id]
        name = f"question:{q.question_id}"
        if q.kind is QuestionKind.PASS_FAIL:
            results.append(CriterionResult(name, bool(a.passed), "" if a.passed else a.note))
            continue
        score = Decimal(a.score or 0)
        below = q.min_score is not None and score < q.min_score
        reason = f"scored {score}, below the minimum {q.min_score}" if below else ""
        results.append(CriterionResult(name, not below, reason, score))
    return results


def lot_for_score(
    scheme: Scheme,
    quality_score: Decimal | None,
    question_scores: Mapping[str, Decimal] | None = None,
) -> Lot | None:
    """Highest lot whose threshold the score meets and whose per-question minimums the
    scores meet (None if untiered or below all). A provider failing lot 2 may thus be
    admitted to lot 1 (Kent, Find a Tender 2022/S 000-001313)."""
    if quality_score is None:
        return None
    for lot in scheme.lots_by_tier:
        shortfalls = lot.question_shortfalls(scheme.selection_questions, question_scores or {})
        if quality_score >= lot.min_quality_score and not shortfalls:
            return lot
    return None


def _lot_miss(scheme: Scheme, quality_score: Decimal, scores: Mapping[str, Decimal]) -> str:
    """Why no lot admits the provider: each lot's threshold or per-question minimum missed."""
    misses = []
    for lot in scheme.lots_by_tier:
        why = lot.question_shortfalls(scheme.selection_questions, scores)
        if quality_score < lot.min_quality_score:
            why.insert(0, f"quality score {quality_score} < {lot.min_quality_score}")
        misses.append(f"{lot.code}: {', '.join(why)}")
    return "no lot's criteria met (" + "; ".join(misses) + ")"


def _gate_results(
    scheme: Scheme,
    provider: ProviderSnapshot,
    documents: Iterable[ComplianceDocument],
    today: date,
) -> list[CriterionResult]:
    live = scheme.status is not SchemeStatus.CLOSED and today <= scheme.last_usable_day
    results = [
        CriterionResult(
            "scheme", live, "" if live else "the scheme is closed, its term or long-stop passed"
        ),
        CriterionResult(
            "register",
            provider.active,
            "" if provider.active else "provider is not active in the register",
        ),
    ]
    problems = {p.kind: p for p in document_problems(scheme.required_documents, documents, today)}
    for kind in sorted(scheme.required_documents):
        problem = problems.get(kind)
        results.append(
            CriterionResult(f"document:{kind}", problem is None, problem.message if problem else "")
        )
    return results


def _score_results(
    scheme: Scheme, quality_score: Decimal | None, scores: Mapping[str, Decimal]
) -> list[CriterionResult]:
    if quality_score is None:
        return []
    passed = quality_score >= scheme.pass_mark
    results = [
        CriterionResult(
            "pass_mark",
            passed,
            "" if passed else f"quality score {quality_score} below pass mark {scheme.pass_mark}",
            quality_score,
        )
    ]
    if scheme.lots:
        in_lot = lot_for_score(scheme, quality_score, scores) is not None
        reason = "" if in_lot else _lot_miss(scheme, quality_score, scores)
        results.append(CriterionResult("lot", in_lot, reason, quality_score))
    return results


def _scored(assessments: Mapping[str, QuestionAssessment]) -> dict[str, Decimal]:
    return {k: Decimal(a.score) for k, a in assessments.items() if a.score is not None}


def _category_fit(category: Category, provider: ProviderSnapshot) -> str | None:
    """Why the provider cannot serve the category per the register, or None if it can."""
    if not category.need_types & provider.need_types:
        needs = ", ".join(sorted(category.need_types))
        return f"register lists none of the category's need types ({needs})"
    if not category.attendance & provider.attendance:
        modes = ", ".join(sorted(category.attendance))
        return f"register lists none of the category's attendance patterns ({modes})"
    return None


def decide_application(
    application: Application,
    scheme: Scheme,
    *,
    provider: ProviderSnapshot,
    documents: Iterable[ComplianceDocument],
    assessments: Mapping[str, QuestionAssessment],
    decided_by: str,
    now: datetime,
    refused_categories: Mapping[str, str] | None = None,
) -> DecisionResult:
    """Evaluate a request to participate against the selection criteria and decide.

    Every criterion gets a pass/fail with a reason. Any failure rejects the whole
    request: provider not active in the register, a required document missing or
    expired (named), a pass/fail question failed, a score below its minimum, the pass
    mark or the lowest lot's threshold. Otherwise each requested category is admitted
    unless the register says the provider does not serve it, or the decider refuses it
    (``refused_categories``: code -> reason). The lot follows from the quality score.
    Deciding after the deadline is allowed but recorded as ``decided_late``.
    """
    _require(not application.decided, "application_id", Rule.ALREADY_DECIDED, "decided")
    _require(
        provider.provider_id == application.provider_id,
        "provider_id",
        Rule.MISMATCH,
        "provider snapshot is not the applicant",
    )
    decided_by = _require_text(decided_by, "decided_by")
    refusals_asked = dict(refused_categories or {})
    for code, reason in refusals_asked.items():
        _require(
            code in application.requested_categories,
            f"refused_categories.{code}",
            Rule.UNKNOWN,
            "category was not requested",
        )
        _require_text(reason, f"refused_categories.{code}")
    questions = scheme.selection_questions
    _validate_assessments(questions, assessments)
    today = _today(now)
    quality_score = application_quality_score(questions, assessments)
    criteria = (
        _gate_results(scheme, provider, documents, today)
        + _question_results(questions, assessments)
        + _score_results(scheme, quality_score, _scored(assessments))
    )
    lot = lot_for_score(scheme, quality_score, _scored(assessments))
    all_passed = all(c.passed for c in criteria)
    admitted: list[str] = []
    refused: list[CategoryRefusal] = []
    for code in application.requested_categories:
        if not all_passed:
            why: str | None = "selection criteria not met"
        else:
            why = refusals_asked.get(code) or _category_fit(scheme.category(code), provider)
        if why:
            refused.append(CategoryRefusal(code, why))
        else:
            admitted.append(code)
    outcome = _outcome(admitted, application.requested_categories)
    decision = ApplicationDecision(
        outcome=outcome,
        criteria=tuple(criteria),
        admitted_categories=tuple(admitted),
        refused_categories=tuple(refused),
        quality_score=quality_score,
        lot_code=lot.code if lot and admitted else None,
        decided_by=decided_by,
        decided_at=now,
        decided_late=now >= application.due_at,
    )
    memberships = tuple(
        Membership(
            scheme_id=scheme.scheme_id,
            provider_id=application.provider_id,
            category_code=code,
            lot_code=decision.lot_code,
            quality_score=quality_score,
            admitted_on=today,
            application_id=application.application_id,
        )
        for code in admitted
    )
    return DecisionResult(replace(application, decision=decision), memberships)


def _outcome(admitted: Sequence[str], requested: Sequence[str]) -> ApplicationOutcome:
    if not admitted:
        return ApplicationOutcome.REJECTED
    if len(admitted) == len(requested):
        return ApplicationOutcome.ADMITTED
    return ApplicationOutcome.PARTIALLY_ADMITTED


# ------------------------------------------------------------------ competitions


class CompetitionKind(StrEnum):
    """A call-off buys one child's placement or a block of places."""

    INDIVIDUAL = "individual"
    BLOCK = "block"


class CompetitionStatus(StrEnum):
    """open -> closed -> [evaluation ->] evaluated -> awarded | no_suitable_bid (-> open,
    next tier).

    ``evaluation``: closed at the deadline, waiting for the evaluators' quality scores
    (only when the call-off has quality questions and at least one compliant bid).
    ``no_eligible_members`` records that nobody could be invited (an alert).
    """

    OPEN = "open"
    CLOSED = "closed"
    EVALUATION = "evaluation"
    EVALUATED = "evaluated"
    AWARDED = "awarded"
    NO_SUITABLE_BID = "no_suitable_bid"
    NO_ELIGIBLE_MEMBERS = "no_eligible_members"


class InvitationReason(StrEnum):
    """Why a provider was invited: at opening, when a lower tier opened, or late joiner."""

    INITIAL = "initial"
    NEXT_TIER = "next_tier"
    LATE_JOINER = "late_joiner"


@dataclass(frozen=True, slots=True)
class FilterCriteria:
    """Objective filter, recorded as evidence of who could be invited and why.

    Age: the provider's statutory age range must cover ``min_age``..``max_age`` (for an
    individual placement both are the child's age at the required start). Distance:
    straight-line km from ``origin`` (e.g. the child's postcode district centroid).
    """

    need_type: NeedType
    attendance: Attendance
    min_age: int | None = None
    max_age: int | None = None
    origin: GridPoint | None = None
    max_distance_km: float | None = None


@dataclass(frozen=True, slots=True)
class CompetitionSpec:
    """What the commissioner asks for; fixed for the life of the competition."""

    competition_id: str
    scheme_id: str
    category_code: str
    kind: CompetitionKind
    title: str
    filter: FilterCriteria
    quality_weight: int
    price_weight: int
    quality_questions: tuple[QualityQuestion, ...] = ()
    places: int = 1
    term_start: date | None = None  # block contracts
    term_end: date | None = None  # block contracts
    need_ref: str | None = None  # individual placement: the placement need
    opened_by: str = ""


@dataclass(frozen=True, slots=True)
class Screening:
    """Evidence: one member checked against the filter, documents and status."""

    provider_id: str
    lot_code: str | None
    eligible: bool
    reasons: tuple[str, ...] = ()
    round: int = 1


@dataclass(frozen=True, slots=True)
class Invitation:
    """Evidence that a provider was invited, when, in which round and why."""

    provider_id: str
    lot_code: str | None
    round: int
    invited_at: datetime
    reason: InvitationReason


@dataclass(frozen=True, slots=True)
class TierStep:
    """A tier consulted (or skipped) and why."""

    round: int
    lot_code: str | None
    consulted: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Competition:
    """A call-off competition and its evidence trail."""

    spec: CompetitionSpec
    status: CompetitionStatus
    round: int
    current_lot: str | None
    opened_at: datetime
    deadline_at: datetime
    urgent_reason: str | None
    invitations: tuple[Invitation, ...]
    screenings: tuple[Screening, ...]
    tier_steps: tuple[TierStep, ...]
    closed_at: datetime | None = None

    @property
    def competition_id(self) -> str:
        return self.spec.competition_id

    @property
    def scheme_id(self) -> str:
        return self.spec.scheme_id

    def invited(self, provider_id: str, round: int | None = None) -> bool:
        """Whether ``provider_id`` was invited in ``round`` (default: the current round)."""
        r = self.round if round is None else round
        return any(i.provider_id == provider_id and i.round == r for i in self.invitations)

    def current_invitations(self) -> tuple[Invitation, ...]:
        return tuple(i for i in self.invitations if i.round == self.round)


@dataclass(frozen=True, slots=True)
class InvitationPlan:
    """Who to invite: the tier consulted, its eligible members and all screenings."""

    lot_code: str | None
    invitees: tuple[str, ...]
    screenings: tuple[Screening, ...]
    tier_steps: tuple[TierStep, ...]

    @property
    def empty(self) -> bool:
        return not self.invitees


def screen_member(
    scheme: Scheme,
    spec: CompetitionSpec,
    membership: Membership,
    provider: ProviderSnapshot | None,
    documents: Iterable[ComplianceDocument],
    today: date,
    round: int = 1,
) -> Screening:
    """Check one member against the call-off; every failed check gives a reason."""
    reasons: list[str] = []
    if membership.status is not MembershipStatus.ACTIVE:
        reasons.append(f"membership {membership.status}")
    if spec.kind is CompetitionKind.BLOCK and membership.lot_code is not None:
        if not scheme.lot(membership.lot_code).block_contracts_allowed:
            reasons.append(f"lot {membership.lot_code} does not take block contracts")
    if provider is None or not provider.active:
        reasons.append("provider is not active in the register")
    elif scheme.may_screen:
        reasons.extend(_filter_reasons(spec.filter, provider))
    problems = document_problems(scheme.required_documents, documents, today)
    reasons.extend(p.message for p in problems)
    return Screening(
        membership.provider_id, membership.lot_code, not reasons, tuple(reasons), round
    )


def _filter_reasons(f: FilterCriteria, provider: ProviderSnapshot) -> list[str]:
    reasons = []
    if f.need_type not in provider.need_types:
        reasons.append(f"does not cater for need type {f.need_type}")
    if f.attendance not in provider.attendance:
        reasons.append(f"does not offer {f.attendance} attendance")
    wanted = [a for a in (f.min_age, f.max_age) if a is not None]
    if wanted:
        low, high = provider.age_low, provider.age_high
        if low is None or high is None or not (low <= min(wanted) and max(wanted) <= high):
            reasons.append(f"age range {low}-{high} does not cover {min(wanted)}-{max(wanted)}")
    if f.max_distance_km is not None and f.origin is not None:
        if provider.location is None:
            reasons.append("location unknown, distance cannot be checked")
        else:
            km = provider.location.distance_km(f.origin)
            if km > f.max_distance_km:
                reasons.append(f"{km:.1f} km away, over the {f.max_distance_km:g} km limit")
    return reasons


def _lots_below(scheme: Scheme, lot_code: str) -> list[Lot]:
    """Lots ranked below ``lot_code``, in the order they are consulted."""
    floor = scheme.lot(lot_code).min_quality_score
    return [lot for lot in scheme.lots_by_tier if lot.min_quality_score < floor]


def _tiers(scheme: Scheme, below_lot: str | None) -> list[Lot | None]:
    """Lots to consult in order; [None] for an untiered scheme, or one whose regime or
    published rules do not allow tiered call-offs (every lot at once)."""
    if not scheme.lots or not scheme.may_tier:
        return [None]
    lots = scheme.lots_by_tier if below_lot is None else _lots_below(scheme, below_lot)
    return list(lots)


def plan_invitations(
    scheme: Scheme,
    spec: CompetitionSpec,
    *,
    memberships: Iterable[Membership],
    providers: Mapping[str, ProviderSnapshot],
    documents: Mapping[str, Sequence[ComplianceDocument]],
    today: date,
    round: int = 1,
    below_lot: str | None = None,
) -> InvitationPlan:
    """All eligible members of the category, in the highest tier that has any where
    tiers are allowed and published (light-touch, reg 76), else every lot at once
    (full PCR, reg 34(21)-(22)); age/distance screening only where allowed and published.
    Lots that cannot take a block contract are categories defined in advance
    (reg 34(3)-(4)), so a block call-off never invites them."""
    in_category = [
        m
        for m in memberships
        if m.scheme_id == scheme.scheme_id and m.category_code == spec.category_code
    ]
    screenings = tuple(
        screen_member(
            scheme,
            spec,
            m,
            providers.get(m.provider_id),
            documents.get(m.provider_id, ()),
            today,
            round,
        )
        for m in sorted(in_category, key=lambda m: m.provider_id)
    )
    steps: list[TierStep] = []
    for lot in _tiers(scheme, below_lot):
        code = lot.code if lot else None
        if (
            spec.kind is CompetitionKind.BLOCK
            and lot is not None
            and not lot.block_contracts_allowed
        ):
            steps.append(TierStep(round, code, False, f"lot {code} does not take block contracts"))
            continue
        invitees = tuple(s.provider_id for s in screenings if _in_tier(scheme, s, lot, spec))
        if invitees:
            steps.append(TierStep(round, code, True, f"{len(invitees)} eligible member(s)"))
            return InvitationPlan(code, invitees, screenings, tuple(steps))
        steps.append(TierStep(round, code, False, f"no eligible members in {code or 'scheme'}"))
    return InvitationPlan(None, (), screenings, tuple(steps))


def _in_tier(scheme: Scheme, s: Screening, lot: Lot | None, spec: CompetitionSpec) -> bool:
    if not s.eligible:
        return False
    if lot is not None or not scheme.lots:
        return s.lot_code == (lot.code if lot else None)
    # Every lot at once: a block call-off still only goes to lots that take blocks.
    return spec.kind is CompetitionKind.INDIVIDUAL or (
        s.lot_code is not None and scheme.lot(s.lot_code).block_contracts_allowed
    )


def _validate_narrowing(scheme: Scheme, f: FilterCriteria) -> None:
    """Age and distance filters are ad hoc narrowing: only where the regime permits them
    and the scheme published them (never under full PCR 2015, reg 34(21)-(22))."""
    if scheme.may_screen:
        return
    ad_hoc = {
        "filter.min_age": f.min_age,
        "filter.max_age": f.max_age,
        "filter.max_distance_km": f.max_distance_km,
        "filter.origin": f.origin,
    }
    why = (
        f"{scheme.regime} does not allow ad hoc filters"
        if not scheme.regime_rules.may_screen
        else "the scheme did not publish age/distance screening"
    )
    for name, value in ad_hoc.items():
        _require(
            value is None,
            name,
            Rule.FILTER_NOT_PERMITTED,
            f"a call-off may not be narrowed by {name}: {why} "
            f"({scheme.regime_rules.invitation_source})",
        )


def permitted_filter(scheme: Scheme, f: FilterCriteria) -> FilterCriteria:
    """The filter with the ad hoc parts the scheme may not use removed (automatic
    call-offs: the need's age and distance are used only where screening is allowed)."""
    if scheme.may_screen:
        return f
    return replace(f, min_age=None, max_age=None, origin=None, max_distance_km=None)


def _validate_award_criteria_applied(scheme: Scheme, spec: CompetitionSpec) -> None:
    """Every call-off applies the scheme's published award criteria (reg 34(23)-(24),
    reg 76(4)): weights, questions and per-question minimums exactly as published."""
    a = scheme.award_criteria
    published = f"published: quality {a.quality_weight} / price {a.price_weight}"
    for name, mine, theirs in (
        ("quality_weight", spec.quality_weight, a.quality_weight),
        ("price_weight", spec.price_weight, a.price_weight),
    ):
        _require(
            mine == theirs,
            name,
            Rule.AWARD_CRITERIA_MISMATCH,
            f"{name} {mine} differs from the scheme's award criteria ({published}); "
            + AWARD_CRITERIA_SOURCE,
        )
    _require(
        tuple(spec.quality_questions) == tuple(a.quality_questions),
        "quality_questions",
        Rule.AWARD_CRITERIA_MISMATCH,
        "quality questions differ from the scheme's published award criteria ("
        + ", ".join(q.question_id for q in a.quality_questions)
        + "); "
        + AWARD_CRITERIA_SOURCE,
    )


def _validate_spec(scheme: Scheme, spec: CompetitionSpec) -> None:
    _require_text(spec.competition_id, "competition_id")
    _require_text(spec.title, "title")
    _require(spec.scheme_id == scheme.scheme_id, "scheme_id", Rule.MISMATCH, "other scheme")
    category = scheme.category(spec.category_code)
    _require(
        spec.filter.need_type in category.need_types,
        "filter.need_type",
        Rule.FILTER_OUTSIDE_CATEGORY,
        f"{spec.filter.need_type} is not in category {category.code}",
    )
    _require(
        spec.filter.attendance in category.attendance,
        "filter.attendance",
        Rule.FILTER_OUTSIDE_CATEGORY,
        f"{spec.filter.attendance} is not in category {category.code}",
    )
    _validate_filter(spec.filter)
    _validate_narrowing(scheme, spec.filter)
    _validate_weights(spec)
    _validate_award_criteria_applied(scheme, spec)
    if spec.kind is CompetitionKind.BLOCK:
        _require(spec.places >= 1, "places", Rule.OUT_OF_RANGE, "at least one place")
        _require(
            spec.term_start is not None and spec.term_end is not None,
            "term_end",
            Rule.REQUIRED,
            "block contracts need a term",
        )
        assert spec.term_start is not None and spec.term_end is not None
        _require(spec.term_end > spec.term_start, "term_end", Rule.OUT_OF_RANGE, "end after start")
    else:
        _require(spec.places == 1, "places", Rule.OUT_OF_RANGE, "an individual placement is 1")
        _require_text(spec.need_ref, "need_ref")


def _validate_filter(f: FilterCriteria) -> None:
    if f.min_age is not None and f.max_age is not None:
        _require(f.min_age <= f.max_age, "filter.max_age", Rule.OUT_OF_RANGE, "max < min age")
    if f.max_distance_km is not None:
        _require(f.max_distance_km > 0, "filter.max_distance_km", Rule.OUT_OF_RANGE, "> 0")
        _require(f.origin is not None, "filter.origin", Rule.REQUIRED, "distance needs an origin")


def _validate_weights(spec: CompetitionSpec) -> None:
    for name, w in (("quality_weight", spec.quality_weight), ("price_weight", spec.price_weight)):
        _require(0 <= w <= 100, name, Rule.OUT_OF_RANGE, "between 0 and 100")
    _require(
        spec.quality_weight + spec.price_weight == 100,
        "price_weight",
        Rule.WEIGHTS_MUST_SUM_TO_100,
        "quality and price weights must sum to 100",
    )
    _validate_unique([q.question_id for q in spec.quality_questions], "quality_questions")
    for q in spec.quality_questions:
        f = f"quality_questions.{q.question_id}"
        _require(q.max_score > 0, f + ".max_score", Rule.OUT_OF_RANGE, "> 0")
        _require(q.weight > 0, f + ".weight", Rule.OUT_OF_RANGE, "> 0")
    _require(
        spec.quality_weight == 0 or bool(spec.quality_questions),
        "quality_questions",
        Rule.REQUIRED,
        "a quality weight needs quality questions",
    )


def tender_floor_days(scheme: Scheme, urgent_reason: str | None) -> int:
    """Minimum calendar days between invitation and deadline for this call-off."""
    if urgent_reason and scheme.regime_rules.urgent_shortening_allowed:
        return scheme.urgent_min_tender_days
    return scheme.tender_days_floor


def _validate_deadline(
    scheme: Scheme, deadline_at: datetime, urgent_reason: str | None, now: datetime
) -> None:
    _require(deadline_at > now, "deadline_at", Rule.DEADLINE_IN_PAST, "deadline is in the past")
    floor = tender_floor_days(scheme, urgent_reason)
    regime = scheme.regime_rules
    shortening = " (urgent shortening is not allowed)" if urgent_reason else ""
    if urgent_reason and regime.urgent_shortening_allowed:
        shortening = " (urgent)"
    _require(
        deadline_at - now >= timedelta(days=floor),
        "deadline_at",
        Rule.TENDER_PERIOD_TOO_SHORT,
        f"at least {floor} calendar days{shortening}; {regime.tender_period_source}",
    )
    _require(
        london_date(deadline_at) <= scheme.last_usable_day,
        "deadline_at",
        Rule.DEADLINE_AFTER_TERM,
        "call-offs must close within the scheme's term (and before any long-stop)",
    )


def open_competition(
    scheme: Scheme,
    spec: CompetitionSpec,
    *,
    deadline_at: datetime,
    memberships: Iterable[Membership],
    providers: Mapping[str, ProviderSnapshot],
    documents: Mapping[str, Sequence[ComplianceDocument]],
    now: datetime,
    urgent_reason: str | None = None,
) -> Competition:
    """Open a call-off and invite every eligible member of the first tier that has any.

    The tender period must be at least the scheme's minimum (10 calendar days by
    default, never below the regime's statutory minimum); an urgent placement may go
    down to ``scheme.urgent_min_tender_days`` only where the regime allows and only
    with a reason. If nobody is eligible the competition is recorded with status
    ``no_eligible_members`` (publish the alert) instead of opening.
    """
    today = _today(now)
    _require_accepts_call_offs(scheme, today)
    _validate_spec(scheme, spec)
    urgent = urgent_reason.strip() if urgent_reason and urgent_reason.strip() else None
    _validate_deadline(scheme, deadline_at, urgent, now)
    plan = plan_invitations(
        scheme, spec, memberships=memberships, providers=providers, documents=documents, today=today
    )
    status = CompetitionStatus.NO_ELIGIBLE_MEMBERS if plan.empty else CompetitionStatus.OPEN
    invitations = tuple(
        Invitation(pid, plan.lot_code, 1, now, InvitationReason.INITIAL) for pid in plan.invitees
    )
    return Competition(
        spec=spec,
        status=status,
        round=1,
        current_lot=plan.lot_code,
        opened_at=now,
        deadline_at=deadline_at,
        urgent_reason=urgent,
        invitations=invitations,
        screenings=plan.screenings,
        tier_steps=plan.tier_steps,
    )


@dataclass(frozen=True, slots=True)
class LateJoinerDecision:
    """Whether a newly admitted member was added to a running call-off, and why."""

    competition: Competition
    invitation: Invitation | None
    reason: str


def invite_late_joiner(
    competition: Competition,
    scheme: Scheme,
    *,
    membership: Membership,
    provider: ProviderSnapshot | None,
    documents: Iterable[ComplianceDocument],
    now: datetime,
) -> LateJoinerDecision:
    """Invite a member admitted while the call-off is open, if it can still bid fairly.

    Invited when: same category, passes the filter and documents, its lot is the tier
    now consulted or a higher one, and at least ``scheme.late_joiner_days`` calendar
    days remain (default half the minimum tender period, rounded up: 5 of 10), so that
    everyone bids to the same deadline and no one is invited to a race they cannot run.
    """
    c = competition

    def no(reason: str) -> LateJoinerDecision:
        return LateJoinerDecision(c, None, reason)

    if c.status is not CompetitionStatus.OPEN:
        return no(f"competition is {c.status}")
    if membership.category_code != c.spec.category_code:
        return no("member is not in the competition's category")
    if c.invited(membership.provider_id):
        return no("already invited")
    if now >= c.deadline_at:
        return no("deadline has passed")
    if c.deadline_at - now < timedelta(days=scheme.late_joiner_days):
        return no(f"fewer than {scheme.late_joiner_days} days left to bid")
    if not _lot_at_or_above(scheme, membership.lot_code, c.current_lot):
        return no(f"lot {membership.lot_code} is below the tier consulted ({c.current_lot})")
    screening = screen_member(scheme, c.spec, membership, provider, documents, _today(now), c.round)
    if not screening.eligible:
        return no("; ".join(screening.reasons))
    invitation = Invitation(
        membership.provider_id, membership.lot_code, c.round, now, InvitationReason.LATE_JOINER
    )
    updated = replace(
        c, invitations=(*c.invitations, invitation), screenings=(*c.screenings, screening)
    )
    return LateJoinerDecision(updated, invitation, "invited as a late joiner")


def _lot_at_or_above(scheme: Scheme, lot_code: str | None, current: str | None) -> bool:
    if current is None:  # untiered, or every lot at once (full PCR): any lot
        return True
    if lot_code is None:
        return False
    return scheme.lot(lot_code).min_quality_score >= scheme.lot(current).min_quality_score


def close_competition(competition: Competition, now: datetime) -> Competition:
    """Close bidding once the deadline has passed (never early: equal treatment)."""
    _require_status(competition, CompetitionStatus.OPEN)
    _require(
        now >= competition.deadline_at,
        "deadline_at",
        Rule.DEADLINE_NOT_REACHED,
        "bidding is open until the deadline",
    )
    return replace(competition, status=CompetitionStatus.CLOSED, closed_at=now)


def _require_status(c: Competition, *allowed: CompetitionStatus) -> None:
    _require(
        c.status in allowed,
        "status",
        Rule.COMPETITION_NOT_OPEN if CompetitionStatus.OPEN in allowed else Rule.INVALID_TRANSITION,
        f"competition is {c.status}",
    )


def next_lower_lot(scheme: Scheme, competition: Competition) -> str | None:
    """The next tier below the one consulted that could take this call-off, if any."""
    if competition.current_lot is None:
        return None
    for lot in _lots_below(scheme, competition.current_lot):
        if competition.spec.kind is CompetitionKind.INDIVIDUAL or lot.block_contracts_allowed:
            return lot.code
    return None


def reopen_next_tier(
    competition: Competition,
    scheme: Scheme,
    *,
    reason: str,
    deadline_at: datetime,
    memberships: Iterable[Membership],
    providers: Mapping[str, ProviderSnapshot],
    documents: Mapping[str, Sequence[ComplianceDocument]],
    now: datetime,
    urgent_reason: str | None = None,
) -> Competition:
    """After "no suitable bid", invite the next lower tier in a new round (new deadline).

    Refused when there is no lower tier (escalate instead). If the lower tiers have no
    eligible member the competition ends as ``no_eligible_members``.
    """
    c = competition
    _require_status(c, CompetitionStatus.NO_SUITABLE_BID)
    reason = _require_text(reason, "reason")
    _require(
        next_lower_lot(scheme, c) is not None,
        "current_lot",
        Rule.NO_LOWER_TIER,
        "no lower tier to consult; escalate",
    )
    _require_accepts_call_offs(scheme, _today(now))
    urgent = urgent_reason.strip() if urgent_reason and urgent_reason.strip() else None
    _validate_deadline(scheme, deadline_at, urgent, now)
    new_round = c.round + 1
    plan = plan_invitations(
        scheme,
        c.spec,
        memberships=memberships,
        providers=providers,
        documents=documents,
        today=_today(now),
        round=new_round,
        below_lot=c.current_lot,
    )
    why = TierStep(new_round, c.current_lot, False, reason)
    invitations = tuple(
        Invitation(pid, plan.lot_code, new_round, now, InvitationReason.NEXT_TIER)
        for pid in plan.invitees
    )
    return replace(
        c,
        status=CompetitionStatus.NO_ELIGIBLE_MEMBERS if plan.empty else CompetitionStatus.OPEN,
        round=new_round,
        current_lot=plan.lot_code if not plan.empty else c.current_lot,
        deadline_at=deadline_at,
        urgent_reason=urgent,
        invitations=c.invitations + invitations,
        screenings=c.screenings + plan.screenings,
        tier_steps=(*c.tier_steps, why, *plan.tier_steps),
        closed_at=None,
    )


# -------------------------------------------------------------------------- bids


class FeeBasis(StrEnum):
    """The core fee is quoted per week or per year."""

    WEEKLY = "weekly"
    ANNUAL = "annual"


class ChargeBasis(StrEnum):
    """How an additional support item is charged."""

    WEEKLY = "weekly"
    ANNUAL = "annual"
    ONE_OFF = "one_off"


@dataclass(frozen=True, slots=True)
class SupportItem:
    """One itemised additional support cost (e.g. 1:1 support, speech therapy)."""

    description: str
    amount: Decimal
    basis: ChargeBasis

    def first_year_cost(self, weeks_per_year: int) -> Decimal:
        if self.basis is ChargeBasis.WEEKLY:
            return self.amount * weeks_per_year
        return self.amount


@dataclass(frozen=True, slots=True)
class BidOffer:
    """A provider's commercial and quality offer, per place."""

    provider_id: str
    fee_basis: FeeBasis
    core_fee: Decimal
    weeks_per_year: int
    start_date: date
    answers: Mapping[str, str]
    additional_support: tuple[SupportItem, ...] = ()

    @property
    def annual_core_fee(self) -> Decimal:
        if self.fee_basis is FeeBasis.ANNUAL:
            return self.core_fee
        return self.core_fee * self.weeks_per_year

    @property
    def weekly_core_fee(self) -> Decimal:
        """Core fee per week (annual fee / weeks per year, to the penny)."""
        if self.fee_basis is FeeBasis.WEEKLY:
            return self.core_fee
        return _round2(self.core_fee / self.weeks_per_year)

    @property
    def annual_support_cost(self) -> Decimal:
        return sum(
            (item.first_year_cost(self.weeks_per_year) for item in self.additional_support),
            Decimal(0),
        )

    @property
    def annual_cost(self) -> Decimal:
        """First-year cost per place: the price that is evaluated."""
        return self.annual_core_fee + self.annual_support_cost


@dataclass(frozen=True, slots=True)
class Bid:
    """A received bid; the latest version per provider is the live one."""

    bid_id: str
    competition_id: str
    round: int
    offer: BidOffer
    submitted_at: datetime
    version: int = 1
    replaces_bid_id: str | None = None

    @property
    def provider_id(self) -> str:
        return self.offer.provider_id


@dataclass(frozen=True, slots=True)
class BidReceipt:
    """The accepted bid and the earlier bid it replaces, if any."""

    bid: Bid
    superseded: Bid | None


def _is_money(x: Decimal) -> bool:
    return x.is_finite() and x == x.quantize(_HUNDREDTH)


def _validate_offer(c: Competition, offer: BidOffer, today: date) -> None:
    def malformed(ok: bool, f: str, message: str) -> None:
        _require(ok, f, Rule.BID_MALFORMED, message)

    malformed(_is_money(offer.core_fee) and offer.core_fee > 0, "core_fee", "pounds and pence > 0")
    malformed(1 <= offer.weeks_per_year <= 52, "weeks_per_year", "between 1 and 52")
    _require_contractable_weeks(c, offer.weeks_per_year)
    malformed(offer.start_date >= today, "start_date", "start date is in the past")
    for i, item in enumerate(offer.additional_support):
        f = f"additional_support.{i}"
        malformed(bool(item.description.strip()), f + ".description", "description needed")
        malformed(_is_money(item.amount) and item.amount >= 0, f + ".amount", "pounds and pence")
    expected = {q.question_id for q in c.spec.quality_questions}
    for qid in offer.answers:
        malformed(qid in expected, f"answers.{qid}", "no such quality question")
    for qid in sorted(expected):
        malformed(bool((offer.answers.get(qid) or "").strip()), f"answers.{qid}", "answer needed")


def _require_contractable_weeks(c: Competition, weeks: int) -> None:
    """Only weeks placements can contract (38 or 52, and residential's own), so that an
    award is never refused by placements after it was made (shared contract constants)."""
    allowed = " or ".join(str(w) for w in CONTRACTABLE_WEEKS_PER_YEAR)
    _require(
        weeks in CONTRACTABLE_WEEKS_PER_YEAR,
        "weeks_per_year",
        Rule.WEEKS_NOT_CONTRACTABLE,
        f"weeks per year must be {allowed}: placement contracts run 38 or 52 weeks a year",
    )
    required = WEEKS_PER_YEAR_FOR_ATTENDANCE.get(c.spec.filter.attendance.value)
    _require(
        required is None or weeks == required,
        "weeks_per_year",
        Rule.WEEKS_NOT_CONTRACTABLE,
        f"{c.spec.filter.attendance.value} places are {required} weeks a year",
    )


def submit_bid(
    competition: Competition,
    offer: BidOffer,
    *,
    bid_id: str,
    membership: Membership | None,
    live_bids: Iterable[Bid] = (),
    now: datetime,
    earlier_versions: int = 0,
) -> BidReceipt:
    """Accept a bid from an invited, active member before the deadline.

    Refused (with the reason) when the call-off is not open, the bid is late, the
    provider was not invited to this round, its membership is not active, or the
    offer is malformed. A resubmission replaces the provider's live bid.
    """
    c = competition
    pid = offer.provider_id
    _require_text(bid_id, "bid_id")
    _require_status(c, CompetitionStatus.OPEN)
    _require(now < c.deadline_at, "submitted_at", Rule.BID_LATE, "the deadline has passed")
    _require(c.invited(pid), "provider_id", Rule.NOT_INVITED, "not invited to this call-off")
    _require(
        membership is not None
        and membership.provider_id == pid
        and membership.category_code == c.spec.category_code,
        "provider_id",
        Rule.MEMBER_NOT_ACTIVE,
        "not a member of the category",
    )
    assert membership is not None
    _require(
        membership.status is MembershipStatus.ACTIVE,
        "provider_id",
        Rule.MEMBER_NOT_ACTIVE,
        f"membership is {membership.status}",
    )
    _validate_offer(c, offer, _today(now))
    previous = _live_bid_of(live_bids, c, pid)
    bid = Bid(
        bid_id=bid_id,
        competition_id=c.competition_id,
        round=c.round,
        offer=offer,
        submitted_at=now,
        # After a withdrawal there is no live bid, but the version still counts on.
        version=max(previous.version if previous else 0, earlier_versions) + 1,
        replaces_bid_id=previous.bid_id if previous else None,
    )
    return BidReceipt(bid, previous)


def _live_bid_of(bids: Iterable[Bid], c: Competition, provider_id: str) -> Bid | None:
    mine = [
        b
        for b in bids
        if b.provider_id == provider_id
        and b.competition_id == c.competition_id
        and b.round == c.round
    ]
    return max(mine, key=lambda b: b.version) if mine else None


# ------------------------------------------------------------- bid withdrawal

# Choice, not statute: PCR 2015 has no rule on withdrawing a call-off tender. A bid may
# be revised until the deadline (submit_bid), so it may be withdrawn until then too;
# from the deadline every bid is fixed, because a bidder who could withdraw after the
# deadline could act on what it learns of the field (equal treatment, PCR 2015 reg 18;
# Procurement Act 2023 s.12). A withdrawn bid is kept (superseded) but never evaluated.
WITHDRAWAL_SOURCE = (
    "Call-off terms under PCR 2015 reg 18 (equal treatment; Procurement Act 2023 s.12): a "
    "bid may be withdrawn until the tender deadline, not after; a withdrawn bid is not "
    "evaluated and the provider may bid again before the deadline"
)


def withdraw_bid(competition: Competition, live: Bid | None, *, now: datetime) -> Bid:
    """The live bid to withdraw, refused from the deadline on (409, naming the rule) or
    when the provider has no live bid in the current round."""
    c = competition
    _require(
        now < c.deadline_at,
        "deadline_at",
        Rule.WITHDRAWAL_AFTER_DEADLINE,
        f"the deadline has passed: {WITHDRAWAL_SOURCE}",
    )
    _require_status(c, CompetitionStatus.OPEN)
    _require(
        live is not None and live.competition_id == c.competition_id and live.round == c.round,
        "bid",
        Rule.NO_LIVE_BID,
        "no live bid of yours in this round to withdraw",
    )
    assert live is not None
    return live


# ------------------------------------------------------ clarification questions

# Questions close a set time before the tender deadline so that every answer reaches
# every invited provider in time to use it. PCR 2015 reg 53(2) (open and restricted
# procedures) requires additional information at least 6 days before the deadline; a
# call-off's tender period may be far shorter (10 days, or less for urgent light-touch
# call-offs), so the scheme's rules set 2 days: the choice made here.
CLARIFICATION_CLOSE_BEFORE_DEADLINE = timedelta(days=2)
CLARIFICATION_SOURCE = (
    "Choice made under PCR 2015 reg 18 (equal treatment; Procurement Act 2023 s.12) by "
    "analogy with reg 53(2): questions close 2 days before the tender deadline; every "
    "answer goes to every invited provider without naming who asked"
)
QUESTION_MAX = 2000
ANSWER_MAX = 5000


@dataclass(frozen=True, slots=True)
class Clarification:
    """A provider's question on a call-off and, once published, the answer everyone sees."""

    clarification_id: str
    competition_id: str
    round: int
    asked_by: str  # the provider: known to the council, never shown to other bidders
    question: str
    asked_at: datetime
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None


def clarifications_close_at(deadline_at: datetime) -> datetime:
    """When questions close (exclusive) for a call-off with this tender deadline."""
    return deadline_at - CLARIFICATION_CLOSE_BEFORE_DEADLINE


def _bounded_text(value: str, field: str, limit: int) -> str:
    text = _require_text(value, field)
    _require(len(text) <= limit, field, Rule.OUT_OF_RANGE, f"at most {limit} characters")
    return text


def ask_clarification(
    competition: Competition,
    *,
    clarification_id: str,
    provider_id: str,
    question: str,
    now: datetime,
) -> Clarification:
    """An invited provider's question, before questions close."""
    c = competition
    text = _bounded_text(question, "question", QUESTION_MAX)
    _require_status(c, CompetitionStatus.OPEN)
    _require(c.invited(provider_id), "provider_id", Rule.NOT_INVITED, "not invited")
    closes = clarifications_close_at(c.deadline_at)
    _require(
        now < closes,
        "question",
        Rule.CLARIFICATIONS_CLOSED,
        f"questions closed at {closes.isoformat()}: {CLARIFICATION_SOURCE}",
    )
    return Clarification(clarification_id, c.competition_id, c.round, provider_id, text, now)


def answer_clarification(
    competition: Competition, q: Clarification, *, answer: str, by: str, now: datetime
) -> Clarification:
    """Publish the answer to every invited provider, once, before the tender deadline
    (after it, no bidder could use it)."""
    text = _bounded_text(answer, "answer", ANSWER_MAX)
    _require(
        q.answer is None,
        "answer",
        Rule.CLARIFICATION_ALREADY_ANSWERED,
        f"answered on {q.answered_at.isoformat() if q.answered_at else ''}",
    )
    _require(
        now < competition.deadline_at and competition.status is CompetitionStatus.OPEN,
        "answer",
        Rule.ANSWER_AFTER_DEADLINE,
        "the tender deadline has passed: an answer now would reach no bidder in time",
    )
    return replace(q, answer=text, answered_by=by, answered_at=now)


# -------------------------------------------------- application drafts (issue 15)

# A draft is the provider's unfinished form, kept so that it can come back to it. It is
# not a request to participate: it is not evaluated and starts no clock. The 10 working
# days of PCR 2015 reg 34(15) run from receipt of a request to participate, i.e. from
# the submission (submit_application), never from a saved draft.
DRAFT_SOURCE = (
    "PCR 2015 reg 34(15): the evaluation period runs from receipt of a request to "
    "participate; a saved draft is not one, so it is not evaluated and starts no clock"
)
DRAFT_MAX_CATEGORIES = 100
DRAFT_MAX_ANSWERS = 100
DRAFT_ANSWER_MAX = 5000  # the same cap as the portal's answer box
DRAFT_KEY_MAX = 50


@dataclass(frozen=True, slots=True)
class ApplicationDraft:
    """What a provider has typed so far, as given (checked for size and shape only)."""

    scheme_id: str
    provider_id: str
    requested_categories: tuple[str, ...]
    answers: Mapping[str, str]
    saved_at: datetime


def save_draft(
    scheme: Scheme,
    *,
    provider_id: str,
    requested_categories: Sequence[str],
    answers: Mapping[str, str],
    now: datetime,
) -> ApplicationDraft:
    """Keep an unfinished application: sizes are bounded, completeness is not required
    (it is checked on submission). Only a scheme taking applications takes drafts."""
    _require_accepts_applications(scheme, _today(now))
    cats = tuple(dict.fromkeys(requested_categories))
    _require(
        len(cats) <= DRAFT_MAX_CATEGORIES,
        "requested_categories",
        Rule.OUT_OF_RANGE,
        f"at most {DRAFT_MAX_CATEGORIES}",
    )
    for code in cats:
        _require(
            0 < len(code) <= DRAFT_KEY_MAX,
            "requested_categories",
            Rule.OUT_OF_RANGE,
            f"each code 1 to {DRAFT_KEY_MAX} characters",
        )
    _require(
        len(answers) <= DRAFT_MAX_ANSWERS,
        "answers",
        Rule.OUT_OF_RANGE,
        f"at most {DRAFT_MAX_ANSWERS}",
    )
    for qid, text in answers.items():
        _require(
            0 < len(qid) <= DRAFT_KEY_MAX,
            "answers",
            Rule.OUT_OF_RANGE,
            f"each question id 1 to {DRAFT_KEY_MAX} characters",
        )
        _require(
            len(text) <= DRAFT_ANSWER_MAX,
            f"answers.{qid}",
            Rule.OUT_OF_RANGE,
            f"at most {DRAFT_ANSWER_MAX} characters",
        )
    return ApplicationDraft(scheme.scheme_id, provider_id, cats, dict(answers), now)


# ------------------------------------ clarification requests on an application

# During evaluation the council may ask an applicant to clarify or supplement what it
# submitted. The request does not stop the evaluation clock: reg 34(15) has no pause, so
# a commissioner who needs more time uses the one justified extension to 15 working days
# (extend_evaluation, reg 34(16)), with its reason, as before.
APPLICATION_CLARIFICATION_SOURCE = (
    "PCR 2015 reg 56(4): the authority may request the economic operator to submit, "
    "supplement, clarify or complete information, in compliance with equal treatment and "
    "transparency. It does not stop the reg 34(15) clock; the reg 34(16) extension remains"
)
CLARIFICATION_REQUEST_MAX = 2000
CLARIFICATION_REPLY_MAX = 5000


@dataclass(frozen=True, slots=True)
class ApplicationClarification:
    """The council's request to an applicant and, once given, the applicant's reply."""

    request_id: str
    application_id: str
    provider_id: str
    question: str
    reply_by_on: date  # the last London day on which the reply is in time
    asked_by: str
    asked_at: datetime
    answer: str | None = None
    answered_at: datetime | None = None

    @property
    def reply_by(self) -> datetime:
        """Exclusive deadline instant (end of ``reply_by_on``, Europe/London)."""
        return end_of_day(self.reply_by_on)


def request_application_clarification(
    application: Application,
    *,
    request_id: str,
    question: str,
    reply_by_on: date,
    by: str,
    now: datetime,
) -> ApplicationClarification:
    """Ask the applicant to clarify or supplement, while the application awaits decision."""
    text = _bounded_text(question, "question", CLARIFICATION_REQUEST_MAX)
    _require(not application.decided, "application_id", Rule.ALREADY_DECIDED, "decided")
    _require(reply_by_on >= london_date(now), "reply_by_on", Rule.OUT_OF_RANGE, "today or later")
    return ApplicationClarification(
        request_id, application.application_id, application.provider_id, text, reply_by_on, by, now
    )


def answer_application_clarification(
    c: ApplicationClarification, *, answer: str, now: datetime
) -> ApplicationClarification:
    """The applicant's reply, once, before the reply-by time (later: 409)."""
    text = _bounded_text(answer, "answer", CLARIFICATION_REPLY_MAX)
    _require(
        c.answer is None,
        "answer",
        Rule.APPLICATION_CLARIFICATION_ANSWERED,
        "this request was already answered",
    )
    _require(
        now < c.reply_by,
        "answer",
        Rule.REPLY_BY_PASSED,
        f"the reply-by date {c.reply_by_on.isoformat()} has passed",
    )
    return replace(c, answer=text, answered_at=now)


# -------------------------------------------------------------------- evaluation

TIE_BREAK_RULE = (
    "Ranked by total score (2 d.p.), highest first; ties go to the higher quality score, "
    "then the lower evaluated price (first-year cost per place), then the earlier "
    "submission, then the provider id (alphabetical) so that the order is always total."
)


@dataclass(frozen=True, slots=True)
class BidAssessment:
    """Evaluators' moderated scores for one bid, or why it is not compliant."""

    bid_id: str
    scores: Mapping[str, Decimal] = field(default_factory=dict)
    compliant: bool = True
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class BidScore:
    """One compliant bid's explainable result."""

    rank: int
    bid_id: str
    provider_id: str
    price: Decimal  # first-year cost per place
    price_score: Decimal  # out of the price weight
    quality_score: Decimal  # out of the quality weight
    total: Decimal
    question_scores: Mapping[str, Decimal]
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class NonCompliantBid:
    """A bid set aside before scoring, with the reason given to the provider."""

    bid_id: str
    provider_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """Ranked compliant bids plus those set aside; empty ranking = no suitable bid."""

    competition_id: str
    round: int
    quality_weight: int
    price_weight: int
    lowest_price: Decimal | None
    ranking: tuple[BidScore, ...]
    non_compliant: tuple[NonCompliantBid, ...]
    tie_break_rule: str = TIE_BREAK_RULE

    @property
    def no_suitable_bid(self) -> bool:
        return not self.ranking

    @property
    def winner(self) -> BidScore | None:
        return self.ranking[0] if self.ranking else None


def price_score(lowest: Decimal, price: Decimal, weight: int) -> Decimal:
    """lowest / price x weight, to 2 d.p.: the cheapest compliant bid gets the full weight."""
    return _round2(lowest / price * weight)


def quality_score(
    questions: Sequence[QualityQuestion], scores: Mapping[str, Decimal], weight: int
) -> Decimal:
    """Weighted evaluator scores scaled to the quality weight, to 2 d.p."""
    total_weight = sum(q.weight for q in questions)
    if weight == 0 or total_weight == 0:
        return _round2(Decimal(0))
    earned = sum(
        (Decimal(scores[q.question_id]) / q.max_score * q.weight for q in questions), Decimal(0)
    )
    return _round2(earned / total_weight * weight)


def _validate_bid_assessment(c: Competition, bid: Bid, a: BidAssessment | None) -> None:
    f = f"assessments.{bid.bid_id}"
    _require(a is not None, f, Rule.ASSESSMENT_MISSING, "bid not assessed")
    assert a is not None
    if not a.compliant:
        _require_text(a.reason, f + ".reason")
        return
    for q in c.spec.quality_questions:
        s = a.scores.get(q.question_id)
        _require(s is not None, f"{f}.{q.question_id}", Rule.ASSESSMENT_MISSING, "score needed")
        assert s is not None
        _require(0 <= s <= q.max_score, f"{f}.{q.question_id}", Rule.OUT_OF_RANGE, "out of range")


def score_bids(
    competition: Competition, bids: Sequence[Bid], assessments: Mapping[str, BidAssessment]
) -> EvaluationResult:
    """Score and rank the live bids of the current round (O(n log n), pure).

    Price score = lowest compliant price / this price x price weight; quality score =
    weighted evaluator scores x quality weight; total = both. See :data:`TIE_BREAK_RULE`.
    """
    c = competition
    current = [b for b in bids if b.competition_id == c.competition_id and b.round == c.round]
    providers = [b.provider_id for b in current]
    _require(len(set(providers)) == len(providers), "bids", Rule.DUPLICATE, "one live bid each")
    for b in current:
        _validate_bid_assessment(c, b, assessments.get(b.bid_id))
    compliant = [b for b in current if assessments[b.bid_id].compliant]
    set_aside = tuple(
        NonCompliantBid(b.bid_id, b.provider_id, assessments[b.bid_id].reason or "")
        for b in sorted(current, key=lambda b: b.provider_id)
        if not assessments[b.bid_id].compliant
    )
    lowest = min((b.offer.annual_cost for b in compliant), default=None)
    unranked = [_score_one(c, b, assessments[b.bid_id], lowest) for b in compliant]
    unranked.sort(key=_rank_key)
    ranking = tuple(replace(s, rank=i) for i, s in enumerate(unranked, start=1))
    return EvaluationResult(
        competition_id=c.competition_id,
        round=c.round,
        quality_weight=c.spec.quality_weight,
        price_weight=c.spec.price_weight,
        lowest_price=lowest,
        ranking=ranking,
        non_compliant=set_aside,
    )


def _score_one(c: Competition, bid: Bid, a: BidAssessment, lowest: Decimal | None) -> BidScore:
    assert lowest is not None
    price = bid.offer.annual_cost
    p = price_score(lowest, price, c.spec.price_weight)
    q = quality_score(c.spec.quality_questions, a.scores, c.spec.quality_weight)
    return BidScore(
        rank=0,
        bid_id=bid.bid_id,
        provider_id=bid.provider_id,
        price=price,
        price_score=p,
        quality_score=q,
        total=p + q,
        question_scores={
            qq.question_id: Decimal(a.scores[qq.question_id]) for qq in c.spec.quality_questions
        },
        submitted_at=bid.submitted_at,
    )


def _rank_key(s: BidScore) -> tuple[Decimal, Decimal, Decimal, datetime, str, str]:
    return (-s.total, -s.quality_score, s.price, s.submitted_at, s.provider_id, s.bid_id)


def evaluate_competition(
    competition: Competition,
    bids: Sequence[Bid],
    assessments: Mapping[str, BidAssessment],
) -> tuple[Competition, EvaluationResult]:
    """Score a closed call-off (or one in evaluation); it becomes ``evaluated``."""
    _require_status(competition, CompetitionStatus.CLOSED, CompetitionStatus.EVALUATION)
    result = score_bids(competition, bids, assessments)
    return replace(competition, status=CompetitionStatus.EVALUATED), result


# ----------------------------------------------------------- evaluator scoring


def needs_evaluator_scores(competition: Competition, compliant_bids: int) -> bool:
    """Whether a closed call-off waits for evaluators: it has quality questions and at
    least one compliant bid. Otherwise (price only, or nothing to score) it is
    evaluated automatically at the deadline."""
    return bool(competition.spec.quality_questions) and compliant_bids > 0


def start_evaluation(competition: Competition) -> Competition:
    """A closed call-off waits in ``evaluation`` for the evaluators' quality scores."""
    _require_status(competition, CompetitionStatus.CLOSED)
    return replace(competition, status=CompetitionStatus.EVALUATION)


@dataclass(frozen=True, slots=True)
class EvaluatorScores:
    """One evaluator's quality scores for one bid, per quality question."""

    bid_id: str
    evaluator: str
    scores: Mapping[str, Decimal]
    scored_at: datetime
    comment: str | None = None


def record_evaluator_scores(
    competition: Competition,
    bid: Bid | None,
    *,
    set_aside: Mapping[str, str],
    evaluator: str,
    scores: Mapping[str, Decimal],
    comment: str | None = None,
    now: datetime,
) -> EvaluatorScores:
    """Record an evaluator's scores for a live, compliant bid of the current round.

    Refused when the call-off is not in evaluation, the bid is unknown, superseded, of
    another round or set aside as non-compliant (``set_aside``: bid id -> reason), or
    when a question is unscored, unknown, out of 0..max_score or finer than 2 d.p. An
    evaluator who scores the same bid again replaces their earlier scores.
    """
    c = competition
    _require_status(c, CompetitionStatus.EVALUATION)
    evaluator = _require_text(evaluator, "evaluator")
    _require(
        bid is not None and bid.competition_id == c.competition_id and bid.round == c.round,
        "bid_id",
        Rule.UNKNOWN,
        "not a live bid of this round",
    )
    assert bid is not None
    reason = set_aside.get(bid.bid_id)
    _require(reason is None, "bid_id", Rule.BID_SET_ASIDE, f"bid set aside: {reason}")
    known = {q.question_id for q in c.spec.quality_questions}
    unknown = sorted(set(scores) - known)
    _require(
        not unknown, f"scores.{unknown[0] if unknown else ''}", Rule.UNKNOWN, "no such question"
    )
    clean: dict[str, Decimal] = {}
    for q in c.spec.quality_questions:
        f = f"scores.{q.question_id}"
        value = scores.get(q.question_id)
        _require(value is not None, f, Rule.ASSESSMENT_MISSING, "score needed")
        assert value is not None
        v = Decimal(value)
        _require(v.is_finite() and 0 <= v <= q.max_score, f, Rule.OUT_OF_RANGE, f"0..{q.max_score}")
        _require(v == _round2(v), f, Rule.OUT_OF_RANGE, "at most 2 decimal places")
        clean[q.question_id] = v
    return EvaluatorScores(bid.bid_id, evaluator, clean, now, (comment or "").strip() or None)


def moderated_scores(
    questions: Sequence[QualityQuestion], entries: Iterable[EvaluatorScores]
) -> dict[str, dict[str, Decimal]]:
    """Per bid, per question: the mean of each evaluator's latest scores, to 2 d.p."""
    latest: dict[tuple[str, str], EvaluatorScores] = {}
    for e in entries:
        key = (e.bid_id, e.evaluator)
        if key not in latest or e.scored_at >= latest[key].scored_at:
            latest[key] = e
    per_bid: dict[str, list[EvaluatorScores]] = {}
    for (bid_id, _), e in sorted(latest.items()):
        per_bid.setdefault(bid_id, []).append(e)
    return {
        bid_id: {
            q.question_id: _round2(
                sum((Decimal(e.scores[q.question_id]) for e in es), Decimal(0)) / len(es)
            )
            for q in questions
        }
        for bid_id, es in per_bid.items()
    }


def evaluator_assessments(
    competition: Competition,
    bids: Sequence[Bid],
    set_aside: Mapping[str, str],
    entries: Iterable[EvaluatorScores],
) -> dict[str, BidAssessment]:
    """Assessments from the evaluators' moderated scores; set-aside bids keep their reason.

    Refused (``assessment_missing``, naming the bids) while a compliant bid is unscored.
    """
    c = competition
    moderated = moderated_scores(c.spec.quality_questions, entries)
    out: dict[str, BidAssessment] = {}
    unscored: list[str] = []
    for b in bids:
        if b.bid_id in set_aside:
            out[b.bid_id] = BidAssessment(b.bid_id, compliant=False, reason=set_aside[b.bid_id])
        elif c.spec.quality_questions and b.bid_id not in moderated:
            unscored.append(f"{b.bid_id} ({b.provider_id})")
        elif below := _below_minimums(c.spec.quality_questions, moderated.get(b.bid_id, {})):
            out[b.bid_id] = BidAssessment(b.bid_id, compliant=False, reason=below)
        else:
            out[b.bid_id] = BidAssessment(b.bid_id, scores=moderated.get(b.bid_id, {}))
    _require(
        not unscored,
        "scores",
        Rule.ASSESSMENT_MISSING,
        "no evaluator has scored bid(s) " + ", ".join(unscored),
    )
    return out


def _below_minimums(questions: Sequence[QualityQuestion], scores: Mapping[str, Decimal]) -> str:
    """Why the moderated scores miss the published per-question minimums ("" if none)."""
    misses = [
        f"{q.question_id} scored {scores[q.question_id]}, below the published minimum {q.min_score}"
        for q in questions
        if q.min_score is not None and scores.get(q.question_id, Decimal(0)) < q.min_score
    ]
    return "; ".join(misses) + (f" ({AWARD_CRITERIA_SOURCE})" if misses else "")


# ------------------------------------------------------------- award and notices


class NextAction(StrEnum):
    """After no suitable bid: consult the next lower tier, or escalate to a manager."""

    REOPEN_LOWER_TIER = "reopen_lower_tier"
    ESCALATE = "escalate"


@dataclass(frozen=True, slots=True)
class NoSuitableBid:
    """The recorded "no suitable bid" outcome of a round."""

    competition_id: str
    round: int
    lot_code: str | None
    reason: str
    next_action: NextAction
    next_lot_code: str | None
    declared_by: str
    declared_at: datetime


@dataclass(frozen=True, slots=True)
class Award:
    """An approved award with the winning bid's commercial terms."""

    competition_id: str
    scheme_id: str
    round: int
    kind: CompetitionKind
    category_code: str
    lot_code: str | None
    bid_id: str
    provider_id: str
    places: int
    need_ref: str | None
    fee_basis: FeeBasis
    core_fee: Decimal
    weekly_core_fee: Decimal
    weeks_per_year: int
    additional_support: tuple[SupportItem, ...]
    start_date: date
    end_date: date | None
    annual_value: Decimal  # first-year cost per place x places (the evaluated price)
    contract_value: Decimal  # estimated value over the whole term (see contract_value)
    price_score: Decimal
    quality_score: Decimal
    total_score: Decimal
    approved_by: str
    approved_at: datetime
    standstill_ends_at: datetime | None
    notice_due_on: date
    standstill_reason: str = ""
    # "Awarded, in standstill": no contract exists until standstill ends.
    contract_awaits_standstill: bool = False

    @property
    def awarded_on(self) -> date:
        return london_date(self.approved_at)


# ----------------------------------------------------------------- value and term


def add_years(d: date, years: int) -> date:
    """The same day ``years`` later (29 February becomes 28 February)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def contract_term(spec: CompetitionSpec, start_date: date) -> tuple[date, date]:
    """First and last day of the contract: a block's stated term; an individual placement
    runs DEFAULT_INDIVIDUAL_TERM_YEARS from its start (the term placements contracts)."""
    if spec.kind is CompetitionKind.BLOCK and spec.term_start and spec.term_end:
        return spec.term_start, spec.term_end
    end = add_years(start_date, DEFAULT_INDIVIDUAL_TERM_YEARS) - timedelta(days=1)
    return start_date, end


def term_years(first_day: date, last_day: date) -> Decimal:
    """Length of a term in years: whole anniversaries plus the remaining days / 365."""
    after = last_day + timedelta(days=1)
    whole = 0
    while add_years(first_day, whole + 1) <= after:
        whole += 1
    rest = (after - add_years(first_day, whole)).days
    return Decimal(whole) + Decimal(rest) / Decimal(365)


def contract_value(offer: BidOffer, places: int, first_day: date, last_day: date) -> Decimal:
    """Estimated value over the whole term (reg 6: the total amount payable): recurring
    fees and support (weekly x weeks, annual) x years, plus one-off support once, x places.
    """
    one_off = sum(
        (i.amount for i in offer.additional_support if i.basis is ChargeBasis.ONE_OFF), Decimal(0)
    )
    recurring = offer.annual_cost - one_off
    return _round2((recurring * term_years(first_day, last_day) + one_off) * places)


# -------------------------------------------------------------------- standstill


@dataclass(frozen=True, slots=True)
class Threshold:
    """A procurement threshold value in force from ``effective_from`` (until the next)."""

    effective_from: date
    value: Decimal
    source: str


# Light-touch regime threshold (PCR 2015 reg 5(1)(d): social and other specific services,
# Schedule 3, which includes education services). Values include VAT from 2022.
LIGHT_TOUCH_THRESHOLDS: tuple[Threshold, ...] = (
    Threshold(date(2018, 1, 1), Decimal("615278"), "PPN 04/17: thresholds from 1 January 2018"),
    Threshold(date(2020, 1, 1), Decimal("663540"), "PPN 06/19: thresholds from 1 January 2020"),
    Threshold(
        date(2022, 1, 1),
        Decimal("663540"),
        "PPN 10/21 and SI 2021/1357: thresholds from 1 January 2022, inclusive of VAT",
    ),
    Threshold(
        date(2024, 1, 1),
        Decimal("663540"),
        "PPN 11/23 and SI 2023/1279: thresholds from 1 January 2024 (light touch unchanged)",
    ),
)


def light_touch_threshold(
    on: date, table: Sequence[Threshold] = LIGHT_TOUCH_THRESHOLDS
) -> Threshold:
    """The light-touch threshold in force on ``on``."""
    known = [t for t in table if t.effective_from <= on]
    _require(bool(known), "awarded_on", Rule.OUT_OF_RANGE, f"no threshold known on {on}")
    return max(known, key=lambda t: t.effective_from)


@dataclass(frozen=True, slots=True)
class StandstillDecision:
    """Whether a standstill period applies to an award, and why (the rule and its source)."""

    applies: bool
    reason: str


def standstill_decision(
    scheme: Scheme, kind: CompetitionKind, value: Decimal, awarded_on: date
) -> StandstillDecision:
    """Standstill applies when the regime makes it mandatory, the scheme opted into a
    voluntary standstill for every call-off, or (unless the scheme turned it off) for a
    block contract whose estimated value is at or above the light-touch threshold in force
    on the award date (reg 5: "equal to or greater than"; regs 86-87, 99: a standstill
    protects a contract that is at risk of ineffectiveness)."""
    regime = scheme.regime_rules
    if regime.standstill_mandatory:
        return StandstillDecision(True, regime.standstill_source)
    if scheme.voluntary_standstill:
        return StandstillDecision(
            True, "the scheme applies a voluntary standstill to every call-off"
        )
    if not (kind is CompetitionKind.BLOCK and scheme.standstill_blocks_above_threshold):
        return StandstillDecision(False, f"{kind} call-off: {regime.standstill_source}")
    threshold = light_touch_threshold(awarded_on)
    if value < threshold.value:
        return StandstillDecision(False, f"block below the £{threshold.value} threshold")
    return StandstillDecision(
        True, f"block at or above the light-touch threshold £{threshold.value} ({threshold.source})"
    )


def standstill_end(sent_on: date, days: int) -> datetime:
    """End of standstill: end of the ``days``-th calendar day after the notices went,
    moved to the end of the next working day if that day is not one (PCR 2015 reg 87)."""
    return end_of_day(next_working_day_on_or_after(sent_on + timedelta(days=days)))


def award_notice_due(scheme: Scheme, awarded_on: date) -> date:
    """Last day to send the award notice: 30 days after award, or if the scheme groups
    DPS call-off notices quarterly (reg 50 / reg 75), 30 days after the quarter ends."""
    regime = scheme.regime_rules
    if scheme.group_notices_quarterly and regime.award_notice_quarterly_grouping:
        return Quarter.of(awarded_on).grouped_notice_due
    return awarded_on + timedelta(days=regime.award_notice_days)


def _winner_of(
    c: Competition, result: EvaluationResult, bids: Sequence[Bid], m: Membership | None
) -> tuple[BidScore, Bid]:
    _require(
        result.competition_id == c.competition_id and result.round == c.round,
        "result",
        Rule.MISMATCH,
        "evaluation is not of this round",
    )
    winner = result.winner
    _require(winner is not None, "result", Rule.NO_COMPLIANT_BID, "no compliant bid to award")
    assert winner is not None
    bid = next((b for b in bids if b.bid_id == winner.bid_id), None)
    _require(bid is not None, "bids", Rule.UNKNOWN, f"winning bid {winner.bid_id} not supplied")
    assert bid is not None
    _require(
        m is not None
        and m.status is MembershipStatus.ACTIVE
        and m.provider_id == bid.provider_id
        and m.category_code == c.spec.category_code,
        "winner_membership",
        Rule.MEMBER_NOT_ACTIVE,
        f"winner's membership is {m.status if m else 'missing'}",
    )
    return winner, bid


def approve_award(
    competition: Competition,
    scheme: Scheme,
    result: EvaluationResult,
    bids: Sequence[Bid],
    *,
    approved_by: str,
    winner_membership: Membership | None,
    now: datetime,
    scorers: frozenset[str] = frozenset(),
) -> tuple[Competition, Award]:
    """Commissioner approves the top-ranked bid (reg 34: award on the stated criteria).

    Refused when the evaluation is of another round, no compliant bid exists, or the
    winner is no longer an active member of the category (pass its current membership,
    or None if it has none). Where :func:`standstill_decision` applies a standstill the
    award is "awarded, in standstill": the contract is made when standstill ends.

    Separation of duties: nobody among ``scorers`` (who scored any bid of the call-off)
    approves its award, so one person cannot both judge the bids and decide the winner
    (councils' contract procedure rules; issue 13).
    """
    c = competition
    _require_status(c, CompetitionStatus.EVALUATED)
    approved_by = _require_text(approved_by, "approved_by")
    _require(
        approved_by not in scorers,
        "approved_by",
        Rule.APPROVER_SCORED_BID,
        f"{approved_by} scored bids of this call-off, so another person must approve its award",
    )
    winner, bid = _winner_of(c, result, bids, winner_membership)
    today = _today(now)
    offer = bid.offer
    first_day, last_day = contract_term(c.spec, offer.start_date)
    value = contract_value(offer, c.spec.places, first_day, last_day)
    standstill = standstill_decision(scheme, c.spec.kind, value, today)
    award = Award(
        competition_id=c.competition_id,
        scheme_id=c.scheme_id,
        round=c.round,
        kind=c.spec.kind,
        category_code=c.spec.category_code,
        lot_code=c.current_lot,
        bid_id=bid.bid_id,
        provider_id=bid.provider_id,
        places=c.spec.places,
        need_ref=c.spec.need_ref,
        fee_basis=offer.fee_basis,
        core_fee=offer.core_fee,
        weekly_core_fee=offer.weekly_core_fee,
        weeks_per_year=offer.weeks_per_year,
        additional_support=offer.additional_support,
        start_date=offer.start_date,
        end_date=c.spec.term_end if c.spec.kind is CompetitionKind.BLOCK else None,
        annual_value=offer.annual_cost * c.spec.places,
        contract_value=value,
        price_score=winner.price_score,
        quality_score=winner.quality_score,
        total_score=winner.total,
        approved_by=approved_by,
        approved_at=now,
        standstill_ends_at=(
            standstill_end(today, scheme.regime_rules.standstill_days)
            if standstill.applies
            else None
        ),
        notice_due_on=award_notice_due(scheme, today),
        standstill_reason=standstill.reason,
        contract_awaits_standstill=standstill.applies,
    )
    return replace(c, status=CompetitionStatus.AWARDED), award


def standstill_over(award: Award, now: datetime) -> bool:
    """True once the contract may be concluded: no standstill, or it has ended."""
    return award.standstill_ends_at is None or now >= award.standstill_ends_at


def declare_no_suitable_bid(
    competition: Competition,
    scheme: Scheme,
    *,
    reason: str,
    declared_by: str,
    now: datetime,
) -> tuple[Competition, NoSuitableBid]:
    """Record that this round found no suitable bid; next: lower tier or escalate."""
    c = competition
    _require_status(c, CompetitionStatus.EVALUATED)
    reason = _require_text(reason, "reason")
    declared_by = _require_text(declared_by, "declared_by")
    lower = next_lower_lot(scheme, c)
    outcome = NoSuitableBid(
        competition_id=c.competition_id,
        round=c.round,
        lot_code=c.current_lot,
        reason=reason,
        next_action=NextAction.REOPEN_LOWER_TIER if lower else NextAction.ESCALATE,
        next_lot_code=lower,
        declared_by=declared_by,
        declared_at=now,
    )
    return replace(c, status=CompetitionStatus.NO_SUITABLE_BID), outcome


@dataclass(frozen=True, slots=True, order=True)
class Quarter:
    """A calendar quarter (Q1 = January-March). Award notices are grouped by calendar
    quarter (reg 50), not by the council's April-March financial year."""

    year: int
    number: int

    @classmethod
    def of(cls, d: date) -> Quarter:
        return cls(d.year, (d.month - 1) // 3 + 1)

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        if self.number == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.number + 1, 1) - timedelta(days=1)

    @property
    def grouped_notice_due(self) -> date:
        """Grouped notices go within 30 days of the end of the quarter."""
        return self.end + timedelta(days=30)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


@dataclass(frozen=True, slots=True)
class AwardNotice:
    """What is published about an award: what, who, value, dates.

    Built only from non-identifying fields (kind, places, category, lot, scheme): never
    the call-off's free-text title or its need, so no child reference, date of birth or
    primary need of a child can reach a published notice (UK GDPR art. 9).
    """

    competition_id: str
    scheme_id: str
    scheme_reference: str
    regime: RegimeCode
    description: str
    provider_id: str
    value: Decimal
    awarded_on: date
    contract_start: date
    contract_end: date | None
    quarter: Quarter
    grouped: bool
    due_on: date


def _published_description(award: Award, scheme: Scheme) -> str:
    lot = f", lot {award.lot_code}" if award.lot_code else ""
    return (
        f"{award.kind} call-off under {scheme.reference}: {award.places} place(s), "
        f"category {award.category_code}{lot}"
    )


def award_notice(award: Award, scheme: Scheme, competition: Competition) -> AwardNotice:
    """The award notice record for an approved award; its value is the estimated value
    over the whole contract term (reg 50 and Schedule: value of the contract awarded)."""
    grouped = scheme.group_notices_quarterly and scheme.regime_rules.award_notice_quarterly_grouping
    _, last_day = contract_term(competition.spec, award.start_date)
    return AwardNotice(
        competition_id=award.competition_id,
        scheme_id=scheme.scheme_id,
        scheme_reference=scheme.reference,
        regime=scheme.regime,
        description=_published_description(award, scheme),
        provider_id=award.provider_id,
        value=award.contract_value,
        awarded_on=award.awarded_on,
        contract_start=award.start_date,
        contract_end=last_day,
        quarter=Quarter.of(award.awarded_on),
        grouped=grouped,
        due_on=award.notice_due_on,
    )


def group_notices_by_quarter(
    notices: Iterable[AwardNotice],
) -> dict[Quarter, tuple[AwardNotice, ...]]:
    """Grouped notices per calendar quarter, quarters and notices in date order."""
    groups: dict[Quarter, list[AwardNotice]] = {}
    for n in notices:
        if n.grouped:
            groups.setdefault(n.quarter, []).append(n)
    return {
        q: tuple(sorted(groups[q], key=lambda n: (n.awarded_on, n.competition_id)))
        for q in sorted(groups)
    }


# ------------------------------------------------------------------ notice tracking


class NoticeKind(StrEnum):
    """Which notice: a contract award notice (reg 50) or the notice of a change of the
    DPS period (reg 34(27)-(28)); both are tracked the same way."""

    AWARD = "award"
    DPS_PERIOD_CHANGE = "dps_period_change"


# When a period-change notice is due. The regulations name the form, not a day: an
# extension is notified before the period it extends lapses (after that the DPS has no
# valid period to extend, reg 34(27)(a)); a termination's contract award notice follows
# reg 50(1), within 30 days. A choice recorded in docs/law/call-offs.md.
PERIOD_EXTENSION_NOTICE_RULE = (
    "PCR 2015 reg 34(27)(a): the change of period is notified on the form first used for "
    "the call for competition, before the period it extends ends"
)
PERIOD_TERMINATION_NOTICE_RULE = (
    "PCR 2015 reg 34(27)(b) and reg 50(1): a contract award notice within 30 days of the "
    "DPS's termination"
)


class NoticeStatus(StrEnum):
    """due -> sent (to Find a Tender) -> published; due -> published directly."""

    DUE = "due"
    SENT = "sent"
    PUBLISHED = "published"


@dataclass(frozen=True, slots=True)
class TrackedNotice:
    """A notice the council must publish: when it is due and what happened to it."""

    notice_id: str
    kind: NoticeKind
    scheme_id: str
    competition_id: str | None
    due_on: date
    rule: str  # the rule that set the due date, with its source
    status: NoticeStatus = NoticeStatus.DUE
    sent_by: str | None = None
    sent_at: datetime | None = None
    published_by: str | None = None
    published_at: datetime | None = None
    publication_ref: str | None = None
    overdue_at: datetime | None = None

    @property
    def due_at(self) -> datetime:
        """The end of the due day (Europe/London): overdue from then if not sent."""
        return end_of_day(self.due_on)


def award_notice_id(competition_id: str) -> str:
    return f"award-{competition_id}"


def track_award_notice(notice: AwardNotice, scheme: Scheme) -> TrackedNotice:
    """The tracking record of an award notice: due by the regime's rule (reg 50)."""
    return TrackedNotice(
        notice_id=award_notice_id(notice.competition_id),
        kind=NoticeKind.AWARD,
        scheme_id=notice.scheme_id,
        competition_id=notice.competition_id,
        due_on=notice.due_on,
        rule=scheme.regime_rules.award_notice_source,
    )


def period_notice_id(scheme_id: str, number: int) -> str:
    return f"period-{scheme_id}-{number}"


def track_period_notice(scheme: Scheme, number: int) -> TrackedNotice:
    """The tracking record of the scheme's ``number``-th (1-based) period-change notice."""
    notice = scheme.period_notices[number - 1]
    extended = notice.change == "extended"
    return TrackedNotice(
        notice_id=period_notice_id(scheme.scheme_id, number),
        kind=NoticeKind.DPS_PERIOD_CHANGE,
        scheme_id=scheme.scheme_id,
        competition_id=None,
        due_on=notice.previous_end if extended else notice.new_end + timedelta(days=30),
        rule=PERIOD_EXTENSION_NOTICE_RULE if extended else PERIOD_TERMINATION_NOTICE_RULE,
    )


def notice_overdue(n: TrackedNotice, now: datetime) -> bool:
    """Not yet sent or published after the end of its due day."""
    return n.status is NoticeStatus.DUE and now > n.due_at


def mark_notice_overdue(n: TrackedNotice, now: datetime) -> TrackedNotice | None:
    """The notice marked overdue (once), or None when it is not (or already) overdue."""
    if n.overdue_at is not None or not notice_overdue(n, now):
        return None
    return replace(n, overdue_at=now)


def record_notice(
    n: TrackedNotice,
    status: NoticeStatus,
    *,
    by: str,
    at: datetime,
    publication_ref: str | None = None,
) -> TrackedNotice:
    """Record that the notice was sent for publication or published (who and when)."""
    by = _require_text(by, "by")
    _require(status is not NoticeStatus.DUE, "status", Rule.INVALID_TRANSITION, "sent or published")
    order = (NoticeStatus.DUE, NoticeStatus.SENT, NoticeStatus.PUBLISHED)
    _require(
        order.index(status) > order.index(n.status),
        "status",
        Rule.INVALID_TRANSITION,
        f"notice is already {n.status}",
    )
    if status is NoticeStatus.SENT:
        return replace(n, status=status, sent_by=by, sent_at=at, publication_ref=publication_ref)
    return replace(
        n,
        status=status,
        published_by=by,
        published_at=at,
        publication_ref=publication_ref or n.publication_ref,
    )


def notice_late(n: TrackedNotice) -> bool:
    """Sent or published after its due day."""
    first = n.sent_at or n.published_at
    return first is not None and london_date(first) > n.due_on


# ------------------------------------------------------------------ tenderers


class FeedbackOutcome(StrEnum):
    """What a losing bidder is told about its bid."""

    UNSUCCESSFUL = "unsuccessful"
    NON_COMPLIANT = "non_compliant"


@dataclass(frozen=True, slots=True)
class BidderFeedback:
    """What an unsuccessful bidder is told (PCR 2015 reg 55(2), reg 86(2)): its own
    scores, the winner's scores, the relative advantages of the winning bid and, where
    the rules require it, the winner's name.

    The winner's price is not disclosed (commercial interests, reg 55(3)), only its scores.
    """

    provider_id: str
    bid_id: str
    outcome: FeedbackOutcome
    reason: str
    own_rank: int | None
    own_price_score: Decimal | None
    own_quality_score: Decimal | None
    own_total: Decimal | None
    winner_provider_id: str
    winner_price_score: Decimal
    winner_quality_score: Decimal
    winner_total: Decimal
    winner_name: str | None = None
    relative_advantages: tuple[str, ...] = ()
    standstill_ends_at: datetime | None = None


def winner_named_to(own: BidScore | None, award: Award) -> bool:
    """The winner's name goes to every bidder with an admissible (ranked) tender (reg
    55(2)(c)), and to every bidder when the award is under standstill (reg 86(2))."""
    return own is not None or award.contract_awaits_standstill


def relative_advantages(
    winner: BidScore, own: BidScore, questions: Sequence[QualityQuestion] = ()
) -> tuple[str, ...]:
    """Where the winning bid scored higher than this one, criterion by criterion."""
    texts = {q.question_id: q.text for q in questions}
    out = []
    if winner.price_score > own.price_score:
        out.append(f"price: the winning bid scored {winner.price_score}, yours {own.price_score}")
    for qid, w in sorted(winner.question_scores.items()):
        mine = own.question_scores.get(qid, Decimal(0))
        if w > mine:
            out.append(f"{texts.get(qid, qid)}: the winning bid scored {w}, yours {mine}")
    if not out:
        out.append(
            f"equal or lower on each criterion; ranked ahead by the tie-break ({TIE_BREAK_RULE})"
        )
    return tuple(out)


def losing_bidder_feedback(
    result: EvaluationResult,
    award: Award,
    *,
    winner_name: str | None = None,
    questions: Sequence[QualityQuestion] = (),
) -> tuple[BidderFeedback, ...]:
    """Feedback for every bidder other than the winner, ranked bidders first."""
    winner = result.winner
    _require(
        winner is not None and winner.bid_id == award.bid_id,
        "award",
        Rule.MISMATCH,
        "award is not the evaluation's winner",
    )
    assert winner is not None
    of = len(result.ranking)

    def feedback(
        provider_id: str, bid_id: str, outcome: FeedbackOutcome, reason: str, own: BidScore | None
    ) -> BidderFeedback:
        return BidderFeedback(
            provider_id=provider_id,
            bid_id=bid_id,
            outcome=outcome,
            reason=reason,
            own_rank=own.rank if own else None,
            own_price_score=own.price_score if own else None,
            own_quality_score=own.quality_score if own else None,
            own_total=own.total if own else None,
            winner_provider_id=winner.provider_id,
            winner_price_score=winner.price_score,
            winner_quality_score=winner.quality_score,
            winner_total=winner.total,
            winner_name=winner_name if winner_named_to(own, award) else None,
            relative_advantages=relative_advantages(winner, own, questions) if own else (),
            standstill_ends_at=award.standstill_ends_at,
        )

    ranked = [
        feedback(
            s.provider_id,
            s.bid_id,
            FeedbackOutcome.UNSUCCESSFUL,
            f"ranked {s.rank} of {of}: total {s.total} against the winner's {winner.total}",
            s,
        )
        for s in result.ranking[1:]
    ]
    set_aside = [
        feedback(n.provider_id, n.bid_id, FeedbackOutcome.NON_COMPLIANT, n.reason, None)
        for n in result.non_compliant
    ]
    return tuple(ranked + set_aside)


# ------------------------------------------------- phase transfers (SEND Regs 2014 reg 18)

# A child transferring between phases must have the new school named in the EHC plan by
# a statutory day (15 February; 31 March for post-16: SEND Regulations 2014 reg 18, sent
# by placements as ``phase_transfer_deadline``). A call-off for such a child must finish
# by then: tender period, then evaluation and award approval, then standstill where it
# applies. Evaluation is not timed by law: this is the council's planning allowance
# (data, change it here) and the choice is recorded in docs/law/children-data.md.
CALL_OFF_EVALUATION_WORKING_DAYS = 5
CALL_OFF_EVALUATION_SOURCE = (
    "Planning allowance, not law: 5 working days from the tender deadline to score, rank "
    "and approve an individual call-off (docs/law/children-data.md)"
)


@dataclass(frozen=True, slots=True)
class TimetableCheck:
    """Whether a call-off can be decided by a statutory day, and why not."""

    statutory_deadline: date
    expected_completion: date
    standstill_days: int

    @property
    def at_risk(self) -> bool:
        return self.expected_completion > self.statutory_deadline

    @property
    def reason(self) -> str:
        standstill = (
            f", then {self.standstill_days} days' standstill" if self.standstill_days else ""
        )
        return (
            f"tender deadline, {CALL_OFF_EVALUATION_WORKING_DAYS} working days' evaluation"
            f"{standstill}: decided {self.expected_completion.isoformat()}, after the "
            f"{self.statutory_deadline.isoformat()} the school must be named by"
        )


def standstill_applies(scheme: Scheme) -> bool:
    """Standstill before an individual placement's contract (see ``standstill_decision``)."""
    individual = standstill_decision(scheme, CompetitionKind.INDIVIDUAL, Decimal(0), date.min)
    return individual.applies


def check_call_off_timetable(
    scheme: Scheme, tender_deadline_at: datetime, statutory_deadline: date
) -> TimetableCheck:
    """Can a call-off closing at ``tender_deadline_at`` finish by ``statutory_deadline``?

    Finished = evaluated and approved (working days, England and Wales calendar) and, where
    standstill applies, out of standstill (calendar days, PCR 2015 reg 87).
    """
    evaluated = add_working_days(london_date(tender_deadline_at), CALL_OFF_EVALUATION_WORKING_DAYS)
    standstill = scheme.regime_rules.standstill_days if standstill_applies(scheme) else 0
    return TimetableCheck(statutory_deadline, evaluated + timedelta(days=standstill), standstill)
