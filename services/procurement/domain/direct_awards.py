"""Direct award under the Procurement Act 2023 (s.41, Schedule 5): the grounds relevant to
placements, as data, and the decision a direct award records: its ground and why, and
whether a transparency notice (s.44), a contract award notice (s.50) and a standstill
(s.51) must come before the contract."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from services.procurement.domain._rules import Rule, _require, _require_text, _today
from services.procurement.domain.notice_rules import (
    PA2023_DIRECT_AWARD,
    NoticeStep,
    act_notice_id,
    notice_rules_for,
    tracked_notice,
)
from services.procurement.domain.notices import NoticeKind, TrackedNotice
from services.procurement.domain.regimes import COMMENCEMENT_SOURCE, PA2023_GO_LIVE
from shared.fiscal import round_money
from shared.working_days import add_working_days, london_date

ACT = "Procurement Act 2023"


class DirectAwardGround(StrEnum):
    """The Schedule 5 justification relied on (s.41(1))."""

    USER_CHOICE = "user_choice"
    EXTREME_URGENCY = "extreme_urgency"


@dataclass(frozen=True, slots=True)
class GroundRule:
    """What one direct award ground allows and requires, each with its source."""

    ground: DirectAwardGround
    title: str
    source: str
    must_justify: str  # what the recorded justification has to establish
    transparency_notice_required: bool
    transparency_source: str
    contract_award_notice_required: bool
    contract_award_notice_source: str
    # s.51(3): exempt from the mandatory standstill. A voluntary standstill needs a
    # contract award notice to begin with (s.51(2)), so it is possible only with one.
    standstill_exempt: bool
    standstill_source: str
    needs_end_date: bool = False


GROUNDS: Mapping[DirectAwardGround, GroundRule] = MappingProxyType(
    {
        DirectAwardGround.USER_CHOICE: GroundRule(
            ground=DirectAwardGround.USER_CHOICE,
            title="User choice contract",
            source=(
                f"{ACT} s.41 and Schedule 5 para 15: services to an individual where the "
                "authority is satisfied that the award to a particular supplier gives "
                "effect to the preferences of the person to whom they are provided (or "
                "of someone acting for them), e.g. a parent's preference for a named school"
            ),
            must_justify="whose preference it gives effect to and why this supplier",
            transparency_notice_required=False,
            transparency_source=(
                f"{ACT} s.44: a transparency notice precedes a direct award under s.41, "
                "except one justified by Schedule 5 para 15 (user choice contracts)"
            ),
            contract_award_notice_required=False,
            contract_award_notice_source=(
                f"{ACT} s.50(6)(b): no contract award notice for a contract awarded under "
                "s.41 by reference to Schedule 5 para 15 (user choice contracts)"
            ),
            standstill_exempt=True,
            standstill_source=(
                f"{ACT} s.51(2): the standstill begins with the contract award notice, "
                "which a user choice contract does not have (s.50(6)(b)); so no standstill"
            ),
        ),
        DirectAwardGround.EXTREME_URGENCY: GroundRule(
            ground=DirectAwardGround.EXTREME_URGENCY,
            title="Extreme and unavoidable urgency",
            source=(
                f"{ACT} s.41 and Schedule 5 para 13: strictly necessary for reasons of "
                "extreme and unavoidable urgency (not attributable to the authority and "
                "not foreseeable), so the contract cannot be awarded competitively in time"
            ),
            must_justify=(
                "the urgency, why it could not be foreseen and is not the council's doing, "
                "and why a competitive call-off could not be finished in time"
            ),
            transparency_notice_required=True,
            transparency_source=(
                f"{ACT} s.44: a transparency notice must be published before a direct "
                "award under s.41 (Procurement Regulations 2024 reg 26: its content)"
            ),
            contract_award_notice_required=True,
            contract_award_notice_source=(
                f"{ACT} s.50(1): a contract award notice before entering into the contract"
            ),
            standstill_exempt=True,
            standstill_source=(
                f"{ACT} s.51(3): the mandatory standstill does not apply to a direct award "
                "justified by extreme and unavoidable urgency (Sch 5 para 13); a "
                "voluntary standstill may be applied"
            ),
            # Cabinet Office guidance on direct award: only what the urgency strictly
            # needs, so the contract is for a stated, limited period.
            needs_end_date=True,
        ),
    }
)

LIGHT_TOUCH_STANDSTILL_SOURCE = (
    f"{ACT} s.51(3): the mandatory standstill does not apply to a light touch contract"
)
STANDSTILL_WORKING_DAYS = 8  # s.51(2)


@dataclass(frozen=True, slots=True)
class DirectAward:
    """A recorded direct award: ground, justification and what must precede the contract.

    ``need_ref`` is the pseudonymous need reference only; the justification is internal
    (the published transparency notice is built by the notices step, never from it).
    """

    direct_award_id: str
    ground: DirectAwardGround
    justification: str
    provider_id: str
    scheme_id: str | None
    need_ref: str | None
    contract_value: Decimal
    start_date: date
    end_date: date | None
    light_touch: bool
    decided_by: str
    decided_at: datetime
    requires_transparency_notice: bool
    requires_contract_award_notice: bool
    standstill_applies: bool
    standstill_mandatory: bool
    standstill_working_days: int | None
    standstill_reason: str
    sources: tuple[str, ...]

    @property
    def rule(self) -> GroundRule:
        return GROUNDS[self.ground]


def _standstill(rule: GroundRule, light_touch: bool, voluntary: bool) -> tuple[bool, bool, str]:
    """(applies, mandatory, why) for a direct award on ``rule``."""
    exempt = rule.standstill_exempt or light_touch
    why = rule.standstill_source if rule.standstill_exempt else LIGHT_TOUCH_STANDSTILL_SOURCE
    if not exempt:
        return True, True, f"{ACT} s.51(1)-(2): 8 working days from the contract award notice"
    if voluntary:
        _require(
            rule.contract_award_notice_required,
            "voluntary_standstill",
            Rule.MISMATCH,
            f"no standstill is possible: {rule.contract_award_notice_source}",
        )
        return True, False, f"voluntary standstill of 8 working days; {why}"
    return False, False, why


def record_direct_award(
    *,
    direct_award_id: str,
    ground: DirectAwardGround | str,
    justification: str,
    provider_id: str,
    contract_value: Decimal,
    start_date: date,
    end_date: date | None,
    decided_by: str,
    now: datetime,
    scheme_id: str | None = None,
    need_ref: str | None = None,
    light_touch: bool = True,
    voluntary_standstill: bool = False,
) -> DirectAward:
    """Record the decision to award directly on a Schedule 5 ground, with its reasons.

    Refused without a justification, for an unknown ground, a negative value, an end
    before the start, or (urgency) no end date: the contract is limited to what the
    urgency strictly needs.
    """
    try:
        ground = DirectAwardGround(ground)
    except ValueError:
        _require(False, "ground", Rule.UNKNOWN, f"unknown direct award ground {ground!r}")
    rule = GROUNDS[DirectAwardGround(ground)]
    justification = _require_text(justification, "justification")
    provider_id = _require_text(provider_id, "provider_id")
    decided_by = _require_text(decided_by, "decided_by")
    _require(contract_value >= 0, "contract_value", Rule.OUT_OF_RANGE, "must be >= 0")
    _require(
        end_date is None or end_date >= start_date,
        "end_date",
        Rule.OUT_OF_RANGE,
        "the contract cannot end before it starts",
    )
    _require(
        end_date is not None or not rule.needs_end_date,
        "end_date",
        Rule.REQUIRED,
        f"{rule.title}: the contract is limited to what the urgency strictly needs, so "
        f"it has an end date ({rule.source})",
    )
    _require(
        _today(now) >= PA2023_GO_LIVE,
        "decided_at",
        Rule.OUT_OF_RANGE,
        f"a direct award under the Act is decided on or after {PA2023_GO_LIVE.isoformat()} "
        f"({COMMENCEMENT_SOURCE})",
    )
    applies, mandatory, why = _standstill(rule, light_touch, voluntary_standstill)
    return DirectAward(
        direct_award_id=direct_award_id,
        ground=rule.ground,
        justification=justification,
        provider_id=provider_id,
        scheme_id=scheme_id,
        need_ref=need_ref,
        contract_value=round_money(contract_value),
        start_date=start_date,
        end_date=end_date,
        light_touch=light_touch,
        decided_by=decided_by,
        decided_at=now,
        requires_transparency_notice=rule.transparency_notice_required,
        requires_contract_award_notice=rule.contract_award_notice_required,
        standstill_applies=applies,
        standstill_mandatory=mandatory,
        standstill_working_days=STANDSTILL_WORKING_DAYS if applies else None,
        standstill_reason=why,
        sources=(
            rule.source,
            rule.transparency_source,
            rule.contract_award_notice_source,
            why,
        ),
    )


def direct_award_entered_on(award: DirectAward) -> date:
    """The day a direct award's contract is taken as entered into: its start date, but
    never before the decision was recorded, nor (where a voluntary standstill applies,
    s.51) before the last of its working days counted from the decision day, the
    earliest day the contract award notice that starts it can be published. The record
    has no signing date of its own, so this is the latest day the notices owed "before"
    the contract can be on time."""
    decided = london_date(award.decided_at)
    entered = max(award.start_date, decided)
    if award.standstill_applies and award.standstill_working_days:
        # s.51(2): the period begins with the day the notice is published.
        last = add_working_days(decided - timedelta(days=1), award.standstill_working_days)
        entered = max(entered, last + timedelta(days=1))
    return entered


def direct_award_notice_id(kind: NoticeKind, direct_award_id: str) -> str:
    return act_notice_id(kind, f"direct-{direct_award_id}")


def track_direct_award_notices(award: DirectAward) -> list[TrackedNotice]:
    """The notices a recorded direct award owes (NOTICE_RULES, PA2023_DIRECT_AWARD), the
    ground deciding which: the transparency and contract award notices only where its
    ground requires them (due before the contract is entered into), the contract details notice always (s.53(1)), due 30 days, or
    120 for a light touch contract, beginning with the day the contract is entered into.

    A notice names its contracting process: the direct award (``competition_id`` holds
    its id) and its scheme, or, for one outside any scheme, the direct award itself, so
    that an overdue notice still alerts against something the council can find."""
    owed = {
        NoticeKind.TRANSPARENCY: award.requires_transparency_notice,
        NoticeKind.CONTRACT_AWARD: award.requires_contract_award_notice,
        NoticeKind.CONTRACT_DETAILS: True,
    }
    entered = direct_award_entered_on(award)
    # With a (voluntary) standstill the contract award notice starts it (s.51(2)), so
    # it is due the day the award is decided, as for a call-off's award.
    standstill = award.standstill_applies
    decided = london_date(award.decided_at)
    subject = award.scheme_id or award.direct_award_id
    return [
        tracked_notice(
            r,
            direct_award_notice_id(r.kind, award.direct_award_id),
            subject,
            award.direct_award_id,
            decided if r.kind is NoticeKind.CONTRACT_AWARD and standstill else entered,
            award.light_touch,
        )
        for r in notice_rules_for(
            PA2023_DIRECT_AWARD, NoticeStep.DIRECT_AWARD_RECORDED, light_touch=award.light_touch
        )
        if owed.get(r.kind, False)
    ]
