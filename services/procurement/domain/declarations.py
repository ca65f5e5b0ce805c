"""Renewed self-declarations asked of members."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from services.procurement.domain._rules import Rule, _require, _require_text
from services.procurement.domain.memberships import MembershipStatus
from services.procurement.domain.schemes import SchemeStatus
from shared.working_days import (
    add_working_days,
    end_of_day,
    london_date,
)

if TYPE_CHECKING:
    from services.procurement.domain.memberships import Membership
    from services.procurement.domain.schemes import Scheme


# ------------------------------------------------ renewed self-declarations

SELF_DECLARATION_WORKING_DAYS = 5
SELF_DECLARATION_SOURCE = (
    "PCR 2015 reg 34(25): the authority may at any time during the DPS require an admitted "
    "participant to submit a renewed and updated self-declaration within 5 working days "
    "from the date on which the request is transmitted"
)


@dataclass(frozen=True, slots=True)
class SelfDeclarationRequest:
    """A commissioner's request to a member for a renewed self-declaration."""

    request_id: str
    scheme_id: str
    provider_id: str
    requested_by: str
    requested_at: datetime
    reason: str = ""
    answered_by: str | None = None
    answered_at: datetime | None = None
    declaration: Mapping[str, str] = field(default_factory=dict)

    @property
    def due_on(self) -> date:
        """Last working day to answer: 5 working days after the day it was sent."""
        return add_working_days(london_date(self.requested_at), SELF_DECLARATION_WORKING_DAYS)

    @property
    def due_at(self) -> datetime:
        return end_of_day(self.due_on)

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def answered_late(self) -> bool:
        return self.answered_at is not None and self.answered_at >= self.due_at


def request_self_declaration(
    scheme: Scheme,
    memberships: Iterable[Membership],
    *,
    request_id: str,
    provider_id: str,
    by: str,
    reason: str = "",
    now: datetime,
) -> SelfDeclarationRequest:
    """Ask a member (active or suspended) of the scheme for a renewed self-declaration."""
    _require_text(request_id, "request_id")
    by = _require_text(by, "by")
    _require(scheme.status is not SchemeStatus.CLOSED, "scheme_id", Rule.SCHEME_NOT_OPEN, "closed")
    member = any(
        m.provider_id == provider_id
        and m.scheme_id == scheme.scheme_id
        and m.status is not MembershipStatus.ENDED
        for m in memberships
    )
    _require(member, "provider_id", Rule.MEMBER_NOT_ACTIVE, "not a member of the scheme")
    return SelfDeclarationRequest(
        request_id, scheme.scheme_id, provider_id, by, now, (reason or "").strip()
    )


def answer_self_declaration(
    request: SelfDeclarationRequest,
    *,
    provider_id: str,
    declaration: Mapping[str, str],
    now: datetime,
) -> SelfDeclarationRequest:
    """The member's renewed declaration (once); a late answer is kept and shown late."""
    _require(provider_id == request.provider_id, "provider_id", Rule.MISMATCH, "not your request")
    _require(
        not request.answered,
        "request_id",
        Rule.DECLARATION_ALREADY_ANSWERED,
        "the declaration was already given",
    )
    _require(bool(declaration), "declaration", Rule.REQUIRED, "the declaration is empty")
    for key, value in declaration.items():
        _require_text(value, f"declaration.{key}")
    return replace(request, answered_by=provider_id, answered_at=now, declaration=dict(declaration))


def self_declaration_overdue(request: SelfDeclarationRequest, now: datetime) -> bool:
    """Unanswered once its fifth working day has ended (escalate)."""
    return not request.answered and now >= request.due_at
