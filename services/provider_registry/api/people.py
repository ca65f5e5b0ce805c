"""HTTP routes for a provider's people (issue 15): self-registration, the council's
verification, membership (the binding source of provider tokens) and invitations."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from services.provider_registry import commands, domain, store
from services.provider_registry.models import (
    InvitationRow,
    MembershipRow,
    RegistrationRow,
)
from services.provider_registry.policy import ALLOWED
from shared import clock
from shared.api_types import Offset, RequestBody
from shared.contracts.common import Attendance, NeedType
from shared.contracts.providers_v1 import GenderIntake, ProviderType
from shared.errors import DomainError, NotFound, RulesBroken
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["people"])

MAX_PAGE = 200


# --- request and response bodies --------------------------------------------------------


class NewProviderIn(RequestBody):
    """A provider not yet on the register, as its person describes it. The URN may be
    left out (a school awaiting its DfE number); the officer then supplies it."""

    urn: int | None = None
    name: str = Field(max_length=200)
    proprietor: str = Field(max_length=200)
    provider_type: ProviderType
    address: str = Field(max_length=500)
    postcode: str = Field(max_length=10)
    age_low: int
    age_high: int
    gender_intake: GenderIntake = GenderIntake.MIXED
    attendance: list[Attendance]
    capacity: int
    need_types: list[NeedType]
    phone: str | None = Field(default=None, max_length=50)

    def draft(self, person_name: str, person_email: str) -> domain.ProviderDraft:
        return domain.ProviderDraft(
            urn=self.urn if self.urn is not None else 0,
            name=self.name,
            proprietor=self.proprietor,
            provider_type=self.provider_type,
            address=self.address,
            postcode=self.postcode,
            age_low=self.age_low,
            age_high=self.age_high,
            gender_intake=self.gender_intake,
            attendance=frozenset(self.attendance),
            capacity=self.capacity,
            need_types=frozenset(self.need_types),
            contacts=(
                domain.Contact(
                    name=person_name, role="registered the provider", email=person_email
                ),
            ),
        )


class RegistrationIn(RequestBody):
    """A claim on a provider on the register (``urn``) or a new provider (``provider``)."""

    kind: domain.RegistrationKind
    person_name: str = Field(max_length=200)
    person_email: str = Field(max_length=200)
    urn: int | None = None
    provider: NewProviderIn | None = None


class DecisionKind(StrEnum):
    VERIFY = "verify"
    REJECT = "reject"


class RegistrationDecisionIn(RequestBody):
    decision: DecisionKind
    reason: str = Field(default="", max_length=2000)
    # A new provider registered without a URN: the officer gives the one it checked.
    urn: int | None = None


class RegistrationOut(BaseModel):
    registration_id: str
    kind: domain.RegistrationKind
    status: domain.RegistrationStatus
    person_name: str
    person_email: str
    urn: int | None
    provider_id: str | None
    provider_name: str
    details: dict[str, object]
    submitted_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    # Other registrations awaiting the council for the same URN: anyone can type a URN,
    # so the officer sees competing claims side by side.
    competing: int = 0


class RegistrationPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[RegistrationOut]


class MembershipOut(BaseModel):
    provider_id: str
    provider_name: str
    role: domain.MemberRole
    status: domain.MemberStatus
    joined_at: datetime


class PersonOut(BaseModel):
    """Who the caller is to the register: the binding source of provider tokens."""

    subject: str
    memberships: list[MembershipOut]


class PersonOfProvider(BaseModel):
    subject: str  # the person's sign-in identity: what the removal and role routes name
    name: str
    email: str
    role: domain.MemberRole
    status: domain.MemberStatus
    joined_at: datetime
    invited_by: str | None = None


class InvitationIn(RequestBody):
    name: str = Field(max_length=200)
    email: str = Field(max_length=200)
    role: domain.MemberRole = domain.MemberRole.MEMBER


class RoleIn(RequestBody):
    role: domain.MemberRole


class InvitationOut(BaseModel):
    invitation_id: str
    name: str
    email: str
    role: domain.MemberRole
    invited_by: str
    invited_at: datetime
    expires_at: datetime
    accepted_at: datetime | None = None


class InvitationCreated(InvitationOut):
    """The code is given once, to the administrator, to pass on; only its hash is kept."""

    code: str


class PeopleOut(BaseModel):
    people: list[PersonOfProvider]
    invitations: list[InvitationOut]


# --- helpers ----------------------------------------------------------------------------


def _registration_out(row: RegistrationRow, competing: int = 0) -> RegistrationOut:
    return RegistrationOut(
        registration_id=row.id,
        kind=domain.RegistrationKind(row.kind),
        status=domain.RegistrationStatus(row.status),
        person_name=row.person_name,
        person_email=row.person_email,
        urn=row.urn,
        provider_id=row.provider_id,
        provider_name=row.provider_name,
        details=row.details,
        submitted_at=row.submitted_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
        competing=competing,
    )


def _invitation_out(row: InvitationRow) -> InvitationOut:
    return InvitationOut(
        invitation_id=row.id,
        name=row.name,
        email=row.email,
        role=domain.MemberRole(row.role),
        invited_by=row.invited_by,
        invited_at=row.invited_at,
        expires_at=row.expires_at,
        accepted_at=row.accepted_at,
    )


def _checked(errors: list[DomainError]) -> None:
    if errors:
        raise RulesBroken(errors)


async def _ensure_administrator(session: AsyncSession, actor: Actor, provider_id: str) -> None:
    """The policy lets only a provider's own people here; of those, the administrator."""
    member = await store.active_membership(session, actor.id)
    if (
        member is None
        or member.provider_id != provider_id
        or member.role != domain.MemberRole.ADMINISTRATOR.value
    ):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "only the organisation's administrator manages its people",
        )


# --- registrations ----------------------------------------------------------------------


@router.post("/registrations", status_code=status.HTTP_201_CREATED)
async def submit_registration(
    body: RegistrationIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> RegistrationOut:
    """A supplier's person claims its provider by URN, or registers a new one; either
    awaits a commissioner's verification (the person is bound to nothing until then)."""
    errors = domain.validate_person(body.person_name, body.person_email)
    if body.kind is domain.RegistrationKind.CLAIM and body.urn is None:
        errors.append(DomainError("urn", "required to claim a provider on the register"))
    if body.kind is domain.RegistrationKind.NEW and body.provider is None:
        errors.append(DomainError("provider", "required to register a new provider"))
    draft = None
    if body.kind is domain.RegistrationKind.NEW and body.provider is not None:
        draft = body.provider.draft(body.person_name.strip(), body.person_email.strip())
        errors += domain.validate_new_provider(draft, body.provider.urn is not None)
    _checked(errors)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await commands.submit_registration(
            uow,
            actor,
            body.kind,
            body.person_name,
            body.person_email,
            body.urn,
            draft,
            body.provider.urn if body.provider is not None else None,
        )
        competing = await store.competing_registrations(uow.session, row)
    return _registration_out(row, competing)


@router.get("/registrations/mine")
async def my_registrations(
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[RegistrationOut]:
    """The caller's own registrations, newest first."""
    async with runtime.db.session() as session:
        rows = await store.registrations_of(session, actor.id)
        return [_registration_out(row) for row in rows]


@router.get("/registrations")
async def list_registrations(
    status_: domain.RegistrationStatus | None = Query(default=None, alias="status"),
    limit: int = Query(default=50, ge=1, le=MAX_PAGE),
    offset: Offset = 0,
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> RegistrationPage:
    """Registrations for the council to verify, oldest first."""
    async with runtime.db.session() as session:
        total, rows = await store.registrations_page(session, status_, limit, offset)
        items = [
            _registration_out(row, await store.competing_registrations(session, row))
            for row in rows
        ]
    return RegistrationPage(total=total, limit=limit, offset=offset, items=items)


@router.get("/registrations/{registration_id}")
async def get_registration(
    registration_id: str,
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> RegistrationOut:
    async with runtime.db.session() as session:
        row = await session.get(RegistrationRow, registration_id)
        if row is None:
            raise NotFound("registration", registration_id)
        return _registration_out(row, await store.competing_registrations(session, row))


@router.post("/registrations/{registration_id}/decision")
async def decide_registration(
    registration_id: str,
    body: RegistrationDecisionIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> RegistrationOut:
    """Verify (the person becomes its provider's administrator; a new provider goes on
    the register) or reject with a reason. A claim by URN is verified too: anyone can
    type a URN."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await commands.decide_registration(
            uow,
            actor,
            registration_id,
            body.decision is DecisionKind.VERIFY,
            body.reason,
            body.urn,
            date.today(),
        )
    return _registration_out(row)


# --- people and invitations -------------------------------------------------------------


@router.get("/people/me")
async def people_me(
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> PersonOut:
    """The caller's memberships: which provider its tokens are bound to (the console
    reads this; a council's identity provider maps its provider claim from it)."""
    async with runtime.db.session() as session:
        rows = await store.memberships_of(session, actor.id)
        memberships = [
            MembershipOut(
                provider_id=m.provider_id,
                provider_name=name,
                role=domain.MemberRole(m.role),
                status=domain.MemberStatus(m.status),
                joined_at=m.joined_at,
            )
            for m, name in rows
        ]
    return PersonOut(subject=actor.id, memberships=memberships)


@router.get("/providers/{provider_id}/people")
async def list_people(
    provider_id: str,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> PeopleOut:
    """The organisation's people and the invitations not yet accepted (administrator)."""
    async with runtime.db.session() as session:
        await store.load_provider(session, provider_id)
        await _ensure_administrator(session, actor, provider_id)
        people = await store.people_of(session, provider_id)
        invitations = await store.open_invitations(session, provider_id)
        return PeopleOut(
            people=[_person_out(m) for m in people],
            invitations=[_invitation_out(i) for i in invitations],
        )


@router.post("/providers/{provider_id}/invitations", status_code=status.HTTP_201_CREATED)
async def invite(
    provider_id: str,
    body: InvitationIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> InvitationCreated:
    """The administrator invites a person; the answer carries the one-time code."""
    _checked(
        [
            DomainError("name" if e.field == "person_name" else "email", e.rule)
            for e in domain.validate_person(body.name, body.email)
        ]
    )
    code, digest = commands.invitation_code()
    now = clock.now()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        await store.load_provider(uow.session, provider_id)
        await _ensure_administrator(uow.session, actor, provider_id)
        row = commands.invite(
            uow, actor, provider_id, body.name, body.email, body.role, digest, now
        )
    return InvitationCreated(**_invitation_out(row).model_dump(), code=code)


@router.post("/invitations/{code}/acceptance")
async def accept_invitation(
    code: str,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> MembershipOut:
    """A supplier's person accepts an invitation and becomes a person of the provider."""
    now = clock.now()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        provider, member = await commands.accept_invitation(uow, actor, code, now)
    return MembershipOut(
        provider_id=member.provider_id,
        provider_name=provider.name,
        role=domain.MemberRole(member.role),
        status=domain.MemberStatus(member.status),
        joined_at=member.joined_at,
    )


def _person_out(m: MembershipRow) -> PersonOfProvider:
    return PersonOfProvider(
        subject=m.subject,
        name=m.name,
        email=m.email,
        role=domain.MemberRole(m.role),
        status=domain.MemberStatus(m.status),
        joined_at=m.joined_at,
        invited_by=m.invited_by,
    )


@router.post("/providers/{provider_id}/people/{subject}/removal")
async def remove_person(
    provider_id: str,
    subject: str,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> PersonOfProvider:
    """The administrator removes a person, or a person leaves (its own subject). The
    person's GET /people/me then lists the provider no more, so no provider token is
    minted for it again (in production the identity provider's mapping must follow).
    The last administrator cannot go: 409 naming the rule."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        await store.load_provider(uow.session, provider_id)
        if subject != actor.id:
            await _ensure_administrator(uow.session, actor, provider_id)
        person = await store.person_of(uow.session, provider_id, subject)
        await commands.change_person(uow, actor, person, None)
    return _person_out(person)


@router.post("/providers/{provider_id}/people/{subject}/role")
async def change_role(
    provider_id: str,
    subject: str,
    body: RoleIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> PersonOfProvider:
    """The administrator makes a person administrator (handing over: then steps down
    itself) or member; the last administrator cannot step down (409 naming the rule)."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        await store.load_provider(uow.session, provider_id)
        await _ensure_administrator(uow.session, actor, provider_id)
        person = await store.person_of(uow.session, provider_id, subject)
        await commands.change_person(uow, actor, person, body.role)
    return _person_out(person)
