"""HTTP routes of the provider register."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field
from sqlmodel import select

from services.provider_registry import domain
from services.provider_registry.models import ProviderRow
from shared.auth import ANY_ROLE, require
from shared.contracts import providers_v1
from shared.contracts.common import Attendance, NeedType, Role
from shared.contracts.providers_v1 import DocumentKind, GenderIntake, ProviderType
from shared.errors import Conflict, NotFound, RulesBroken
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["providers"])

WRITERS = (Role.COMMISSIONER, Role.ADMIN)


class ContactIn(BaseModel):
    name: str = Field(max_length=200)
    role: str = Field(default="", max_length=100)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=50)


class DocumentIn(BaseModel):
    kind: DocumentKind
    expires_on: date
    reference: str | None = Field(default=None, max_length=200)


class ProviderIn(BaseModel):
    """A provider as a commissioner registers it."""

    urn: int
    name: str
    proprietor: str
    provider_type: ProviderType
    address: str
    postcode: str
    latitude: float | None = None
    longitude: float | None = None
    age_low: int
    age_high: int
    gender_intake: GenderIntake = GenderIntake.MIXED
    attendance: list[Attendance]
    capacity: int
    places_in_use: int = 0
    need_types: list[NeedType]
    contacts: list[ContactIn] = Field(default_factory=list)
    documents: list[DocumentIn] = Field(default_factory=list)
    section_41_approved: bool = False
    local_authority_code: str | None = None
    local_authority_name: str | None = None

    def to_draft(self) -> domain.ProviderDraft:
        fields = self.model_dump(exclude={"contacts", "documents", "attendance", "need_types"})
        return domain.ProviderDraft(
            **fields,
            attendance=frozenset(self.attendance),
            need_types=frozenset(self.need_types),
            contacts=tuple(domain.Contact(**c.model_dump()) for c in self.contacts),
            documents=tuple(domain.ComplianceDocument(**d.model_dump()) for d in self.documents),
        )


def draft_to_json(draft: domain.ProviderDraft) -> dict[str, Any]:
    model = ProviderIn(
        **{
            **{f: getattr(draft, f) for f in ProviderIn.model_fields if hasattr(draft, f)},
            "attendance": sorted(draft.attendance),
            "need_types": sorted(draft.need_types),
            "contacts": [ContactIn(**vars_of(c)) for c in draft.contacts],
            "documents": [DocumentIn(**vars_of(d)) for d in draft.documents],
        }
    )
    return model.model_dump(mode="json")


def vars_of(obj: object) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}  # type: ignore[attr-defined]


def to_domain(row: ProviderRow) -> domain.Provider:
    return domain.Provider(
        provider_id=row.id,
        details=ProviderIn.model_validate(row.details).to_draft(),
        status=providers_v1.ProviderStatus(row.status),
    )


def to_row(provider: domain.Provider) -> ProviderRow:
    details = provider.details
    return ProviderRow(
        id=provider.provider_id,
        urn=details.urn,
        name=details.name,
        status=provider.status.value,
        postcode=details.postcode,
        postcode_district=domain.postcode_district(details.postcode) or "",
        latitude=details.latitude,
        longitude=details.longitude,
        age_low=details.age_low,
        age_high=details.age_high,
        capacity=details.capacity,
        places_in_use=details.places_in_use,
        need_types=sorted(details.need_types),
        attendance=sorted(details.attendance),
        details=draft_to_json(details),
    )


@router.post("/providers", status_code=status.HTTP_201_CREATED)
async def register_provider(
    body: ProviderIn,
    actor: Actor = Depends(require(*WRITERS)),
    runtime: ServiceRuntime = Depends(runtime_of),
) -> providers_v1.ProviderSnapshot:
    """Put a provider on the register (status `registered`) and announce it."""
    try:
        provider = domain.register_provider(str(uuid.uuid4()), body.to_draft())
    except domain.ProviderInvalid as exc:
        raise RulesBroken(exc.errors)
    today = date.today()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        duplicate = await uow.session.exec(
            select(ProviderRow.id).where(ProviderRow.urn == provider.details.urn)
        )
        if duplicate.first():
            raise Conflict("urn", f"a provider with URN {provider.details.urn} is registered")
        uow.session.add(to_row(provider))
        event = domain.registered_event(provider, today, by=actor.id)
        uow.emit(providers_v1.TOPIC, providers_v1.PROVIDER_REGISTERED, provider.provider_id, event)
        uow.audit(
            actor, "provider.registered", "provider", provider.provider_id, urn=provider.details.urn
        )
    return event.provider


@router.get("/providers/{provider_id}")
async def get_provider(
    provider_id: str,
    _actor: Actor = Depends(require(*ANY_ROLE)),
    runtime: ServiceRuntime = Depends(runtime_of),
) -> providers_v1.ProviderSnapshot:
    async with runtime.db.session() as session:
        row = await session.get(ProviderRow, provider_id)
    if row is None:
        raise NotFound("provider", provider_id)
    return domain.provider_snapshot(to_domain(row), date.today())
