"""Use cases of a provider's people (issue 15): registrations, membership, invitations."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import replace
from datetime import date, datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.provider_registry import domain, store
from services.provider_registry.commands.providers import announce_registered
from services.provider_registry.models import (
    InvitationRow,
    MembershipRow,
    ProviderRow,
    RegistrationRow,
    draft_from_json,
    draft_to_json,
)
from shared import clock
from shared.contracts.providers_v1 import ProviderStatus
from shared.errors import Conflict, DomainError, NotFound, RulesBroken
from shared.unit_of_work import Actor, UnitOfWork

# --- people (issue 15) ------------------------------------------------------------------
# The registration, membership and invitation use cases. Each runs inside the caller's
# unit of work; a state clash is a Conflict (409) naming the field, bad input RulesBroken.


async def ensure_may_register(session: AsyncSession, subject: str) -> None:
    """One organisation per person, one registration awaiting the council at a time."""
    if await store.active_membership(session, subject) is not None:
        raise Conflict("person", "is a person of a provider already; sign in again to use it")
    pending = await session.exec(
        select(RegistrationRow.id).where(
            RegistrationRow.subject == subject,
            RegistrationRow.status == domain.RegistrationStatus.PENDING.value,
        )
    )
    if pending.first() is not None:
        raise Conflict("kind", "you have a registration awaiting the council's verification")


async def claimable(session: AsyncSession, urn: int) -> ProviderRow:
    """The provider on the register a person may claim by URN (422/409 otherwise)."""
    row = await store.provider_by_urn(session, urn)
    if row is None:
        raise RulesBroken(
            [DomainError("urn", "is not on the register; register a new provider instead")]
        )
    if row.status == ProviderStatus.REMOVED.value:
        raise RulesBroken([DomainError("urn", "is a provider removed from the register")])
    if await store.administrator_of(session, row.id) is not None:
        raise Conflict("urn", "has an administrator already: ask them to invite you")
    return row


def new_membership(
    subject: str,
    provider_id: str,
    role: domain.MemberRole,
    name: str,
    email: str,
    *,
    registration_id: str | None = None,
    invited_by: str | None = None,
) -> MembershipRow:
    return MembershipRow(
        subject=subject,
        provider_id=provider_id,
        role=role.value,
        status=domain.MemberStatus.ACTIVE.value,
        name=name,
        email=email,
        registration_id=registration_id,
        invited_by=invited_by,
    )


async def verify_claim(uow: UnitOfWork, registration: RegistrationRow) -> None:
    """The claimed provider gets the person as its administrator, unless another
    claim on it was verified first (then this one is rejected by the officer)."""
    assert registration.provider_id is not None
    if await store.administrator_of(uow.session, registration.provider_id) is not None:
        raise Conflict(
            "registration",
            "the provider has an administrator already (another claim was verified): "
            "reject this one",
        )
    await _ensure_unbound(uow.session, registration.subject)
    uow.session.add(
        new_membership(
            registration.subject,
            registration.provider_id,
            domain.MemberRole.ADMINISTRATOR,
            registration.person_name,
            registration.person_email,
            registration_id=registration.id,
        )
    )


async def verify_new(
    uow: UnitOfWork, actor: Actor, registration: RegistrationRow, urn: int | None, today: date
) -> str:
    """Put the new provider on the register (status ``registered``, announced as any
    provider the council registers) with the person as administrator; its provider id."""
    urn = registration.urn or urn
    if urn is None:
        raise RulesBroken([DomainError("urn", domain.URN_NEEDED)])
    if await store.provider_by_urn(uow.session, urn) is not None:
        raise Conflict("urn", f"URN {urn} is on the register already: reject this registration")
    await _ensure_unbound(uow.session, registration.subject)
    draft = draft_from_json({**registration.details, "urn": urn})
    provider = domain.register_provider(str(uuid.uuid4()), draft)
    announce_registered(uow, actor, provider, today, urn=urn, registration_id=registration.id)
    await uow.session.flush()  # the provider row first: the membership refers to it
    uow.session.add(
        new_membership(
            registration.subject,
            provider.provider_id,
            domain.MemberRole.ADMINISTRATOR,
            registration.person_name,
            registration.person_email,
            registration_id=registration.id,
        )
    )
    registration.urn = urn
    return provider.provider_id


async def _ensure_unbound(session: AsyncSession, subject: str) -> None:
    if await store.active_membership(session, subject) is not None:
        raise Conflict("registration", "the person is a person of a provider already")


async def change_person(
    uow: UnitOfWork, actor: Actor, person: MembershipRow, role: domain.MemberRole | None
) -> None:
    """Remove the person (`role` None) or give them `role`; 409 naming the rule when the
    organisation would be left without an administrator."""
    was_administrator = person.role == domain.MemberRole.ADMINISTRATOR.value
    stays = role is domain.MemberRole.ADMINISTRATOR
    problem = domain.people_change_problem(
        await store.administrators(uow.session, person.provider_id), was_administrator, stays
    )
    if problem:
        raise Conflict("role" if role else "person", problem)
    if role is None:
        person.status = domain.MemberStatus.REMOVED.value
        action = "person.left" if person.subject == actor.id else "person.removed"
        details: dict[str, str] = {}
    else:
        details = {"from": person.role, "to": role.value}
        person.role = role.value
        action = "person.role_changed"
    uow.session.add(person)
    uow.audit(actor, action, "provider", person.provider_id, subject=person.subject, **details)


async def join(
    session: AsyncSession,
    subject: str,
    invitation: InvitationRow,
) -> MembershipRow:
    """The invited person's membership: a new one, or their old one made active again
    (a removed person invited back: one row per person and provider)."""
    rows = await session.exec(
        select(MembershipRow).where(
            MembershipRow.subject == subject, MembershipRow.provider_id == invitation.provider_id
        )
    )
    member = rows.first() or new_membership(
        subject,
        invitation.provider_id,
        domain.MemberRole(invitation.role),
        invitation.name,
        invitation.email,
        invited_by=invitation.invited_by,
    )
    member.status, member.role = domain.MemberStatus.ACTIVE.value, invitation.role
    member.name, member.email = invitation.name, invitation.email
    member.invited_by, member.joined_at = invitation.invited_by, clock.now()
    session.add(member)
    return member


def invitation_code() -> tuple[str, str]:
    """A new invitation's code (given once, to the administrator) and its SHA-256."""
    code = secrets.token_urlsafe(24)
    return code, code_digest(code)


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _with_any_urn(draft: domain.ProviderDraft) -> domain.ProviderDraft:
    """The draft with a well-formed stand-in URN, so it can be cleaned; the stand-in is
    not kept (the officer gives the real one when verifying)."""
    return replace(draft, urn=domain.URN_RANGE[0])


async def submit_registration(
    uow: UnitOfWork,
    actor: Actor,
    kind: domain.RegistrationKind,
    person_name: str,
    person_email: str,
    claimed_urn: int | None,
    draft: domain.ProviderDraft | None,
    urn: int | None,
) -> RegistrationRow:
    """A claim by URN (``draft`` None) or a new provider, awaiting the council."""
    await ensure_may_register(uow.session, actor.id)
    row = RegistrationRow(
        id=str(uuid.uuid4()),
        kind=kind.value,
        subject=actor.id,
        person_name=person_name.strip(),
        person_email=person_email.strip(),
        provider_name="",
        status=domain.RegistrationStatus.PENDING.value,
    )
    if draft is None:
        assert claimed_urn is not None
        claimed = await claimable(uow.session, claimed_urn)
        row.urn, row.provider_id, row.provider_name = claimed.urn, claimed.id, claimed.name
    else:
        if urn is not None and await store.provider_by_urn(uow.session, urn):
            raise Conflict("urn", "is on the register already: claim it instead")
        cleaned = domain.clean_draft(draft if urn is not None else _with_any_urn(draft))
        details = draft_to_json(cleaned)
        details.pop("urn")
        row.urn, row.provider_name, row.details = urn, cleaned.name, details
    uow.session.add(row)
    uow.audit(actor, "registration.submitted", "registration", row.id, kind=row.kind, urn=row.urn)
    return row


async def decide_registration(
    uow: UnitOfWork,
    actor: Actor,
    registration_id: str,
    verify: bool,
    reason: str,
    urn: int | None,
    today: date,
) -> RegistrationRow:
    """Verify (the person becomes its provider's administrator; a new provider goes on
    the register) or reject with a reason."""
    row = await uow.session.get(RegistrationRow, registration_id)
    if row is None:
        raise NotFound("registration", registration_id)
    decided = domain.decide_registration(domain.RegistrationStatus(row.status), verify, reason)
    if verify and row.kind == domain.RegistrationKind.CLAIM.value:
        await verify_claim(uow, row)
    elif verify:
        row.provider_id = await verify_new(uow, actor, row, urn, today)
    row.status = decided.value
    row.decided_by = actor.id
    row.decided_at = clock.now()
    row.reason = reason.strip() or None
    uow.session.add(row)
    uow.audit(
        actor,
        f"registration.{decided.value}",
        "registration",
        row.id,
        provider_id=row.provider_id,
        reason=row.reason,
    )
    return row


def invite(
    uow: UnitOfWork,
    actor: Actor,
    provider_id: str,
    name: str,
    email: str,
    role: domain.MemberRole,
    digest: str,
    now: datetime,
) -> InvitationRow:
    """The administrator's invitation, kept by the SHA-256 of its one-time code."""
    row = InvitationRow(
        id=str(uuid.uuid4()),
        code_sha256=digest,
        provider_id=provider_id,
        name=name.strip(),
        email=email.strip(),
        role=role.value,
        invited_by=actor.id,
        invited_at=now,
        expires_at=domain.invitation_expiry(now),
    )
    uow.session.add(row)
    uow.audit(actor, "invitation.sent", "provider", provider_id, invitation_id=row.id)
    return row


async def accept_invitation(
    uow: UnitOfWork, actor: Actor, code: str, now: datetime
) -> tuple[ProviderRow, MembershipRow]:
    """The invited person joins the provider (404 unknown code, 409 expired or used)."""
    found = await uow.session.exec(
        select(InvitationRow).where(InvitationRow.code_sha256 == code_digest(code))
    )
    invitation = found.first()
    if invitation is None:
        raise NotFound("invitation", "with this code")
    problem = domain.invitation_problem(invitation.expires_at, invitation.accepted_at, now)
    if problem:
        raise Conflict("code", problem)
    if await store.active_membership(uow.session, actor.id) is not None:
        raise Conflict("person", "is a person of a provider already")
    provider = await store.load_provider(uow.session, invitation.provider_id)
    member = await join(uow.session, actor.id, invitation)
    invitation.accepted_by, invitation.accepted_at = actor.id, now
    uow.session.add(invitation)
    uow.audit(
        actor,
        "invitation.accepted",
        "provider",
        invitation.provider_id,
        invitation_id=invitation.id,
    )
    return provider, member
