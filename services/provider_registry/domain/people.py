"""People: self-registration, membership and invitations (issue 15)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from services.provider_registry.domain._rules import EMAIL_RE, IllegalTransition, check_text
from services.provider_registry.domain.providers import ProviderDraft, validate_draft
from shared.errors import DomainError, RulesBroken

# --- people: self-registration, membership, invitations (issue 15) --------------------
# A supplier's person signs in with role ``supplier`` (bound to no provider) and either
# claims a provider already on the register by its URN, or registers a new one. Either
# way a commissioner verifies the registration before the person is bound to a provider:
# anyone can type a URN, and only a verified provider may apply to or bid on the council's
# dynamic market (the council checks a supplier before admitting it: Procurement Act 2023
# ss.35-36, conditions of membership). The verified person becomes the organisation's
# administrator, who invites the others.


class RegistrationKind(StrEnum):
    CLAIM = "claim"  # "we are this provider on the register" (by URN)
    NEW = "new"  # a provider not yet on the register


class RegistrationStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class MemberRole(StrEnum):
    ADMINISTRATOR = "administrator"  # manages the organisation's people
    MEMBER = "member"


class MemberStatus(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"


# An invitation is a bearer secret: it is good for a fortnight, then the administrator
# sends another (a code forwarded long ago should not still open the account).
INVITATION_DAYS = 14
# Independent schools must be on the DfE register (Education and Skills Act 2008 s.96);
# the URN is that register's number (Get Information About Schools), so a provider
# goes on this register with one: a new provider without one gets it from the officer.
URN_NEEDED = "required to put a new provider on the register (its DfE URN)"
REASON_NEEDED = "must say why: the person is told the reason"


def validate_person(name: str, email: str) -> list[DomainError]:
    """The registering person's name and e-mail, which the council uses to check them."""
    errors = check_text("person_name", name)
    if not isinstance(email, str) or not EMAIL_RE.fullmatch(email.strip()):
        errors.append(DomainError("person_email", "must be an e-mail address"))
    return errors


def validate_new_provider(draft: ProviderDraft, urn_given: bool) -> list[DomainError]:
    """A new provider's details as its person enters them: every register rule, except
    that the URN may be left out (the officer supplies it when verifying)."""
    errors = validate_draft(draft)
    if not urn_given:
        errors = [e for e in errors if e.field != "urn"]
    return errors


def decide_registration(
    status: RegistrationStatus, verify: bool, reason: str
) -> RegistrationStatus:
    """The registration's status after an officer's decision; only a pending one may be
    decided (IllegalTransition), and a rejection must give its reason."""
    if status is not RegistrationStatus.PENDING:
        raise IllegalTransition("status", status, "decided again")
    if not verify and not (isinstance(reason, str) and reason.strip()):
        raise RulesBroken([DomainError("reason", REASON_NEEDED)])
    return RegistrationStatus.VERIFIED if verify else RegistrationStatus.REJECTED


def invitation_problem(
    expires_at: datetime, accepted_at: datetime | None, now: datetime
) -> str | None:
    """Why an invitation cannot be accepted now (None: it can)."""
    if accepted_at is not None:
        return "has been used already; ask your organisation's administrator for another"
    if now >= expires_at:
        return f"has expired (invitations last {INVITATION_DAYS} days); ask for another"
    return None


def invitation_expiry(now: datetime) -> datetime:
    return now + timedelta(days=INVITATION_DAYS)


# Someone must always be able to manage the organisation's people (invite, remove, hand
# over): without an administrator only the council could, by hand. So the last
# administrator can neither leave, be removed nor step down; they hand over first.
LAST_ADMINISTRATOR = (
    "the organisation must keep at least one administrator: make another person administrator first"
)


def people_change_problem(
    administrators: int, was_administrator: bool, stays_administrator: bool
) -> str | None:
    """Why removing a person, or changing their role, would break the one-administrator
    rule (None: it would not). `administrators` counts the active ones now."""
    if was_administrator and not stays_administrator and administrators <= 1:
        return LAST_ADMINISTRATOR
    return None
