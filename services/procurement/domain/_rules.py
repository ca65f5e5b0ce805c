"""Shared by every concept module: the rule names, the one error raised, and small helpers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum

from shared.errors import Conflict, DomainError
from shared.working_days import london_date


class Rule(StrEnum):
    """Machine-readable name of the rule a request broke (a 422; a 409 for STATE_RULES)."""

    REQUIRED = "required"
    OUT_OF_RANGE = "out_of_range"
    DUPLICATE = "duplicate"
    UNKNOWN = "unknown"
    MISMATCH = "mismatch"
    INVALID_TRANSITION = "invalid_transition"
    REGIME_NOT_SUPPORTED = "regime_not_supported"
    SCHEME_NOT_OPEN = "scheme_not_open"
    TERM_ENDED = "term_ended"
    TERM_NOT_STARTED = "term_not_started"
    EXTENSION_NOT_AVAILABLE = "extension_not_available"
    ALREADY_MEMBER = "already_member"
    ALREADY_DECIDED = "already_decided"
    EXTENSION_ALREADY_USED = "extension_already_used"
    EXTENSION_AFTER_DEADLINE = "extension_after_deadline"
    ASSESSMENT_MISSING = "assessment_missing"
    PROVIDER_NOT_ACTIVE = "provider_not_active"
    DOCUMENT_MISSING = "document_missing"
    DOCUMENT_EXPIRED = "document_expired"
    FILTER_OUTSIDE_CATEGORY = "filter_outside_category"
    WEIGHTS_MUST_SUM_TO_100 = "weights_must_sum_to_100"
    DEADLINE_IN_PAST = "deadline_in_past"
    DEADLINE_AFTER_TERM = "deadline_after_term"
    TENDER_PERIOD_TOO_SHORT = "tender_period_too_short"
    COMPETITION_NOT_OPEN = "competition_not_open"
    DEADLINE_NOT_REACHED = "deadline_not_reached"
    BID_LATE = "bid_late"
    NOT_INVITED = "not_invited"
    MEMBER_NOT_ACTIVE = "member_not_active"
    BID_MALFORMED = "bid_malformed"
    NO_COMPLIANT_BID = "no_compliant_bid"
    BID_SET_ASIDE = "bid_set_aside"
    NO_LOWER_TIER = "no_lower_tier"
    WEEKS_NOT_CONTRACTABLE = "weeks_not_contractable"
    FILTER_NOT_PERMITTED = "filter_not_permitted"
    AWARD_CRITERIA_MISMATCH = "award_criteria_mismatch"
    REGIME_CLOSED_TO_NEW_SCHEMES = "regime_closed_to_new_schemes"
    LONG_STOP_PASSED = "long_stop_passed"
    SCHEME_SUSPENDED = "scheme_suspended"
    DECLARATION_ALREADY_ANSWERED = "declaration_already_answered"
    APPROVER_SCORED_BID = "approver_scored_bid"
    AMENDMENT_REFUSED = "amendment_refused"
    CLARIFICATIONS_CLOSED = "clarifications_closed"
    CLARIFICATION_ALREADY_ANSWERED = "clarification_already_answered"
    ANSWER_AFTER_DEADLINE = "answer_after_deadline"
    WITHDRAWAL_AFTER_DEADLINE = "withdrawal_after_deadline"
    NO_LIVE_BID = "no_live_bid"
    REPLY_BY_PASSED = "reply_by_passed"
    APPLICATION_CLARIFICATION_ANSWERED = "application_clarification_answered"


# Rules that clash with the current state rather than with the request: the domain
# raises them as ``Conflict`` (409); every other broken rule is a ``DomainError`` (422).
STATE_RULES: frozenset[Rule] = frozenset(
    {
        Rule.INVALID_TRANSITION,
        Rule.ALREADY_DECIDED,
        Rule.ALREADY_MEMBER,
        Rule.EXTENSION_ALREADY_USED,
        Rule.COMPETITION_NOT_OPEN,
        Rule.APPROVER_SCORED_BID,
        Rule.AMENDMENT_REFUSED,
        Rule.CLARIFICATIONS_CLOSED,
        Rule.CLARIFICATION_ALREADY_ANSWERED,
        Rule.ANSWER_AFTER_DEADLINE,
        Rule.WITHDRAWAL_AFTER_DEADLINE,
        Rule.NO_LIVE_BID,
        Rule.REPLY_BY_PASSED,
        Rule.APPLICATION_CLARIFICATION_ANSWERED,
    }
)


def rule_broken(field: str, rule: Rule, message: str) -> DomainError:
    """The error for a broken rule: ``Conflict`` for a state rule, else ``DomainError``."""
    error = (Conflict if rule in STATE_RULES else DomainError)(field, rule, message)
    error.rule = rule  # keep the member itself, so callers may test ``rule is Rule.X``
    return error


def _require(condition: bool, field: str, rule: Rule, message: str) -> None:
    if not condition:
        raise rule_broken(field, rule, message)


def _require_text(value: str | None, field: str) -> str:
    _require(bool(value and value.strip()), field, Rule.REQUIRED, f"{field} is required")
    assert value is not None
    return value.strip()


def _today(now: datetime) -> date:
    return london_date(now)


def _validate_unique(codes: Sequence[str], field: str) -> None:
    for code in codes:
        _require_text(code, field)
    _require(len(set(codes)) == len(codes), field, Rule.DUPLICATE, f"duplicate {field}")
