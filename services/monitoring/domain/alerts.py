"""Alerts: raised once per cause, worked by officers (assign, acknowledge, resolve) and
escalated when a critical one goes unacknowledged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import model_validator

from services.monitoring.domain._records import (
    OUTCOME_MAX_LENGTH,
    _check_free_text,
    _Id,
    _Record,
    _require_aware,
)
from services.monitoring.domain.evidence import EvidenceKind
from services.monitoring.domain.rules import RuleMatch
from shared.contracts.quality_v1 import AlertTarget, Severity
from shared.errors import DomainError


class AlertStatus(StrEnum):
    """open -> acknowledged -> resolved. Open and acknowledged alerts are unresolved."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


def _officer(field: str, officer_id: str) -> str:
    if not officer_id.strip():
        raise DomainError(field, "must name a monitoring officer")
    return officer_id.strip()


class Alert(_Record):
    """A quality alert for monitoring officers. Transitions return a new Alert."""

    alert_id: _Id
    dedupe_key: str
    rule_id: str
    rule_version: int
    title: str
    severity: Severity
    target: AlertTarget
    target_id: str
    provider_id: str | None = None
    placement_id: str | None = None
    cause: str
    evidence_kind: EvidenceKind
    evidence_refs: tuple[str, ...] = ()
    raised_at: datetime
    status: AlertStatus = AlertStatus.OPEN
    assigned_to: str | None = None
    assigned_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    outcome: str | None = None
    escalated_at: datetime | None = None
    escalated_to: str | None = None

    @model_validator(mode="after")
    def _times_are_aware(self) -> Self:
        _require_aware("raised_at", self.raised_at)
        return self

    @property
    def is_unresolved(self) -> bool:
        return self.status is not AlertStatus.RESOLVED

    def _check_now(self, now: datetime) -> None:
        _require_aware("now", now)
        if now < self.raised_at:
            raise DomainError("now", "must not be before the alert was raised")

    def _refuse_if_resolved(self, action: str) -> None:
        if self.status is AlertStatus.RESOLVED:
            raise DomainError("status", f"a resolved alert cannot be {action}")

    def assign(self, officer_id: str, now: datetime) -> Alert:
        """Give the alert to a monitoring officer (re-assigning is allowed)."""
        self._check_now(now)
        self._refuse_if_resolved("assigned")
        officer = _officer("officer_id", officer_id)
        return self.model_copy(update={"assigned_to": officer, "assigned_at": now})

    def acknowledge(self, officer_id: str, now: datetime) -> Alert:
        """An officer takes ownership; stops escalation. Only from open."""
        self._check_now(now)
        self._refuse_if_resolved("acknowledged")
        if self.status is AlertStatus.ACKNOWLEDGED:
            raise DomainError("status", "the alert is already acknowledged")
        officer = _officer("officer_id", officer_id)
        update: dict[str, Any] = {
            "status": AlertStatus.ACKNOWLEDGED,
            "acknowledged_by": officer,
            "acknowledged_at": now,
        }
        if self.assigned_to is None:  # whoever acknowledges an unassigned alert owns it
            update |= {"assigned_to": officer, "assigned_at": now}
        return self.model_copy(update=update)

    def resolve(self, officer_id: str, outcome: str, now: datetime) -> Alert:
        """Close an acknowledged alert with an outcome saying what was done."""
        self._check_now(now)
        self._refuse_if_resolved("resolved again")
        if self.status is not AlertStatus.ACKNOWLEDGED:
            raise DomainError("status", "acknowledge the alert before resolving it")
        officer = _officer("officer_id", officer_id)
        text = outcome.strip()
        if not text:
            raise DomainError("outcome", "resolving an alert needs an outcome")
        try:
            text = _check_free_text(text, OUTCOME_MAX_LENGTH)
        except ValueError as exc:
            raise DomainError("outcome", str(exc)) from None
        return self.model_copy(
            update={
                "status": AlertStatus.RESOLVED,
                "resolved_by": officer,
                "resolved_at": now,
                "outcome": text,
            }
        )

    def escalate(self, now: datetime, escalated_to: str | None = None) -> Alert:
        """Record escalation (once); see `needs_escalation` for when."""
        self._check_now(now)
        self._refuse_if_resolved("escalated")
        if self.escalated_at is not None:
            raise DomainError("escalated_at", "the alert is already escalated")
        return self.model_copy(update={"escalated_at": now, "escalated_to": escalated_to})

    def with_evidence(self, evidence_ref: str) -> Alert:
        """Add further evidence of the same cause to an unresolved alert (idempotent)."""
        if evidence_ref in self.evidence_refs:
            return self
        return self.model_copy(update={"evidence_refs": (*self.evidence_refs, evidence_ref)})


def raise_alert(
    match: RuleMatch, *, alert_id: str, now: datetime, open_alerts: Iterable[Alert]
) -> Alert | None:
    """A new open alert for `match`, or None while an unresolved one has its dedupe key."""
    _require_aware("now", now)
    key = match.dedupe_key
    if any(a.dedupe_key == key and a.is_unresolved for a in open_alerts):
        return None
    return Alert(
        alert_id=alert_id,
        dedupe_key=key,
        rule_id=match.rule_id,
        rule_version=match.rule_version,
        title=match.title,
        severity=match.severity,
        target=match.target,
        target_id=match.target_id,
        provider_id=match.provider_id,
        placement_id=match.placement_id,
        cause=match.cause,
        evidence_kind=match.evidence_kind,
        evidence_refs=(match.evidence_ref,),
        raised_at=now,
    )


def raise_alerts(
    matches: Iterable[RuleMatch],
    *,
    open_alerts: Iterable[Alert],
    now: datetime,
    new_alert_id: Callable[[RuleMatch], str],
) -> list[Alert]:
    """Alerts to open for a batch of matches, deduplicated also within the batch."""
    known = [a for a in open_alerts if a.is_unresolved]
    raised: list[Alert] = []
    for match in matches:
        alert = raise_alert(match, alert_id=new_alert_id(match), now=now, open_alerts=known)
        if alert is not None:
            raised.append(alert)
            known.append(alert)
    return raised


def escalation_deadline(
    alert: Alert,
    working_day_deadline: Callable[[datetime, int], datetime],
    working_days: int = 1,
) -> datetime:
    """When an unacknowledged critical alert escalates: "within N working days" of being
    raised, in the project's London convention (`shared.working_days`): the raising day
    never counts and the period ends at the *end* of the N-th working day after it in
    Europe/London (an exclusive instant). So 1 working day means the end of the next
    working day: raised Friday 15:00 -> escalates at Tuesday 00:00 London time.

    Takes the calendar function as a parameter so this layer needs no calendar.
    """
    if working_days < 1:
        raise DomainError("working_days", "must be at least 1")
    return working_day_deadline(alert.raised_at, working_days)


def needs_escalation(alert: Alert, now: datetime, deadline: datetime) -> bool:
    """True when a critical alert is still open (unacknowledged) at or after `deadline`
    and has not been escalated yet."""
    _require_aware("now", now)
    _require_aware("deadline", deadline)
    return (
        alert.severity is Severity.CRITICAL
        and alert.status is AlertStatus.OPEN
        and alert.escalated_at is None
        and now >= deadline
    )
