"""Clarification questions on a call-off, and clarification requests on an application."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from services.procurement.domain._rules import Rule, _require, _require_text
from services.procurement.domain.competitions import CompetitionStatus, _require_status
from shared.working_days import (
    end_of_day,
    london_date,
)

if TYPE_CHECKING:
    from services.procurement.domain.applications import Application
    from services.procurement.domain.competitions import Competition


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
