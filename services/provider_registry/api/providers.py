"""HTTP routes of a provider's record: register, read, change, verify documents, record
inspections and move its status. Each route translates HTTP to a command and back."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, status

from services.provider_registry import commands, events, store
from services.provider_registry.api.bodies import (
    InspectionIn,
    InspectionOut,
    ProviderIn,
    ProviderPatch,
    ProviderView,
    StatusChangeOut,
    StatusIn,
    VerificationIn,
    contacts_of,
    documents_of,
    view,
)
from services.provider_registry.models import inspection_from_json, to_domain
from services.provider_registry.policy import ALLOWED
from shared import clock
from shared.contracts import providers_v1
from shared.contracts.common import Role
from shared.contracts.providers_v1 import DocumentKind
from shared.errors import DomainError, RulesBroken
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["providers"])

# What a provider may change about itself; everything else is the council's record.
PROVIDER_EDITABLE = frozenset({"contacts", "capacity", "places_in_use", "documents"})

# Fields that may be cleared with an explicit null; every other one needs a value.
NULLABLE = frozenset({"latitude", "longitude", "local_authority_code", "local_authority_name"})


def _ensure_may_edit(actor: Actor, provider_id: str, fields: set[str]) -> None:
    """Providers edit only their own contacts, places and documents (403 otherwise)."""
    if actor.role != Role.PROVIDER.value:
        return
    if actor.provider_id != provider_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a provider may edit only its own record")
    others = sorted(fields - PROVIDER_EDITABLE)
    if others:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"a provider may change only {', '.join(sorted(PROVIDER_EDITABLE))}; "
            f"not {', '.join(others)}",
        )


def _changes(patch: ProviderPatch) -> dict[str, Any]:
    """The patch as draft fields (documents apart: the command decides what they are)."""
    given = patch.model_dump(exclude_unset=True)
    nulls = [name for name, value in given.items() if value is None and name not in NULLABLE]
    if nulls:
        raise RulesBroken(DomainError(name, "must not be null") for name in nulls)
    changes: dict[str, Any] = {
        name: value
        for name, value in given.items()
        if name not in {"contacts", "documents", "attendance", "need_types"}
    }
    if patch.contacts is not None:
        changes["contacts"] = contacts_of(patch.contacts)
    if patch.attendance is not None:
        changes["attendance"] = frozenset(patch.attendance)
    if patch.need_types is not None:
        changes["need_types"] = frozenset(patch.need_types)
    return changes


@router.post("/providers", status_code=status.HTTP_201_CREATED)
async def register_provider(
    body: ProviderIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> ProviderView:
    """Put a provider on the register (status `registered`) and announce it; documents
    the council enters are verified by whoever entered them."""
    draft = body.to_draft()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        provider = await commands.register_provider(uow, actor, draft, date.today())
    return view(provider, actor)


@router.get("/providers/{provider_id}")
async def get_provider(
    provider_id: str,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> ProviderView:
    """The full record for the council and the provider itself; other providers see
    only its public fields."""
    async with runtime.db.session() as session:
        row = await store.load_provider(session, provider_id)
    return view(to_domain(row), actor)


@router.patch("/providers/{provider_id}")
async def update_provider(
    provider_id: str,
    patch: ProviderPatch,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> ProviderView:
    """Change details; a provider may change only its own contacts, places and documents,
    and documents it sends are proposals until an officer verifies them."""
    _ensure_may_edit(actor, provider_id, set(patch.model_fields_set))
    changes = _changes(patch)
    documents = None if patch.documents is None else documents_of(patch.documents)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        provider = await commands.update_provider(
            uow, actor, provider_id, changes, documents, date.today()
        )
    return view(provider, actor)


@router.post("/providers/{provider_id}/documents/{kind}/verification")
async def verify_document(
    provider_id: str,
    kind: DocumentKind,
    body: VerificationIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> ProviderView:
    """An officer verifies the provider's latest proposed document of this kind and sets
    its expiry (409 if none awaits verification); only then does it count."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        provider = await commands.verify_document(
            uow, actor, provider_id, kind, body.expires_on, body.reference, date.today()
        )
    return view(provider, actor)


@router.post("/providers/{provider_id}/inspections", status_code=status.HTTP_201_CREATED)
async def record_inspection(
    provider_id: str,
    body: InspectionIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> providers_v1.ProviderInspectionRecorded:
    """Add an inspection to the history; it becomes the latest unless it is older."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        return await commands.record_inspection(
            uow, actor, provider_id, body.to_domain(), date.today()
        )


@router.get("/providers/{provider_id}/inspections")
async def list_inspections(
    provider_id: str,
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[InspectionOut]:
    """The inspection history, newest inspection first."""
    async with runtime.db.session() as session:
        await store.load_provider(session, provider_id)
        rows = await store.inspections_of(session, provider_id)
    return [
        InspectionOut(
            inspection=events.inspection_summary(inspection_from_json(r.inspection)),
            declined=r.declined,
            is_latest=r.is_latest,
            recorded_by=r.recorded_by,
            recorded_at=r.recorded_at,
        )
        for r in rows
    ]


@router.post("/providers/{provider_id}/status")
async def change_status(
    provider_id: str,
    body: StatusIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> providers_v1.ProviderStatusChanged:
    """Move the provider on `registered -> active -> suspended -> removed` (409 if not allowed)."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        return await commands.change_status(
            uow, actor, provider_id, body.status, body.reason, clock.now()
        )


@router.get("/providers/{provider_id}/status-changes")
async def list_status_changes(
    provider_id: str,
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[StatusChangeOut]:
    """Who changed the provider's status, when and why, oldest first."""
    async with runtime.db.session() as session:
        await store.load_provider(session, provider_id)
        rows = await store.status_changes_of(session, provider_id)
    return [StatusChangeOut.model_validate(r, from_attributes=True) for r in rows]
