"""Use cases shared by the register's entry points (HTTP API and the GIAS import)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import date, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.provider_registry import domain, events
from services.provider_registry.models import (
    DocumentNoticeRow,
    InvitationRow,
    MembershipRow,
    ProviderRow,
    RegistrationRow,
    draft_from_json,
    new_row,
    status_change_row,
    to_domain,
)
from services.provider_registry.workflow_types import SweepResult
from shared import clock
from shared.contracts.providers_v1 import ProviderStatus
from shared.db import Database
from shared.errors import Conflict, DomainError, NotFound, RulesBroken
from shared.unit_of_work import Actor, UnitOfWork, unit_of_work


def record_status_change(
    uow: UnitOfWork, actor: Actor, provider: domain.Provider, change: domain.StatusChange
) -> None:
    """Keep a status move's history row, publish provider.status_changed and audit it."""
    uow.session.add(status_change_row(change))
    event = events.status_changed_event(provider, change)
    uow.emit(event)
    uow.audit(
        actor,
        "provider.status_changed",
        "provider",
        provider.provider_id,
        previous=change.previous_status.value,
        status=change.status.value,
        reason=change.reason,
        recommendation_id=change.recommendation_id,
    )


SWEEPER = Actor(id="dps/provider_registry/document-expiry-sweep", role="service")


async def sweep_document_expiry(db: Database, source: str, today: date) -> SweepResult:
    """Emit provider.document_expiring once per provider, document kind and expiry date
    for documents expired or expiring within the warning window."""
    horizon = today + timedelta(days=domain.DOCUMENT_WARNING_DAYS)
    async with unit_of_work(db, source) as uow:
        rows = await uow.session.exec(
            select(ProviderRow).where(
                col(ProviderRow.next_document_expiry) <= horizon,
                ProviderRow.status != ProviderStatus.REMOVED.value,
            )
        )
        providers = [to_domain(row) for row in rows.all()]
        sent = await uow.session.exec(
            select(
                col(DocumentNoticeRow.provider_id),
                col(DocumentNoticeRow.kind),
                col(DocumentNoticeRow.expires_on),
            ).where(col(DocumentNoticeRow.provider_id).in_([p.provider_id for p in providers]))
        )
        already = set(sent.all())
        notices = 0
        for provider in providers:
            for event in events.document_expiring_events(provider, today):
                key = (event.provider_id, event.kind.value, event.expires_on)
                if key in already:
                    continue
                already.add(key)
                uow.session.add(
                    DocumentNoticeRow(
                        provider_id=event.provider_id,
                        kind=event.kind.value,
                        expires_on=event.expires_on,
                    )
                )
                uow.emit(event)
                uow.audit(
                    SWEEPER,
                    "provider.document_expiring",
                    "provider",
                    event.provider_id,
                    kind=event.kind.value,
                    expires_on=event.expires_on.isoformat(),
                )
                notices += 1
    return SweepResult(providers_checked=len(providers), notices_sent=notices)


# --- people (issue 15) ------------------------------------------------------------------
# The registration, membership and invitation use cases. Each runs inside the caller's
# unit of work; a state clash is a Conflict (409) naming the field, bad input RulesBroken.


async def active_membership(session: AsyncSession, subject: str) -> MembershipRow | None:
    """The person's membership that binds its tokens (one provider per person)."""
    rows = await session.exec(
        select(MembershipRow).where(
            MembershipRow.subject == subject,
            MembershipRow.status == domain.MemberStatus.ACTIVE.value,
        )
    )
    return rows.first()


async def administrator_of(session: AsyncSession, provider_id: str) -> MembershipRow | None:
    rows = await session.exec(
        select(MembershipRow).where(
            MembershipRow.provider_id == provider_id,
            MembershipRow.role == domain.MemberRole.ADMINISTRATOR.value,
            MembershipRow.status == domain.MemberStatus.ACTIVE.value,
        )
    )
    return rows.first()


async def provider_by_urn(session: AsyncSession, urn: int) -> ProviderRow | None:
    return (await session.exec(select(ProviderRow).where(ProviderRow.urn == urn))).first()


async def ensure_may_register(session: AsyncSession, subject: str) -> None:
    """One organisation per person, one registration awaiting the council at a time."""
    if await active_membership(session, subject) is not None:
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
    row = await provider_by_urn(session, urn)
    if row is None:
        raise RulesBroken(
            [DomainError("urn", "is not on the register; register a new provider instead")]
        )
    if row.status == ProviderStatus.REMOVED.value:
        raise RulesBroken([DomainError("urn", "is a provider removed from the register")])
    if await administrator_of(session, row.id) is not None:
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
    if await administrator_of(uow.session, registration.provider_id) is not None:
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
    if await provider_by_urn(uow.session, urn) is not None:
        raise Conflict("urn", f"URN {urn} is on the register already: reject this registration")
    await _ensure_unbound(uow.session, registration.subject)
    draft = draft_from_json({**registration.details, "urn": urn})
    provider = domain.register_provider(str(uuid.uuid4()), draft)
    uow.session.add(new_row(provider))
    event = events.registered_event(provider, today, by=actor.id)
    uow.emit(event)
    uow.audit(
        actor,
        "provider.registered",
        "provider",
        provider.provider_id,
        urn=urn,
        registration_id=registration.id,
    )
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
    if await active_membership(session, subject) is not None:
        raise Conflict("registration", "the person is a person of a provider already")


async def person_of(session: AsyncSession, provider_id: str, subject: str) -> MembershipRow:
    """The provider's active person `subject` (404 otherwise: removed or never joined)."""
    rows = await session.exec(
        select(MembershipRow).where(
            MembershipRow.provider_id == provider_id,
            MembershipRow.subject == subject,
            MembershipRow.status == domain.MemberStatus.ACTIVE.value,
        )
    )
    found = rows.first()
    if found is None:
        raise NotFound("person", subject)
    return found


async def _administrators(session: AsyncSession, provider_id: str) -> int:
    rows = await session.exec(
        select(MembershipRow.id).where(
            MembershipRow.provider_id == provider_id,
            MembershipRow.role == domain.MemberRole.ADMINISTRATOR.value,
            MembershipRow.status == domain.MemberStatus.ACTIVE.value,
        )
    )
    return len(rows.all())


async def change_person(
    uow: UnitOfWork, actor: Actor, person: MembershipRow, role: domain.MemberRole | None
) -> None:
    """Remove the person (`role` None) or give them `role`; 409 naming the rule when the
    organisation would be left without an administrator."""
    was_administrator = person.role == domain.MemberRole.ADMINISTRATOR.value
    stays = role is domain.MemberRole.ADMINISTRATOR
    problem = domain.people_change_problem(
        await _administrators(uow.session, person.provider_id), was_administrator, stays
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
