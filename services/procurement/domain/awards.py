"""Awards: the winner, contract value and term, standstill, and award notices."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from services.procurement.domain._rules import Rule, _require, _require_text, _today
from services.procurement.domain.bids import ChargeBasis
from services.procurement.domain.competitions import (
    CompetitionStatus,
    _require_status,
    next_lower_lot,
)
from services.procurement.domain.memberships import MembershipStatus
from services.procurement.domain.specs import CompetitionKind
from shared.contracts.procurement_v1 import DEFAULT_INDIVIDUAL_TERM_YEARS
from shared.fiscal import round_money
from shared.working_days import (
    add_working_days,
    end_of_day,
    london_date,
    next_working_day_on_or_after,
)

if TYPE_CHECKING:
    from services.procurement.domain.bids import Bid, BidOffer, FeeBasis, SupportItem
    from services.procurement.domain.competitions import Competition
    from services.procurement.domain.evaluation import BidScore, EvaluationResult
    from services.procurement.domain.memberships import Membership
    from services.procurement.domain.regimes import RegimeCode
    from services.procurement.domain.schemes import Scheme
    from services.procurement.domain.specs import CompetitionSpec


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
    return round_money((recurring * term_years(first_day, last_day) + one_off) * places)


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
    voluntary = (
        f"a voluntary standstill of {regime.standstill_days} working days beginning with the "
        f"day the contract award notice is published ({regime.standstill_source})"
        if regime.standstill_working_days
        else "a voluntary standstill"
    )
    if scheme.voluntary_standstill:
        return StandstillDecision(True, f"the scheme applies {voluntary} to every call-off")
    if not (kind is CompetitionKind.BLOCK and scheme.standstill_blocks_above_threshold):
        return StandstillDecision(False, f"{kind} call-off: {regime.standstill_source}")
    threshold = light_touch_threshold(awarded_on)
    if value < threshold.value:
        return StandstillDecision(False, f"block below the £{threshold.value} threshold")
    block = f"block at or above the light-touch threshold £{threshold.value} ({threshold.source})"
    if regime.standstill_working_days:
        block = f"{block}: {voluntary}"
    return StandstillDecision(True, block)


def standstill_end(sent_on: date, days: int, *, working_days: bool = False) -> datetime:
    """End of standstill. PCR 2015 reg 87: end of the ``days``-th calendar day after the
    notices went, moved to the end of the next working day if that day is not one.
    Procurement Act 2023 s.51(2) (``working_days``): end of the last of ``days`` working
    days *beginning with* the day the notice is published (that day counts if it is a
    working day; England bank holidays are not working days)."""
    if working_days:
        return end_of_day(add_working_days(sent_on - timedelta(days=1), days))
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
            standstill_end(
                today,
                scheme.regime_rules.standstill_days,
                working_days=scheme.regime_rules.standstill_working_days,
            )
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
