"""Tracking notices due for publication (award and period-change notices)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from services.procurement.domain._rules import Rule, _require, _require_text
from shared.working_days import (
    end_of_day,
    london_date,
)

if TYPE_CHECKING:
    from services.procurement.domain.awards import AwardNotice
    from services.procurement.domain.schemes import Scheme


# ------------------------------------------------------------------ notice tracking


class NoticeKind(StrEnum):
    """Which notice. PCR 2015: a contract award notice (reg 50) or the notice of a change
    of the DPS period (reg 34(27)-(28)). Procurement Act 2023: the notices the central
    digital platform publishes (form codes UK4-UK16). All are tracked the same way; when
    each is owed, and why, is data in notice_rules.NOTICE_RULES."""

    # PCR 2015
    AWARD = "award"
    DPS_PERIOD_CHANGE = "dps_period_change"
    # Procurement Act 2023
    TENDER = "tender"
    TRANSPARENCY = "transparency"
    CONTRACT_AWARD = "contract_award"
    CONTRACT_DETAILS = "contract_details"
    CONTRACT_CHANGE = "contract_change"
    CONTRACT_TERMINATION = "contract_termination"
    PROCUREMENT_TERMINATION = "procurement_termination"
    DYNAMIC_MARKET_INTENTION = "dynamic_market_intention"
    DYNAMIC_MARKET_ESTABLISHMENT = "dynamic_market_establishment"
    DYNAMIC_MARKET_MODIFICATION = "dynamic_market_modification"
    DYNAMIC_MARKET_CESSATION = "dynamic_market_cessation"


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
