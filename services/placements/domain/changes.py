"""Placements: variations, uplifts, renewal and declined renewal of an IPA."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_UP, Decimal

from services.placements.domain._rules import (
    MAX_UPLIFT_PERCENT,
    MAX_WEEKLY_CORE_FEE,
    UPLIFT_CAP_PERCENT,
    UPLIFT_CAP_WINDOW_YEARS,
    _require,
    _require_aware,
    _require_later_term_end,
    _require_text,
    add_years,
    statutory_review_latest,
)
from services.placements.domain.fees import (
    FeeChange,
    FeeChangeKind,
    SupportItem,
    _check_money,
    _check_support,
)
from services.placements.domain.placements import (
    Placement,
    _drop_reviews_after,
    _require_active,
    _require_not_closed,
    _transition,
    _with_review,
)
from services.placements.domain.reviews import (
    open_reviews,
)
from shared.contracts.placements_v1 import (
    PlacementStatus,
    UpliftDecision,
)
from shared.fiscal import (
    PENNY,
)


def _require_in_term(placement: Placement, effective_from: date) -> None:
    _require(
        effective_from >= placement.start_date,
        "effective_from",
        "before_start",
        "effective date is before the placement start",
    )
    last_day = placement.last_day
    _require(
        last_day is None or effective_from <= last_day,
        "effective_from",
        "after_end",
        "effective date is after the placement ends",
    )


def vary_placement(
    placement: Placement,
    effective_from: date,
    by: str,
    at: datetime,
    reason: str,
    weekly_core_fee: Decimal | None = None,
    additional_support: tuple[SupportItem, ...] | None = None,
    ref: str | None = None,
) -> Placement:
    """A variation: new core fee and/or support items from an effective date (not before start).

    ``additional_support`` replaces the whole list (pass the items that remain).
    """
    _require_not_closed(placement)
    _require_text(by, "by")
    _require_text(reason, "reason")
    _require_aware(at)
    _require_in_term(placement, effective_from)
    _require(
        weekly_core_fee is not None or additional_support is not None,
        "weekly_core_fee",
        "nothing_to_vary",
        "a variation changes the core fee or the support",
    )
    if weekly_core_fee is not None:
        _check_money(weekly_core_fee, "weekly_core_fee", MAX_WEEKLY_CORE_FEE)
    if additional_support is not None:
        _check_support(additional_support)
    change = FeeChange(
        effective_from=effective_from,
        kind=FeeChangeKind.VARIATION,
        by=by,
        at=at,
        reason=reason,
        core=weekly_core_fee,
        support=additional_support,
        ref=ref,
    )
    return replace(placement, fee_history=(*placement.fee_history, change))


@dataclass(frozen=True, slots=True)
class UpliftRequest:
    """A provider's request for a fee uplift, and the commissioner's decision."""

    uplift_id: str
    placement_id: str
    requested_percent: Decimal
    cap_percent: Decimal
    effective_from: date
    requested_by: str
    requested_at: datetime
    reason: str | None = None
    decision: UpliftDecision | None = None
    approved_percent: Decimal | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None

    # Compounded uplift over the worst 12 months containing this one (with earlier
    # approved and pending uplifts); None on rows recorded before the rule.
    cumulative_percent: Decimal | None = None

    @property
    def above_cap(self) -> bool:
        """More than the cap, alone or with the other uplifts of any 12 months containing it
        (so a reason was required)."""
        cumulative = self.cumulative_percent or self.requested_percent
        return max(cumulative, self.requested_percent) > self.cap_percent


def uplifts_counted(
    placement: Placement, others: Sequence[UpliftRequest] = ()
) -> list[tuple[date, Decimal]]:
    """(effective date, percent) of the uplifts that count against the cap: approved ones
    (from the fee history) and requests still pending; rejected ones do not count."""
    approved = [
        (c.effective_from, c.uplift_percent)
        for c in placement.fee_history
        if c.kind is FeeChangeKind.UPLIFT and c.uplift_percent is not None
    ]
    pending = [
        (u.effective_from, u.requested_percent)
        for u in others
        if u.decision is None and u.placement_id == placement.placement_id
    ]
    return approved + pending


def cumulative_uplift_percent(
    uplifts: Sequence[tuple[date, Decimal]], effective_from: date, percent: Decimal
) -> Decimal:
    """The largest compounded uplift over any 12-month window that contains a new uplift of
    ``percent`` effective ``effective_from``, with ``uplifts`` (unrounded).

    A window is [start, start + 12 months); the worst window containing the new uplift
    starts at an uplift within the 12 months before it, or at the new uplift itself.
    """
    starts = {e for e, _ in uplifts if e <= effective_from < add_years(e, UPLIFT_CAP_WINDOW_YEARS)}
    worst = percent
    for start in starts | {effective_from}:
        end = add_years(start, UPLIFT_CAP_WINDOW_YEARS)
        factor = (100 + percent) / 100
        for e, p in uplifts:
            if start <= e < end:
                factor *= (100 + p) / 100
        worst = max(worst, (factor - 1) * 100)
    return worst


def _check_percent(value: Decimal, field: str) -> None:
    _require(value.is_finite(), field, "not_a_number", f"{field} must be a number")
    _require(value > 0, field, "not_positive", f"{field} must be more than 0")
    _require(
        value <= MAX_UPLIFT_PERCENT,
        field,
        "above_limit",
        f"{field} above the {MAX_UPLIFT_PERCENT}% limit",
    )
    _require(
        value == value.quantize(PENNY), field, "too_precise", f"{field}: at most 2 decimal places"
    )


def request_uplift(
    placement: Placement,
    uplift_id: str,
    requested_percent: Decimal,
    effective_from: date,
    requested_by: str,
    requested_at: datetime,
    reason: str | None = None,
    cap_percent: Decimal = UPLIFT_CAP_PERCENT,
    others: Sequence[UpliftRequest] = (),
) -> UpliftRequest:
    """A fee uplift request; above the cap it must give a reason.

    The cap is cumulative: with the approved uplifts and the pending requests (``others``)
    of any 12 months containing this one, compounded, more than the cap needs a reason,
    however the increase is split.
    """
    _require_not_closed(placement)
    _require_text(requested_by, "requested_by")
    _require_aware(requested_at, "requested_at")
    _check_percent(requested_percent, "requested_percent")
    _require_in_term(placement, effective_from)
    counted = uplifts_counted(placement, others)
    cumulative = cumulative_uplift_percent(counted, effective_from, requested_percent)
    _require(
        cumulative <= cap_percent or bool(reason and reason.strip()),
        "reason",
        "reason_required_above_cap",
        f"uplifts within 12 months come to {cumulative.quantize(PENNY)}% compounded: "
        f"above {cap_percent}% they need a reason",
    )
    return UpliftRequest(
        uplift_id=uplift_id,
        placement_id=placement.placement_id,
        requested_percent=requested_percent,
        cap_percent=cap_percent,
        effective_from=effective_from,
        requested_by=requested_by,
        requested_at=requested_at,
        reason=reason,
        # Rounded up, so a sliver above the cap still reads as above it.
        cumulative_percent=cumulative.quantize(Decimal("0.0001"), rounding=ROUND_UP),
    )


def decide_uplift(
    placement: Placement,
    uplift: UpliftRequest,
    decision: UpliftDecision,
    decided_by: str,
    decided_at: datetime,
    reason: str | None = None,
    approved_percent: Decimal | None = None,
) -> tuple[Placement, UpliftRequest]:
    """The commissioner approves (possibly a lower %) or rejects (with a reason) an uplift.

    An approval adds a fee-history entry from the uplift's effective date; the uplift
    applies to the weekly core fee (support items are itemised and varied separately).
    """
    _require_text(decided_by, "decided_by")
    _require_aware(decided_at, "decided_at")
    _require(
        uplift.placement_id == placement.placement_id,
        "uplift_id",
        "uplift_for_other_placement",
        "uplift belongs to another placement",
    )
    _require(
        uplift.decision is None, "uplift_id", "uplift_already_decided", "uplift already decided"
    )
    decided = replace(
        uplift,
        decision=decision,
        decided_by=decided_by,
        decided_at=decided_at,
        decision_reason=reason,
    )
    if decision == UpliftDecision.REJECTED:
        _require_text(reason or "", "reason")
        return placement, decided
    _require_not_closed(placement)
    percent = uplift.requested_percent if approved_percent is None else approved_percent
    _check_percent(percent, "approved_percent")
    _require(
        percent <= uplift.requested_percent,
        "approved_percent",
        "above_requested",
        "cannot approve more than was requested",
    )
    _require_in_term(placement, uplift.effective_from)
    change = FeeChange(
        effective_from=uplift.effective_from,
        kind=FeeChangeKind.UPLIFT,
        by=decided_by,
        at=decided_at,
        reason=reason or f"uplift {uplift.uplift_id} approved",
        uplift_percent=percent,
        ref=uplift.uplift_id,
    )
    uplifted = replace(placement, fee_history=(*placement.fee_history, change))
    _check_money(
        uplifted.fee_on(uplift.effective_from).core, "approved_percent", MAX_WEEKLY_CORE_FEE
    )
    return uplifted, replace(decided, approved_percent=percent)


def renew_placement(
    placement: Placement, new_term_end: date, by: str, at: datetime, reason: str
) -> Placement:
    """Extend an active placement's term (recorded as active -> active with who/when/why)."""
    _require_active(
        placement, f"only an active placement is renewed (it is {placement.status.value})"
    )
    _require_later_term_end(new_term_end, placement.term_end)
    renewed = _transition(
        placement,
        PlacementStatus.ACTIVE,
        by,
        at,
        f"renewed to {new_term_end.isoformat()}: {reason}",
        term_end=new_term_end,
    )
    if not open_reviews(renewed):
        held = [r.completed_on or r.due_on for r in renewed.reviews]
        if held:  # within 12 months of the last review held (CFA 2014 s.44)
            latest = statutory_review_latest(max(held))
            renewed = _with_review(renewed, latest, latest)
    return renewed


def decline_renewal(
    placement: Placement, decided_on: date, by: str, at: datetime, reason: str
) -> Placement:
    """active -> ending at term end: the council will not renew."""
    _require_active(placement, f"placement is {placement.status.value}")
    ending = _transition(
        placement,
        PlacementStatus.ENDING,
        by,
        at,
        reason,
        notice_given_on=decided_on,
        end_date=placement.term_end,
    )
    return _drop_reviews_after(ending, placement.term_end)
