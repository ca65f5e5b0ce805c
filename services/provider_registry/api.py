"""HTTP routes of the provider register."""

from __future__ import annotations

import math
import uuid
from dataclasses import replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.provider_registry import domain, events
from services.provider_registry.commands import record_status_change
from services.provider_registry.models import (
    InspectionRow,
    ProviderRow,
    RecommendationRow,
    StatusChangeRow,
    apply_provider,
    apply_recommendation,
    inspection_from_json,
    inspection_to_json,
    new_row,
    recommendation_to_domain,
    to_domain,
)
from services.provider_registry.policy import ALLOWED
from shared import clock, geography
from shared.api_types import BoundedInt, Offset, RequestBody
from shared.contracts import providers_v1
from shared.contracts.common import Attendance, NeedType, Role
from shared.contracts.providers_v1 import (
    DocumentKind,
    GenderIntake,
    OfstedJudgement,
    ProviderStatus,
    ProviderType,
    ReportCardArea,
    ReportCardGrade,
)
from shared.errors import Conflict, DomainError, NotFound, RulesBroken
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, UnitOfWork, unit_of_work

router = APIRouter(tags=["providers"])

# What a provider may change about itself; everything else is the council's record.
PROVIDER_EDITABLE = frozenset({"contacts", "capacity", "places_in_use", "documents"})
MAX_PAGE = 200


# --- request and response bodies --------------------------------------------------------


class ContactIn(RequestBody):
    name: str = Field(max_length=200)
    role: str = Field(default="", max_length=100)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=50)


class DocumentIn(RequestBody):
    """A compliance document. From a provider, ``expires_on`` is the expiry it proposes;
    the council verifies the document and sets the expiry."""

    kind: DocumentKind
    expires_on: date
    reference: str | None = Field(default=None, max_length=200)


class VerificationIn(RequestBody):
    """The expiry the officer read on the document (it may differ from the proposed)."""

    expires_on: date
    reference: str | None = Field(default=None, max_length=200)


def _contacts(items: list[ContactIn]) -> tuple[domain.Contact, ...]:
    return tuple(domain.Contact(**c.model_dump()) for c in items)


def _documents(items: list[DocumentIn]) -> tuple[domain.ComplianceDocument, ...]:
    return tuple(domain.ComplianceDocument(**d.model_dump()) for d in items)


class ProviderIn(RequestBody):
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
            contacts=_contacts(self.contacts),
            documents=_documents(self.documents),
        )


class ProviderPatch(RequestBody):
    """Fields to change; those left out keep their value."""

    name: str | None = None
    proprietor: str | None = None
    provider_type: ProviderType | None = None
    address: str | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    age_low: int | None = None
    age_high: int | None = None
    gender_intake: GenderIntake | None = None
    attendance: list[Attendance] | None = None
    capacity: int | None = None
    places_in_use: int | None = None
    need_types: list[NeedType] | None = None
    contacts: list[ContactIn] | None = None
    documents: list[DocumentIn] | None = None
    section_41_approved: bool | None = None
    local_authority_code: str | None = None
    local_authority_name: str | None = None


# Fields that may be cleared with an explicit null; every other one needs a value.
NULLABLE = frozenset({"latitude", "longitude", "local_authority_code", "local_authority_name"})


class InspectionIn(RequestBody):
    inspected_on: date
    overall: OfstedJudgement | None = None
    report_card: dict[ReportCardArea, ReportCardGrade] = Field(default_factory=dict)
    safeguarding_met: bool | None = None
    standards_met: bool | None = None

    def to_domain(self) -> domain.Inspection:
        return domain.Inspection(**self.model_dump())


class StatusIn(RequestBody):
    status: ProviderStatus
    reason: str = Field(max_length=2000)


class Decision(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"


class DecisionIn(RequestBody):
    decision: Decision
    reason: str = Field(max_length=2000)


class ProposedDocument(BaseModel):
    kind: DocumentKind
    proposed_expires_on: date
    reference: str | None = None


class ProviderRecord(providers_v1.ProviderSnapshot):
    """A provider's full record, for the council and for the provider itself:
    ``documents`` are the verified ones, proposals await an officer."""

    documents_awaiting_verification: list[ProposedDocument] = Field(default_factory=list)


class ProviderPublic(BaseModel):
    """What one provider may see of another: no capacity, places, contacts or documents."""

    model_config = ConfigDict(extra="forbid")  # a full record never passes for this

    provider_id: str
    urn: int
    name: str
    proprietor: str
    provider_type: ProviderType
    section_41_approved: bool
    status: ProviderStatus
    age_low: int
    age_high: int
    gender_intake: GenderIntake
    attendance: list[Attendance]
    need_types: list[NeedType]
    location: providers_v1.Location
    latest_inspection: providers_v1.InspectionSummary | None = None
    local_authority_code: str | None = None


ProviderView = ProviderRecord | ProviderPublic


class ProviderHit(BaseModel):
    provider: ProviderView
    distance_km: float | None = None


class ProviderPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ProviderHit]


class StatusChangeOut(BaseModel):
    previous_status: ProviderStatus
    status: ProviderStatus
    changed_by: str
    changed_at: datetime
    reason: str
    recommendation_id: str | None = None


class InspectionOut(BaseModel):
    inspection: providers_v1.InspectionSummary
    declined: bool
    is_latest: bool
    recorded_by: str
    recorded_at: datetime


class RecommendationOut(BaseModel):
    recommendation_id: str
    provider_id: str
    reasons: list[str]
    alert_ids: list[str]
    evidence_refs: list[str]
    recommended_at: datetime
    raised_by: str | None = None  # a monitoring officer raised it by hand
    grounds: list[str] = []
    status: str
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None


# --- helpers ----------------------------------------------------------------------------


def _now() -> datetime:
    return clock.now()  # the wall clock, or the training clock (shared.clock)


def _snapshot(provider: domain.Provider) -> providers_v1.ProviderSnapshot:
    return events.provider_snapshot(provider, date.today())


def _view(provider: domain.Provider, actor: Actor) -> ProviderView:
    """The full record for the council and the provider itself; another provider sees
    only the public fields (competitors' capacity and documents are not theirs)."""
    snapshot = _snapshot(provider)
    if actor.role == Role.PROVIDER.value and actor.provider_id != provider.provider_id:
        return ProviderPublic.model_validate(
            snapshot.model_dump(include=set(ProviderPublic.model_fields))
        )
    pending = [
        ProposedDocument(kind=d.kind, proposed_expires_on=d.expires_on, reference=d.reference)
        for d in domain.pending_documents(provider.details.documents)
    ]
    return ProviderRecord(**snapshot.model_dump(), documents_awaiting_verification=pending)


async def _load(session: AsyncSession, provider_id: str) -> ProviderRow:
    row = await session.get(ProviderRow, provider_id)
    if row is None:
        raise NotFound("provider", provider_id)
    return row


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


def _patched_draft(
    draft: domain.ProviderDraft, patch: ProviderPatch, actor: Actor
) -> domain.ProviderDraft:
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
        changes["contacts"] = _contacts(patch.contacts)
    if patch.documents is not None:
        given_documents = _documents(patch.documents)
        if actor.role == Role.PROVIDER.value:  # proposals, for the council to verify
            changes["documents"] = domain.propose_documents(draft.documents, given_documents)
        else:
            changes["documents"] = domain.verified_as(given_documents, actor.id, date.today())
    if patch.attendance is not None:
        changes["attendance"] = frozenset(patch.attendance)
    if patch.need_types is not None:
        changes["need_types"] = frozenset(patch.need_types)
    return replace(draft, **changes)


def _emit_status(
    uow: UnitOfWork, actor: Actor, provider: domain.Provider, change: domain.StatusChange
) -> None:
    record_status_change(uow, actor, provider, change)


# --- providers --------------------------------------------------------------------------


@router.post("/providers", status_code=status.HTTP_201_CREATED)
async def register_provider(
    body: ProviderIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> ProviderView:
    """Put a provider on the register (status `registered`) and announce it; documents
    the council enters are verified by whoever entered them."""
    draft = body.to_draft()
    draft = replace(draft, documents=domain.verified_as(draft.documents, actor.id, date.today()))
    provider = domain.register_provider(str(uuid.uuid4()), draft)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        duplicate = await uow.session.exec(
            select(ProviderRow.id).where(ProviderRow.urn == provider.details.urn)
        )
        if duplicate.first():
            raise Conflict("urn", f"a provider with URN {provider.details.urn} is registered")
        uow.session.add(new_row(provider))
        event = events.registered_event(provider, date.today(), by=actor.id)
        uow.emit(event)
        uow.audit(
            actor, "provider.registered", "provider", provider.provider_id, urn=provider.details.urn
        )
    return _view(provider, actor)


@router.get("/providers/{provider_id}")
async def get_provider(
    provider_id: str,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> ProviderView:
    """The full record for the council and the provider itself; other providers see
    only its public fields."""
    async with runtime.db.session() as session:
        row = await _load(session, provider_id)
    return _view(to_domain(row), actor)


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
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await _load(uow.session, provider_id)
        provider = to_domain(row)
        updated, changed = domain.update_details(
            provider, _patched_draft(provider.details, patch, actor)
        )
        if not changed:
            return _view(provider, actor)  # nothing changed: no event
        apply_provider(row, updated)
        row.version += 1
        uow.session.add(row)
        event = events.updated_event(updated, changed, date.today(), by=actor.id)
        uow.emit(event)
        uow.audit(actor, "provider.updated", "provider", provider_id, changed_fields=changed)
    return _view(updated, actor)


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
        row = await _load(uow.session, provider_id)
        provider = to_domain(row)
        documents = domain.verify_document(
            provider.details.documents, kind, body.expires_on, actor.id, date.today()
        )
        if body.reference is not None:
            last = replace(documents[-1], reference=body.reference)
            documents = (*documents[:-1], last)
        updated, _ = domain.update_details(provider, replace(provider.details, documents=documents))
        apply_provider(row, updated)
        row.version += 1
        uow.session.add(row)
        event = events.updated_event(updated, ["documents"], date.today(), by=actor.id)
        uow.emit(event)
        uow.audit(
            actor,
            "provider.document_verified",
            "provider",
            provider_id,
            kind=kind.value,
            expires_on=body.expires_on.isoformat(),
        )
    return _view(updated, actor)


@router.post("/providers/{provider_id}/inspections", status_code=status.HTTP_201_CREATED)
async def record_inspection(
    provider_id: str,
    body: InspectionIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> providers_v1.ProviderInspectionRecorded:
    """Add an inspection to the history; it becomes the latest unless it is older."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await _load(uow.session, provider_id)
        provider, outcome = domain.record_inspection(to_domain(row), body.to_domain(), date.today())
        uow.session.add(
            InspectionRow(
                provider_id=provider_id,
                inspected_on=outcome.new.inspected_on,
                inspection=inspection_to_json(outcome.new),
                declined=outcome.declined,
                is_latest=outcome.is_latest,
                recorded_by=actor.id,
            )
        )
        apply_provider(row, provider)
        row.version += 1
        uow.session.add(row)
        event = events.inspection_recorded_event(provider, outcome)
        uow.emit(event)
        uow.audit(
            actor,
            "provider.inspection_recorded",
            "provider",
            provider_id,
            inspected_on=outcome.new.inspected_on.isoformat(),
            declined=outcome.declined,
        )
    return event


@router.get("/providers/{provider_id}/inspections")
async def list_inspections(
    provider_id: str,
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[InspectionOut]:
    """The inspection history, newest inspection first."""
    async with runtime.db.session() as session:
        await _load(session, provider_id)
        rows = await session.exec(
            select(InspectionRow)
            .where(InspectionRow.provider_id == provider_id)
            .order_by(col(InspectionRow.inspected_on).desc(), col(InspectionRow.id).desc())
        )
        return [
            InspectionOut(
                inspection=events.inspection_summary(inspection_from_json(r.inspection)),
                declined=r.declined,
                is_latest=r.is_latest,
                recorded_by=r.recorded_by,
                recorded_at=r.recorded_at,
            )
            for r in rows.all()
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
        row = await _load(uow.session, provider_id)
        provider, change = domain.change_status(
            to_domain(row), body.status, by=actor.id, at=_now(), reason=body.reason
        )
        apply_provider(row, provider)
        row.version += 1
        uow.session.add(row)
        _emit_status(uow, actor, provider, change)
    return events.status_changed_event(provider, change)


@router.get("/providers/{provider_id}/status-changes")
async def list_status_changes(
    provider_id: str,
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[StatusChangeOut]:
    """Who changed the provider's status, when and why, oldest first."""
    async with runtime.db.session() as session:
        await _load(session, provider_id)
        rows = await session.exec(
            select(StatusChangeRow)
            .where(StatusChangeRow.provider_id == provider_id)
            .order_by(col(StatusChangeRow.id))
        )
        return [StatusChangeOut.model_validate(r, from_attributes=True) for r in rows.all()]


# --- search -----------------------------------------------------------------------------


def _search_of(
    need: list[NeedType],
    age: int | None,
    attendance: Attendance | None,
    statuses: list[ProviderStatus],
    min_ofsted: OfstedJudgement | None,
    near: str | None,
    within_km: float | None,
) -> domain.ProviderSearch:
    point = None
    if near is not None:
        point = geography.locate(near)
        if point is None:
            raise DomainError("near", "must be a known UK postcode or postcode district")
    search = domain.ProviderSearch(
        need_types=frozenset(need),
        age=age,
        attendance=attendance,
        statuses=frozenset(statuses),
        minimum_judgement=min_ofsted,
        near=point,
        within_km=within_km,
    )
    errors = domain.validate_search(search)
    if errors:
        raise RulesBroken(errors)
    return search


def _filtered(query: Any, search: domain.ProviderSearch) -> Any:
    """Every non-distance criterion as SQL, so only candidates leave the database."""
    conditions = [col(ProviderRow.need_codes).contains(f",{n.value},") for n in search.need_types]
    if search.age is not None:
        conditions += [
            col(ProviderRow.age_low) <= search.age,
            col(ProviderRow.age_high) >= search.age,
        ]
    if search.attendance is not None:
        conditions.append(col(ProviderRow.attendance_codes).contains(f",{search.attendance},"))
    if search.statuses:
        conditions.append(col(ProviderRow.status).in_([s.value for s in search.statuses]))
    if search.minimum_judgement is not None:
        rank = domain.judgement_rank(search.minimum_judgement)
        conditions.append(col(ProviderRow.judgement_rank) <= rank)
    if search.near is not None and search.within_km is not None:
        conditions.append(_bounding_box(search.near, search.within_km))
    return query.where(and_(*conditions)) if conditions else query


def _bounding_box(point: domain.Point, km: float) -> Any:
    """A lat/lon box a little larger than the circle: cheap to test in SQL, exact
    distance is checked in Python afterwards."""
    lat_delta = km / 110.574 * 1.01
    lon_delta = km / (111.320 * max(0.1, math.cos(math.radians(point.latitude)))) * 1.01
    return and_(
        col(ProviderRow.latitude).between(point.latitude - lat_delta, point.latitude + lat_delta),
        col(ProviderRow.longitude).between(
            point.longitude - lon_delta, point.longitude + lon_delta
        ),
    )


async def _page_by_name(
    session: AsyncSession, search: domain.ProviderSearch, limit: int, offset: int
) -> tuple[int, list[tuple[ProviderRow, float | None]]]:
    total_query = _filtered(select(func.count()).select_from(ProviderRow), search)
    total = int((await session.exec(total_query)).one())
    rows = await session.exec(
        _filtered(select(ProviderRow), search)
        .order_by(col(ProviderRow.name), col(ProviderRow.id))
        .limit(limit)
        .offset(offset)
    )
    return total, [(row, None) for row in rows.all()]


async def _page_by_distance(
    session: AsyncSession, search: domain.ProviderSearch, limit: int, offset: int
) -> tuple[int, list[tuple[ProviderRow, float | None]]]:
    assert search.near is not None
    candidates = await session.exec(
        _filtered(
            select(ProviderRow.id, ProviderRow.name, ProviderRow.latitude, ProviderRow.longitude),
            search,
        ).where(col(ProviderRow.latitude).is_not(None), col(ProviderRow.longitude).is_not(None))
    )
    ranked = []
    for provider_id, name, latitude, longitude in candidates.all():
        distance = domain.distance_km(search.near, domain.Point(latitude, longitude))
        if search.within_km is None or distance <= search.within_km:
            ranked.append((distance, name, provider_id))
    ranked.sort()
    page = ranked[offset : offset + limit]
    rows = await session.exec(
        select(ProviderRow).where(col(ProviderRow.id).in_([pid for _, _, pid in page]))
    )
    by_id = {row.id: row for row in rows.all()}
    return len(ranked), [(by_id[pid], distance) for distance, _, pid in page]


@router.get("/providers")
async def search_providers(
    need: list[NeedType] = Query(default=[], description="every one must be met"),
    age: BoundedInt | None = None,
    attendance: Attendance | None = None,
    status_: list[ProviderStatus] = Query(default=[], alias="status"),
    min_ofsted: OfstedJudgement | None = Query(default=None, description="at least this good"),
    near: str | None = Query(default=None, description="postcode or district, e.g. ME14 1XX"),
    within_km: float | None = None,
    limit: int = Query(default=50, ge=1, le=MAX_PAGE),
    offset: Offset = 0,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> ProviderPage:
    """Search the register; with `near`, nearest first (distance from the district centroid)."""
    search = _search_of(need, age, attendance, status_, min_ofsted, near, within_km)
    async with runtime.db.session() as session:
        if search.near is None:
            total, page = await _page_by_name(session, search, limit, offset)
        else:
            total, page = await _page_by_distance(session, search, limit, offset)
    items = [
        ProviderHit(
            provider=_view(to_domain(row), actor),
            distance_km=None if distance is None else round(distance, 3),
        )
        for row, distance in page
    ]
    return ProviderPage(total=total, limit=limit, offset=offset, items=items)


# --- suspension recommendations ---------------------------------------------------------


def _recommendation_out(row: RecommendationRow) -> RecommendationOut:
    return RecommendationOut(
        recommendation_id=row.id,
        provider_id=row.provider_id,
        reasons=row.reasons,
        alert_ids=row.alert_ids,
        evidence_refs=row.evidence_refs,
        recommended_at=row.recommended_at,
        raised_by=row.raised_by,
        grounds=row.grounds,
        status=row.status,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_reason=row.decision_reason,
    )


@router.get("/recommendations")
async def list_recommendations(
    status_: domain.RecommendationStatus | None = Query(default=None, alias="status"),
    provider_id: str | None = None,
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[RecommendationOut]:
    """Suspension recommendations from monitoring, oldest first."""
    query = select(RecommendationRow).order_by(
        col(RecommendationRow.recommended_at), col(RecommendationRow.id)
    )
    if status_ is not None:
        query = query.where(RecommendationRow.status == status_.value)
    if provider_id is not None:
        query = query.where(RecommendationRow.provider_id == provider_id)
    async with runtime.db.session() as session:
        return [_recommendation_out(row) for row in (await session.exec(query)).all()]


@router.post("/recommendations/{recommendation_id}/decision")
async def decide_recommendation(
    recommendation_id: str,
    body: DecisionIn,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> RecommendationOut:
    """Accept (the provider is suspended) or reject (nothing happens) a recommendation."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await uow.session.get(RecommendationRow, recommendation_id)
        if row is None:
            raise NotFound("recommendation", recommendation_id)
        recommendation = recommendation_to_domain(row)
        if body.decision is Decision.ACCEPT:
            provider_row = await _load(uow.session, row.provider_id)
            decided, provider, change = domain.accept_recommendation(
                recommendation, to_domain(provider_row), by=actor.id, at=_now(), reason=body.reason
            )
            apply_provider(provider_row, provider)
            provider_row.version += 1
            uow.session.add(provider_row)
            _emit_status(uow, actor, provider, change)
        else:
            decided = domain.reject_recommendation(
                recommendation, by=actor.id, at=_now(), reason=body.reason
            )
            uow.emit(events.recommendation_rejected_event(decided))
        uow.session.add(apply_recommendation(row, decided))
        uow.audit(
            actor,
            f"recommendation.{decided.status.value}",
            "recommendation",
            recommendation_id,
            provider_id=row.provider_id,
            reason=body.reason,
        )
    return _recommendation_out(row)
