"""Bids: offers, submission, withdrawal, and bids set aside for a member not in good standing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from services.procurement.domain._rules import Rule, _require, _require_text, _today
from services.procurement.domain.competitions import CompetitionStatus, _require_status
from services.procurement.domain.memberships import MembershipStatus
from shared.contracts.procurement_v1 import (
    CONTRACTABLE_WEEKS_PER_YEAR,
    WEEKS_PER_YEAR_FOR_ATTENDANCE,
)
from shared.fiscal import PENNY, round_money

if TYPE_CHECKING:
    from services.procurement.domain.competitions import Competition
    from services.procurement.domain.memberships import Membership


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
        return round_money(self.core_fee / self.weeks_per_year)

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
    return x.is_finite() and x == x.quantize(PENNY)


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


@dataclass(frozen=True, slots=True)
class NonCompliantBid:
    """A bid set aside before scoring, with the reason given to the provider."""

    bid_id: str
    provider_id: str
    reason: str


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
