"""E-mail notifications to providers' people (issue 15): the kinds a person may choose,
the rules of a subscription, and what each e-mail says. Pure: no I/O.

An e-mail leaves the council's systems, so it says only what happened and links into the
provider portal, where the person signs in to see the details. It never carries a child's
data (UK GDPR Art. 5(1)(c) data minimisation, Art. 9 for needs): no need reference, no
placement, no name, no price; only the call-off's or application's own id.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.errors import DomainError, RulesBroken


@dataclass(frozen=True)
class NotificationKind:
    """One kind of e-mail a person may choose, and the events that cause it."""

    code: str
    title: str  # what the person ticks in the portal
    hint: str
    events: tuple[str, ...]  # procurement.v1 event types; empty: not published yet
    source: str  # why the provider is told at all (the law or the scheme's terms)


# Kinds as data. `events` names procurement.v1 types (shared/contracts/procurement_v1.py);
# a kind whose event does not exist yet is offered but stays silent until it does.
KINDS: tuple[NotificationKind, ...] = (
    NotificationKind(
        code="invitation",
        title="Invitations to call-offs",
        hint="When your organisation is invited to bid in a call-off competition.",
        events=("procurement.provider.invited",),
        source="PCR 2015 reg 34(21)-(22): every admitted member of the category is invited "
        "to tender for each call-off.",
    ),
    NotificationKind(
        code="deadline",
        title="Deadlines approaching",
        hint="A reminder before the bid deadline of a call-off you were invited to, "
        "unless your organisation has already bid.",
        events=("procurement.provider.invited",),
        source="PCR 2015 reg 34(21)-(22) and the scheme's time limits for call-off bids "
        "(a courtesy reminder; the invitation itself is the notice).",
    ),
    NotificationKind(
        code="clarification",
        title="Clarification answers",
        hint="When the council answers a clarification question on a call-off.",
        events=("procurement.clarification.answered",),
        source="PCR 2015 reg 18 (equal treatment and transparency): answers to "
        "clarification questions are shared with every invited provider.",
    ),
    NotificationKind(
        code="decision",
        title="Application decisions",
        hint="When the council decides your organisation's application to join a DPS.",
        events=("procurement.application.decided",),
        source="PCR 2015 reg 34 (admission to the DPS; the applicant is told the outcome) "
        "and reg 55 (informing candidates).",
    ),
    NotificationKind(
        code="award",
        title="Awards and outcomes",
        hint="When a call-off your organisation bid in is awarded.",
        events=("procurement.competition.awarded",),
        source="PCR 2015 reg 55(2) and reg 86 (the outcome and standstill notice to every bidder).",
    ),
)
KIND_CODES: tuple[str, ...] = tuple(kind.code for kind in KINDS)
KIND_BY_CODE: dict[str, NotificationKind] = {kind.code: kind for kind in KINDS}

# Deadline reminders go this long before a bid deadline (MonitoringSettings overrides).
DEFAULT_REMINDER_LEAD = timedelta(hours=48)

EMAIL_MAX = 254  # RFC 5321 path limit
# Deliberately plain: one @, a dot in the domain, no spaces, angle brackets or control
# characters (header injection; PostgreSQL refuses NUL in text). Whether the mailbox exists only sending can tell.
_EMAIL = re.compile(
    r"^[^@\s<>,;\"\x00-\x1f\x7f]+@[^@\s<>,;\"\x00-\x1f\x7f]+\.[^@\s<>,;\".\x00-\x1f\x7f]+$"
)


@dataclass(frozen=True)
class Preferences:
    """What one person chose: where to write and which kinds."""

    email: str | None
    kinds: tuple[str, ...]


def valid_preferences(email: str | None, kinds: list[str]) -> Preferences:
    """The person's choice, checked; every broken rule is named (422 {field, rule})."""
    problems: list[DomainError] = []
    address = (email or "").strip() or None
    if address is not None and (len(address) > EMAIL_MAX or not _EMAIL.match(address)):
        problems.append(DomainError("email", "must be an e-mail address like name@example.org"))
    unknown = sorted({kind for kind in kinds if kind not in KIND_BY_CODE})
    if unknown:
        problems.append(
            DomainError("kinds", f"unknown kind {', '.join(unknown)}: one of {KIND_CODES}")
        )
    if kinds and address is None:
        problems.append(DomainError("email", "is required to receive e-mails"))
    if problems:
        raise RulesBroken(problems)
    chosen = tuple(code for code in KIND_CODES if code in kinds)  # table order, no repeats
    return Preferences(email=address, kinds=chosen)


@dataclass(frozen=True)
class Message:
    """One e-mail's words: a subject and a plain-text body that ends with the link."""

    subject: str
    body: str


def _body(what: str, link: str) -> str:
    """Short lines (readable as plain text, no quoted-printable), the link on its own."""
    return "\n".join(
        [
            textwrap.fill(what, 72),
            "",
            "Sign in to the provider portal to see the details:",
            link,
            "",
            textwrap.fill(
                "You receive this because you chose these e-mails in the portal's "
                "notification settings. This e-mail holds no personal data about any child.",
                72,
            ),
        ]
    )


def invitation(competition_id: str, deadline_at: datetime, link: str) -> Message:
    return Message(
        subject=f"Invitation to bid: call-off {competition_id}",
        body=_body(
            f"Your organisation is invited to bid in call-off {competition_id}. "
            f"Bids close at {_when(deadline_at)}.",
            link,
        ),
    )


def deadline_reminder(competition_id: str, deadline_at: datetime, link: str) -> Message:
    return Message(
        subject=f"Bid deadline approaching: call-off {competition_id}",
        body=_body(
            f"Bids for call-off {competition_id} close at {_when(deadline_at)}. "
            "Your organisation has not bid yet.",
            link,
        ),
    )


def clarification_answered(competition_id: str, link: str) -> Message:
    return Message(
        subject=f"Clarification answered: call-off {competition_id}",
        body=_body(
            f"The council answered a clarification question on call-off {competition_id}.",
            link,
        ),
    )


def application_decided(application_id: str, link: str) -> Message:
    return Message(
        subject="Your application to join a DPS has been decided",
        body=_body(
            f"The council has decided your organisation's application {application_id}.",
            link,
        ),
    )


def award_outcome(competition_id: str, won: bool, link: str) -> Message:
    what = (
        f"Call-off {competition_id} has been awarded to your organisation."
        if won
        else f"Call-off {competition_id} has been awarded. See the outcome for your bid."
    )
    return Message(subject=f"Outcome of call-off {competition_id}", body=_body(what, link))


def reminder_due_at(
    invited_at: datetime, deadline_at: datetime, lead: timedelta
) -> datetime | None:
    """When to remind: `lead` before the deadline, never before the invitation; None when
    the whole bid window is shorter than the lead (the invitation said it all)."""
    due = deadline_at - lead
    return due if due > invited_at else None


def _when(instant: datetime) -> str:
    return instant.strftime("%d %B %Y %H:%M %Z").strip()


def portal_link(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path
