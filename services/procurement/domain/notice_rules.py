"""Which notice each step of a procurement owes, by regime, and when it is due: as data.

One row of :data:`NOTICE_RULES` says: under this regime, this step owes this notice, due
by this rule, because of this section and regulation. PCR 2015 rows reproduce what was
tracked before (award notices, reg 50; DPS period changes, reg 34(27)-(28)); Procurement
Act 2023 rows follow the Act and the Procurement Regulations 2024 (SI 2024/692), which
set each notice's content and put it on the central digital platform (reg 5).

The trackers at the end turn a step that happened into :class:`TrackedNotice` records,
which the notice clock marks overdue (and monitoring alerts on) like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

from services.procurement.domain.notices import (
    PERIOD_EXTENSION_NOTICE_RULE,
    PERIOD_TERMINATION_NOTICE_RULE,
    NoticeKind,
    TrackedNotice,
    period_notice_id,
    track_award_notice,
)
from services.procurement.domain.regimes import RegimeCode
from services.procurement.domain.schemes import SchemeStatus
from shared.working_days import london_date

if TYPE_CHECKING:
    from services.procurement.domain.awards import Award, AwardNotice
    from services.procurement.domain.schemes import Scheme

# The open framework regime (Procurement Act 2023 s.49) is keyed by its code as text so
# this table does not depend on the regime table having it yet (it compares equal to
# the RegimeCode member once that exists).
PCR2015 = RegimeCode.PCR2015.value
PCR2015_LIGHT_TOUCH = RegimeCode.PCR2015_LIGHT_TOUCH.value
PA2023_DYNAMIC_MARKET = RegimeCode.PA2023_DYNAMIC_MARKET.value
PA2023_OPEN_FRAMEWORK = "pa2023_open_framework"
PA2023_REGIMES = frozenset({PA2023_DYNAMIC_MARKET, PA2023_OPEN_FRAMEWORK})
# A direct award under the Act s.41 is a procedure of its own, whatever scheme (if any)
# its need came through: its notices are keyed by this, not by a scheme's regime.
PA2023_DIRECT_AWARD = "pa2023_direct_award"


class NoticeStep(StrEnum):
    """A step of a scheme or call-off that may owe a notice."""

    SCHEME_OPENED = "scheme_opened"  # established: a DPS/dynamic market/open framework
    SCHEME_REOPENED = "scheme_reopened"  # an open framework's reopening (s.49)
    SCHEME_EXTENDED = "scheme_extended"  # its period extended
    SCHEME_CLOSED = "scheme_closed"  # ended (closed or terminated)
    CALL_OFF_OPENED = "call_off_opened"  # a call-off competition invites tenders
    # A direct award under s.41 (Schedule 5) recorded: its notices count from the day
    # its contract is entered into (direct_award_entered_on).
    DIRECT_AWARD_RECORDED = "direct_award_recorded"
    CALL_OFF_AWARDED = "call_off_awarded"  # the award is decided (before the contract)
    CONTRACT_ENTERED = "contract_entered"  # the contract is entered into
    CONTRACT_CHANGED = "contract_changed"  # a contract modified
    CONTRACT_TERMINATED = "contract_terminated"  # a contract ends, however it ends
    PROCUREMENT_TERMINATED = "procurement_terminated"  # decided not to award after all


@dataclass(frozen=True, slots=True)
class DueRule:
    """When a notice is due, counted from the day of its step.

    ``days`` 0: by the end of the step's own day (a notice the law wants "before" or "on"
    the step). ``counts_step_day``: the Act's "period of N days beginning with the day
    on which..." counts that day as the first, so the last day is step + N - 1; PCR 2015
    "within N days" of an event ends on event + N. ``light_touch_days`` replaces ``days``
    for a light touch contract (Act s.9)."""

    days: int
    counts_step_day: bool = False
    light_touch_days: int | None = None
    words: str = ""

    def due_on(self, step_day: date, *, light_touch: bool = False) -> date:
        days = self.light_touch_days if light_touch and self.light_touch_days else self.days
        if days == 0:
            return step_day
        return step_day + timedelta(days=days - 1 if self.counts_step_day else days)


ON_THE_DAY = DueRule(0, words="by the end of the day of the step")
BEFORE_THE_STEP = DueRule(0, words="before the step: by the end of its day at the latest")


@dataclass(frozen=True, slots=True)
class NoticeRule:
    """Under ``regime``, ``step`` owes a ``kind`` notice, due by ``due``, per ``source``."""

    regime: str
    step: NoticeStep
    kind: NoticeKind
    due: DueRule
    source: str
    form: str = ""  # the central digital platform's notice type (Find a Tender)
    # Not owed for a light touch contract (Act s.75(6)(b): no contract change notice).
    not_for_light_touch: bool = False

    @property
    def rule(self) -> str:
        """The tracked notice's rule: when it is due and why."""
        return f"{self.source}; due {self.due.words}"


# What each kind is called, in words (the API shows it; the alert's rule text cites it).
NOTICE_KIND_WORDS: Mapping[NoticeKind, str] = MappingProxyType(
    {
        NoticeKind.AWARD: "Contract award notice (PCR 2015)",
        NoticeKind.DPS_PERIOD_CHANGE: "Notice of a change to the DPS period (PCR 2015)",
        NoticeKind.TENDER: "Tender notice",
        NoticeKind.TRANSPARENCY: "Transparency notice",
        NoticeKind.CONTRACT_AWARD: "Contract award notice",
        NoticeKind.CONTRACT_DETAILS: "Contract details notice",
        NoticeKind.CONTRACT_CHANGE: "Contract change notice",
        NoticeKind.CONTRACT_TERMINATION: "Contract termination notice",
        NoticeKind.PROCUREMENT_TERMINATION: "Procurement termination notice",
        NoticeKind.DYNAMIC_MARKET_INTENTION: "Dynamic market notice: intention to establish",
        NoticeKind.DYNAMIC_MARKET_ESTABLISHMENT: "Dynamic market notice: establishment",
        NoticeKind.DYNAMIC_MARKET_MODIFICATION: "Dynamic market notice: modification",
        NoticeKind.DYNAMIC_MARKET_CESSATION: "Dynamic market notice: cessation",
    }
)

# ----------------------------------------------------------------- the rules' sources

_PA = "Procurement Act 2023"
_PR = "Procurement Regulations 2024"
SOURCE_TENDER_FRAMEWORK = (
    f"{_PA} s.21(1): a tender notice before a competitive tendering procedure; each "
    f"framework of an open framework (s.49), first and on every reopening, is awarded "
    f"that way; content {_PR} reg 20 (frameworks)"
)
SOURCE_TENDER_DYNAMIC_MARKET = (
    f"{_PA} s.21(1): a tender notice before a contract is awarded by a competitive "
    f"flexible procedure by reference to membership of a dynamic market (s.34); content "
    f"{_PR} reg 21"
)
SOURCE_TRANSPARENCY = (
    f"{_PA} s.44(1): a transparency notice before a direct award under s.41 or s.43 "
    f"(not for a user choice contract, Sch 5 para 15); content {_PR} reg 26"
)
SOURCE_CONTRACT_AWARD = (
    f"{_PA} s.50(1): a contract award notice before entering into the contract (its "
    f"publication starts the standstill, s.51); not for a user choice direct award, "
    f"s.50(6)(b); content {_PR} reg 27"
)
SOURCE_CONTRACT_DETAILS = (
    f"{_PA} s.53(1): a contract details notice within 30 days beginning with the day the "
    f"contract is entered into, 120 days for a light touch contract; content {_PR} regs "
    f"32 (by reference to a dynamic market) and 34 (call-off under a framework)"
)
SOURCE_CONTRACT_CHANGE = (
    f"{_PA} s.75(1): a contract change notice before modifying a public contract (a "
    f"framework is one); not for a modification within s.75(2) (10% of value or term) "
    f"nor for a light touch contract, s.75(6)(b); content {_PR} reg 40"
)
SOURCE_CONTRACT_TERMINATION = (
    f"{_PA} s.80(1): a contract termination notice within 30 days beginning with the day "
    f"the contract ends, however it ends; content {_PR} reg 41"
)
SOURCE_PROCUREMENT_TERMINATION = (
    f"{_PA} s.55: a procurement termination notice on deciding not to award a contract "
    f"after a tender or transparency notice; content {_PR} reg 37"
)
SOURCE_DM_INTENTION = (
    f"{_PA} s.39(2): a dynamic market notice before establishing a dynamic market; "
    f"content {_PR} reg 25(1)-(2)"
)
SOURCE_DM_ESTABLISHMENT = (
    f"{_PA} s.39(3): a dynamic market notice on establishing the market; content {_PR} reg 25"
)
SOURCE_DM_MODIFICATION = (
    f"{_PA} s.39(4): a dynamic market notice on modifying the market (here: its period "
    f"extended); content {_PR} reg 25"
)
SOURCE_DM_CESSATION = (
    f"{_PA} s.39(5): a dynamic market notice when the market ceases to operate; content "
    f"{_PR} reg 25"
)
SOURCE_LIGHT_TOUCH = (
    f"{_PA} s.9(1) and {_PR} reg 42(1) with Sch 1 Table 1: the services whose CPV codes "
    f"are listed are light touch services"
)

# Due rules of the Act's notices. Where the Act names the step but no number of days
# ("before", "on"), the notice is due on the step's day: later is a breach, earlier is
# the council's choice. A choice recorded in docs/law/notices.md.
_DETAILS_DUE = DueRule(
    30,
    counts_step_day=True,
    light_touch_days=120,
    words="within 30 days (120 light touch) beginning with the day the contract is entered into",
)
_TERMINATION_DUE = DueRule(
    30, counts_step_day=True, words="within 30 days beginning with the day the contract ends"
)
# PCR 2015 rows, kept as they were tracked before (their own rule texts).
_PCR_AWARD_DUE = DueRule(30, words="within 30 days of the award, or of the quarter's end")


def _pcr_rows(regime: str) -> tuple[NoticeRule, ...]:
    return (
        NoticeRule(
            regime,
            NoticeStep.CALL_OFF_AWARDED,
            NoticeKind.AWARD,
            _PCR_AWARD_DUE,
            "PCR 2015 reg 50 (reg 75 light-touch): award notice, DPS call-offs grouped quarterly",
            form="F03 / F21 contract award notice",
        ),
        NoticeRule(
            regime,
            NoticeStep.SCHEME_EXTENDED,
            NoticeKind.DPS_PERIOD_CHANGE,
            BEFORE_THE_STEP,
            PERIOD_EXTENSION_NOTICE_RULE,
            form="the form first used for the call for competition",
        ),
        NoticeRule(
            regime,
            NoticeStep.SCHEME_CLOSED,
            NoticeKind.DPS_PERIOD_CHANGE,
            DueRule(30, words="within 30 days of the termination"),
            PERIOD_TERMINATION_NOTICE_RULE,
            form="contract award notice",
        ),
    )


def _act_call_off_rows(regime: str) -> tuple[NoticeRule, ...]:
    """The Act's notices for a contract, the same whether let by reference to a dynamic
    market or called off under an open framework."""
    return (
        NoticeRule(
            regime,
            NoticeStep.CALL_OFF_AWARDED,
            NoticeKind.CONTRACT_AWARD,
            BEFORE_THE_STEP,
            SOURCE_CONTRACT_AWARD,
            form="UK6",
        ),
        NoticeRule(
            regime,
            NoticeStep.CONTRACT_ENTERED,
            NoticeKind.CONTRACT_DETAILS,
            _DETAILS_DUE,
            SOURCE_CONTRACT_DETAILS,
            form="UK7",
        ),
        NoticeRule(
            regime,
            NoticeStep.CONTRACT_CHANGED,
            NoticeKind.CONTRACT_CHANGE,
            BEFORE_THE_STEP,
            SOURCE_CONTRACT_CHANGE,
            form="UK10",
            not_for_light_touch=True,
        ),
        NoticeRule(
            regime,
            NoticeStep.CONTRACT_TERMINATED,
            NoticeKind.CONTRACT_TERMINATION,
            _TERMINATION_DUE,
            SOURCE_CONTRACT_TERMINATION,
            form="UK11",
        ),
        NoticeRule(
            regime,
            NoticeStep.PROCUREMENT_TERMINATED,
            NoticeKind.PROCUREMENT_TERMINATION,
            ON_THE_DAY,
            SOURCE_PROCUREMENT_TERMINATION,
            form="UK12",
        ),
    )


# Due rules of a direct award's notices, counted from the day its contract is entered
# into: "before" it (s.44(1), s.50(1)) is by the end of that day at the latest.
_BEFORE_ENTRY = DueRule(0, words="before the contract is entered into: by that day at the latest")


def _direct_award_rows() -> tuple[NoticeRule, ...]:
    """A direct award's notices (s.41). Which of them a ground owes is the ground's data
    (direct_awards.GROUNDS: user choice owes neither the transparency notice, s.44(1)
    read with Sch 5 para 15, nor the contract award notice, s.50(6)(b))."""
    step = NoticeStep.DIRECT_AWARD_RECORDED
    return (
        NoticeRule(
            PA2023_DIRECT_AWARD,
            step,
            NoticeKind.TRANSPARENCY,
            _BEFORE_ENTRY,
            SOURCE_TRANSPARENCY,
            form="UK5",
        ),
        NoticeRule(
            PA2023_DIRECT_AWARD,
            step,
            NoticeKind.CONTRACT_AWARD,
            _BEFORE_ENTRY,
            SOURCE_CONTRACT_AWARD,
            form="UK6",
        ),
        NoticeRule(
            PA2023_DIRECT_AWARD,
            step,
            NoticeKind.CONTRACT_DETAILS,
            _DETAILS_DUE,
            SOURCE_CONTRACT_DETAILS,
            form="UK7",
        ),
    )


NOTICE_RULES: tuple[NoticeRule, ...] = (
    *_pcr_rows(PCR2015),
    *_pcr_rows(PCR2015_LIGHT_TOUCH),
    # Dynamic market (ss. 34-40): its own notices for its life, a tender notice for each
    # contract let by reference to it.
    NoticeRule(
        PA2023_DYNAMIC_MARKET,
        NoticeStep.SCHEME_OPENED,
        NoticeKind.DYNAMIC_MARKET_INTENTION,
        BEFORE_THE_STEP,
        SOURCE_DM_INTENTION,
        form="UK13",
    ),
    NoticeRule(
        PA2023_DYNAMIC_MARKET,
        NoticeStep.SCHEME_OPENED,
        NoticeKind.DYNAMIC_MARKET_ESTABLISHMENT,
        ON_THE_DAY,
        SOURCE_DM_ESTABLISHMENT,
        form="UK14",
    ),
    NoticeRule(
        PA2023_DYNAMIC_MARKET,
        NoticeStep.SCHEME_EXTENDED,
        NoticeKind.DYNAMIC_MARKET_MODIFICATION,
        ON_THE_DAY,
        SOURCE_DM_MODIFICATION,
        form="UK15",
    ),
    NoticeRule(
        PA2023_DYNAMIC_MARKET,
        NoticeStep.SCHEME_CLOSED,
        NoticeKind.DYNAMIC_MARKET_CESSATION,
        ON_THE_DAY,
        SOURCE_DM_CESSATION,
        form="UK16",
    ),
    NoticeRule(
        PA2023_DYNAMIC_MARKET,
        NoticeStep.CALL_OFF_OPENED,
        NoticeKind.TENDER,
        BEFORE_THE_STEP,
        SOURCE_TENDER_DYNAMIC_MARKET,
        form="UK4",
    ),
    *_act_call_off_rows(PA2023_DYNAMIC_MARKET),
    # Open framework (s.49): a scheme of frameworks, each awarded after a tender notice;
    # a framework is itself a public contract, so changing or ending it owes the
    # contract change / termination notices. Call-offs by competitive selection process
    # among its suppliers (s.46) owe no tender notice.
    NoticeRule(
        PA2023_OPEN_FRAMEWORK,
        NoticeStep.SCHEME_OPENED,
        NoticeKind.TENDER,
        BEFORE_THE_STEP,
        SOURCE_TENDER_FRAMEWORK,
        form="UK4",
    ),
    NoticeRule(
        PA2023_OPEN_FRAMEWORK,
        NoticeStep.SCHEME_REOPENED,
        NoticeKind.TENDER,
        BEFORE_THE_STEP,
        SOURCE_TENDER_FRAMEWORK,
        form="UK4",
    ),
    NoticeRule(
        PA2023_OPEN_FRAMEWORK,
        NoticeStep.SCHEME_EXTENDED,
        NoticeKind.CONTRACT_CHANGE,
        BEFORE_THE_STEP,
        SOURCE_CONTRACT_CHANGE,
        form="UK10",
        not_for_light_touch=True,
    ),
    NoticeRule(
        PA2023_OPEN_FRAMEWORK,
        NoticeStep.SCHEME_CLOSED,
        NoticeKind.CONTRACT_TERMINATION,
        _TERMINATION_DUE,
        SOURCE_CONTRACT_TERMINATION,
        form="UK11",
    ),
    *_act_call_off_rows(PA2023_OPEN_FRAMEWORK),
    # Direct award (s.41, Schedule 5): user choice or extreme urgency.
    *_direct_award_rows(),
)


def notice_rules_for(regime: str, step: NoticeStep, *, light_touch: bool) -> list[NoticeRule]:
    """The notices ``step`` owes under ``regime``, in the table's order."""
    return [
        r
        for r in NOTICE_RULES
        if r.regime == regime and r.step is step and not (light_touch and r.not_for_light_touch)
    ]


def notice_form(regime: str, kind: NoticeKind) -> str:
    """The platform's notice type for ``kind`` under ``regime`` ("" if none is known)."""
    return next((r.form for r in NOTICE_RULES if r.regime == regime and r.kind is kind), "")


def is_act_regime(regime: str) -> bool:
    return regime in PA2023_REGIMES


def contract_light_touch(scheme: Scheme) -> bool:
    """Whether the scheme's contracts count as light touch contracts for the due dates.

    PCR 2015 light-touch schemes are; under the Act a scheme says so with ``light_touch``
    (light touch services, the Act s.9; 120 days, not 30, for a contract details notice).
    See SOURCE_LIGHT_TOUCH for the test."""
    return scheme.regime == PCR2015_LIGHT_TOUCH or scheme.light_touch


# ------------------------------------------------------------------------ trackers


def act_notice_id(kind: NoticeKind, subject: str, number: int | None = None) -> str:
    """A stable id per notice: the kind and the scheme or call-off it is for."""
    base = f"{kind.value.replace('_', '-')}-{subject}"
    return base if number is None else f"{base}-{number}"


def tracked_notice(
    rule: NoticeRule,
    notice_id: str,
    scheme_id: str,
    competition_id: str | None,
    step_day: date,
    light_touch: bool,
) -> TrackedNotice:
    return TrackedNotice(
        notice_id=notice_id,
        kind=rule.kind,
        scheme_id=scheme_id,
        competition_id=competition_id,
        due_on=rule.due.due_on(step_day, light_touch=light_touch),
        rule=rule.rule,
    )


def track_scheme_notices(
    scheme: Scheme, step: NoticeStep, step_day: date, number: int | None = None
) -> list[TrackedNotice]:
    """The Act's notices a scheme-level step owes (none under PCR 2015, whose period
    notices are tracked by :func:`track_period_notice`). ``number`` tells repeated steps
    apart (the n-th reopening)."""
    if not is_act_regime(scheme.regime):
        return []
    light_touch = contract_light_touch(scheme)
    return [
        tracked_notice(
            r,
            act_notice_id(r.kind, scheme.scheme_id, number),
            scheme.scheme_id,
            None,
            step_day,
            light_touch,
        )
        for r in notice_rules_for(scheme.regime, step, light_touch=light_touch)
    ]


def track_scheme_change(before: Scheme, after: Scheme, today: date) -> list[TrackedNotice]:
    """The Act's notices a change of scheme status owes, beyond its period notices:
    opening a draft establishes the dynamic market or the open framework (not for a
    scheme imported as already established); closing it, where no period-change notice
    was recorded (it ran to its end), ends it on its last usable day."""
    if before.status is SchemeStatus.DRAFT and after.status is SchemeStatus.OPEN:
        return (
            [] if after.imported else track_scheme_notices(after, NoticeStep.SCHEME_OPENED, today)
        )
    closing = before.status is not SchemeStatus.CLOSED and after.status is SchemeStatus.CLOSED
    if closing and before.status is not SchemeStatus.DRAFT:
        if len(after.period_notices) == len(before.period_notices):
            ended = min(today, after.last_usable_day)
            return track_scheme_notices(after, NoticeStep.SCHEME_CLOSED, ended)
    return []


def track_call_off_notices(
    scheme: Scheme, competition_id: str, opened_on: date
) -> list[TrackedNotice]:
    """The notices opening a call-off owes: under a dynamic market, its tender notice
    (s.21(1), reg 21), due the day it opens; none under PCR 2015 or an open framework."""
    light_touch = contract_light_touch(scheme)
    return [
        tracked_notice(
            r,
            act_notice_id(r.kind, competition_id),
            scheme.scheme_id,
            competition_id,
            opened_on,
            light_touch,
        )
        for r in notice_rules_for(
            scheme.regime, NoticeStep.CALL_OFF_OPENED, light_touch=light_touch
        )
    ]


def contract_entered_on(award: Award) -> date:
    """The earliest day the call-off's contract can be entered into: the day standstill
    ends where the award waits for it, else the day the award was approved."""
    if award.contract_awaits_standstill and award.standstill_ends_at is not None:
        return london_date(award.standstill_ends_at)
    return london_date(award.approved_at)


def track_award_notices(notice: AwardNotice, scheme: Scheme, award: Award) -> list[TrackedNotice]:
    """The notices a decided call-off owes. PCR 2015: its award notice (reg 50), as
    before. The Act: the contract award notice, due the day the award is decided (it must
    precede the contract and starts the standstill), and the contract details notice,
    due from the earliest day the contract can be entered into."""
    if not is_act_regime(scheme.regime):
        return [track_award_notice(notice, scheme)]
    light_touch = contract_light_touch(scheme)
    cid = notice.competition_id
    steps = (
        (NoticeStep.CALL_OFF_AWARDED, london_date(award.approved_at)),
        (NoticeStep.CONTRACT_ENTERED, contract_entered_on(award)),
    )
    return [
        tracked_notice(r, act_notice_id(r.kind, cid), scheme.scheme_id, cid, day, light_touch)
        for step, day in steps
        for r in notice_rules_for(scheme.regime, step, light_touch=light_touch)
    ]


def track_period_notice(scheme: Scheme, number: int) -> TrackedNotice:
    """The tracking record of the scheme's ``number``-th (1-based) period-change notice.

    PCR 2015: the DPS period-change notice (reg 34(27)-(28)), as before. The Act: an
    extension owes the dynamic market modification notice (s.39(4)) or, for an open
    framework, a contract change notice (s.75); an early close owes the cessation
    notice (s.39(5)) or a contract termination notice (s.80)."""
    notice = scheme.period_notices[number - 1]
    extended = notice.change == "extended"
    if is_act_regime(scheme.regime):
        step = NoticeStep.SCHEME_EXTENDED if extended else NoticeStep.SCHEME_CLOSED
        day = london_date(notice.decided_at) if extended else notice.new_end
        # Owed for the dynamic market or the framework itself: one row per Act regime.
        rule = notice_rules_for(scheme.regime, step, light_touch=False)[0]
        return tracked_notice(
            rule,
            period_notice_id(scheme.scheme_id, number),
            scheme.scheme_id,
            None,
            day,
            light_touch=False,
        )
    return TrackedNotice(
        notice_id=period_notice_id(scheme.scheme_id, number),
        kind=NoticeKind.DPS_PERIOD_CHANGE,
        scheme_id=scheme.scheme_id,
        competition_id=None,
        due_on=notice.previous_end if extended else notice.new_end + timedelta(days=30),
        rule=PERIOD_EXTENSION_NOTICE_RULE if extended else PERIOD_TERMINATION_NOTICE_RULE,
    )
