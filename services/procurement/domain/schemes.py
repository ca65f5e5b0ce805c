"""Schemes: vocabulary (categories, lots, questions, criteria), lifecycle and availability."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from services.procurement.domain._rules import (
    Rule,
    _require,
    _require_text,
    _today,
    _validate_unique,
    rule_broken,
)
from services.procurement.domain.frameworks import (
    FrameworkReopening,
    validate_reopening_schedule,
)
from services.procurement.domain.regimes import regime_for, regime_rules_for
from shared.contracts.common import Attendance, NeedType

if TYPE_CHECKING:
    from services.procurement.domain.regimes import Regime, RegimeCode


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
    # Procurement Act 2023: the scheme is for light touch services (s.9; Procurement
    # Regulations 2024 Sch 1), so its regime's light touch variant applies.
    light_touch: bool = False
    # Open framework (s.49): the planned reopenings (awards of the next framework) and
    # those held.
    reopening_dates: tuple[date, ...] = ()
    reopenings: tuple[FrameworkReopening, ...] = ()

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
        """The rules of its regime (the light touch variant for a light touch scheme)."""
        return regime_rules_for(self.regime, light_touch=self.light_touch)

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
        raise rule_broken("category_code", Rule.UNKNOWN, f"no category {code!r} in scheme")

    def lot(self, code: str) -> Lot:
        for lot in self.lots:
            if lot.code == code:
                return lot
        raise rule_broken("lot_code", Rule.UNKNOWN, f"no lot {code!r} in scheme")

    def within_term(self, today: date) -> bool:
        return self.term_start <= today <= self.last_usable_day


# ----------------------------------------------------------------- scheme lifecycle


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
    regime_for(s.regime)
    regime = regime_rules_for(s.regime, light_touch=s.light_touch)
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
    validate_reopening_schedule(s)


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
    earliest = regime.earliest_establishment
    if earliest is not None:
        _require(
            s.established_on is not None and s.established_on >= earliest,
            "established_on",
            Rule.OUT_OF_RANGE,
            f"a {regime.code} is established on or after {earliest.isoformat()} "
            f"({regime.transition_source})",
        )
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


# --------------------------------------------------------------- scheme availability


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
