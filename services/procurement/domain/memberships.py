"""Providers, compliance documents and memberships."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from services.procurement.domain._rules import Rule, _require, _require_text, rule_broken
from shared.contracts.common import Attendance, NeedType

if TYPE_CHECKING:
    from services.procurement.domain.schemes import DocumentKind, Scheme


# ------------------------------------------------------ providers and compliance


@dataclass(frozen=True, slots=True)
class GridPoint:
    """British National Grid position in metres (distances in GB are Euclidean)."""

    easting: float
    northing: float

    def distance_km(self, other: GridPoint) -> float:
        return math.hypot(self.easting - other.easting, self.northing - other.northing) / 1000


@dataclass(frozen=True, slots=True)
class ProviderSnapshot:
    """What procurement knows of a provider from ``providers.v1`` (the register)."""

    provider_id: str
    active: bool
    need_types: frozenset[NeedType] = frozenset()
    attendance: frozenset[Attendance] = frozenset()
    age_low: int | None = None
    age_high: int | None = None
    location: GridPoint | None = None


@dataclass(frozen=True, slots=True)
class ComplianceDocument:
    """A provider's document; valid up to and including ``expires_on`` (None: no expiry)."""

    kind: DocumentKind
    expires_on: date | None = None
    reference: str = ""


@dataclass(frozen=True, slots=True)
class DocumentProblem:
    """A required document that is missing or expired on the day checked."""

    kind: DocumentKind
    rule: Rule
    message: str


def document_problems(
    required: Iterable[DocumentKind], documents: Iterable[ComplianceDocument], today: date
) -> tuple[DocumentProblem, ...]:
    """Missing or expired required documents, in a stable order, each naming the kind."""
    best: dict[DocumentKind, ComplianceDocument] = {}
    for doc in documents:
        held = best.get(doc.kind)
        if held is None or _outlasts(doc, held):
            best[doc.kind] = doc
    problems = []
    for kind in sorted(required):
        latest = best.get(kind)
        if latest is None:
            problems.append(DocumentProblem(kind, Rule.DOCUMENT_MISSING, f"{kind} is missing"))
        elif latest.expires_on is not None and latest.expires_on < today:
            message = f"{kind} expired on {latest.expires_on.isoformat()}"
            problems.append(DocumentProblem(kind, Rule.DOCUMENT_EXPIRED, message))
    return tuple(problems)


def _outlasts(a: ComplianceDocument, b: ComplianceDocument) -> bool:
    if b.expires_on is None:
        return False
    return a.expires_on is None or a.expires_on > b.expires_on


def require_admissible(
    scheme: Scheme,
    provider: ProviderSnapshot,
    documents: Iterable[ComplianceDocument],
    today: date,
) -> None:
    """Raise if the provider cannot be admitted now: inactive, or a document missing/expired."""
    _require(provider.active, "provider_id", Rule.PROVIDER_NOT_ACTIVE, "not active in the register")
    for problem in document_problems(scheme.required_documents, documents, today):
        raise rule_broken(f"documents.{problem.kind}", problem.rule, problem.message)


def age_on(date_of_birth: date, on: date) -> int:
    """Age in whole years on a date (for the age filter of an individual placement)."""
    had_birthday = (on.month, on.day) >= (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - (0 if had_birthday else 1)


# ------------------------------------------------------------------ memberships


class MembershipStatus(StrEnum):
    """active <-> suspended -> ended (ended is final)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Membership:
    """A provider admitted to one category of a scheme (in a lot, when tiered)."""

    scheme_id: str
    provider_id: str
    category_code: str
    lot_code: str | None
    quality_score: Decimal | None
    admitted_on: date
    application_id: str
    status: MembershipStatus = MembershipStatus.ACTIVE
    status_reason: str | None = None
    status_changed_by: str | None = None
    status_changed_on: date | None = None


def _membership_transition(
    m: Membership,
    allowed_from: set[MembershipStatus],
    to: MembershipStatus,
    reason: str,
    by: str,
    today: date,
) -> Membership:
    reason = _require_text(reason, "reason")
    by = _require_text(by, "by")
    _require(m.status in allowed_from, "status", Rule.INVALID_TRANSITION, f"{m.status} -> {to}")
    return replace(
        m, status=to, status_reason=reason, status_changed_by=by, status_changed_on=today
    )


def suspend_membership(m: Membership, reason: str, by: str, today: date) -> Membership:
    """Suspend an active member: no invitations or bids until reinstated."""
    return _membership_transition(
        m, {MembershipStatus.ACTIVE}, MembershipStatus.SUSPENDED, reason, by, today
    )


def reinstate_membership(m: Membership, reason: str, by: str, today: date) -> Membership:
    """Lift a suspension."""
    return _membership_transition(
        m, {MembershipStatus.SUSPENDED}, MembershipStatus.ACTIVE, reason, by, today
    )


def end_membership(m: Membership, reason: str, by: str, today: date) -> Membership:
    """End a membership for good; the provider may apply again later."""
    allowed = {MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED}
    return _membership_transition(m, allowed, MembershipStatus.ENDED, reason, by, today)
