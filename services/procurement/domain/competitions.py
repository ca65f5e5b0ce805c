"""Call-off competitions: specs, screening, invitations, tiers and deadlines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from services.procurement.domain._rules import Rule, _require, _require_text, _today
from services.procurement.domain.memberships import MembershipStatus, document_problems
from services.procurement.domain.schemes import _require_accepts_call_offs
from services.procurement.domain.specs import CompetitionKind, _validate_spec
from shared.working_days import london_date

if TYPE_CHECKING:
    from services.procurement.domain.memberships import (
        ComplianceDocument,
        Membership,
        ProviderSnapshot,
    )
    from services.procurement.domain.schemes import Lot, Scheme
    from services.procurement.domain.specs import CompetitionSpec, FilterCriteria


# ------------------------------------------------------------------ competitions


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


def _stated(reason: str | None) -> str | None:
    """A reason with its blanks trimmed, or None when none was given."""
    return reason.strip() if reason and reason.strip() else None


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
    urgent = _stated(urgent_reason)
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
    urgent = _stated(urgent_reason)
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
