"""Use cases of the register's providers: register, change details, verify documents,
record inspections, move status, decide recommendations, sweep document expiry.

Each runs inside the caller's unit of work (or opens its own), calls the domain, keeps
the rows, emits the providers.v1 event and audits.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from services.provider_registry import domain, events, store
from services.provider_registry.models import (
    DocumentFileRow,
    DocumentNoticeRow,
    InspectionRow,
    ProviderRow,
    RecommendationRow,
    apply_provider,
    apply_recommendation,
    inspection_to_json,
    new_row,
    recommendation_to_domain,
    status_change_row,
    to_domain,
)
from services.provider_registry.workflow_types import SweepResult
from shared.contracts import providers_v1, quality_v1
from shared.contracts.common import Role
from shared.contracts.providers_v1 import DocumentKind, ProviderStatus
from shared.db import Database
from shared.errors import Conflict
from shared.unit_of_work import Actor, UnitOfWork, unit_of_work

SWEEPER = Actor(id="dps/provider_registry/document-expiry-sweep", role="service")


def record_status_change(
    uow: UnitOfWork, actor: Actor, provider: domain.Provider, change: domain.StatusChange
) -> None:
    """Keep a status move's history row, publish provider.status_changed and audit it."""
    uow.session.add(status_change_row(change))
    uow.emit(events.status_changed_event(provider, change))
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


def announce_registered(
    uow: UnitOfWork, actor: Actor, provider: domain.Provider, today: date, **details: Any
) -> None:
    """Keep a new provider's row, publish provider.registered and audit it."""
    uow.session.add(new_row(provider))
    uow.emit(events.registered_event(provider, today, by=actor.id))
    uow.audit(actor, "provider.registered", "provider", provider.provider_id, **details)


def _save(uow: UnitOfWork, row: ProviderRow, provider: domain.Provider) -> None:
    apply_provider(row, provider)
    row.version += 1
    uow.session.add(row)


async def register_provider(
    uow: UnitOfWork, actor: Actor, draft: domain.ProviderDraft, today: date
) -> domain.Provider:
    """Put a provider on the register (status `registered`) and announce it; documents
    the council enters are verified by whoever entered them (409 on a known URN)."""
    draft = replace(draft, documents=domain.verified_as(draft.documents, actor.id, today))
    provider = domain.register_provider(str(uuid.uuid4()), draft)
    duplicate = await uow.session.exec(
        select(ProviderRow.id).where(ProviderRow.urn == provider.details.urn)
    )
    if duplicate.first():
        raise Conflict("urn", f"a provider with URN {provider.details.urn} is registered")
    announce_registered(uow, actor, provider, today, urn=provider.details.urn)
    return provider


async def update_provider(
    uow: UnitOfWork,
    actor: Actor,
    provider_id: str,
    changes: Mapping[str, Any],
    documents: tuple[domain.ComplianceDocument, ...] | None,
    today: date,
) -> domain.Provider:
    """Change details; documents from a provider are proposals for the council to verify,
    the council's are verified by whoever entered them. No change: no event."""
    row = await store.load_provider(uow.session, provider_id)
    provider = to_domain(row)
    draft = replace(provider.details, **changes)
    if documents is not None:
        if actor.role == Role.PROVIDER.value:
            draft = replace(draft, documents=domain.propose_documents(draft.documents, documents))
        else:
            draft = replace(draft, documents=domain.verified_as(documents, actor.id, today))
    updated, changed = domain.update_details(provider, draft)
    if not changed:
        return provider
    _save(uow, row, updated)
    uow.emit(events.updated_event(updated, changed, today, by=actor.id))
    uow.audit(actor, "provider.updated", "provider", provider_id, changed_fields=changed)
    return updated


async def verify_document(
    uow: UnitOfWork,
    actor: Actor,
    provider_id: str,
    kind: DocumentKind,
    expires_on: date,
    reference: str | None,
    today: date,
) -> domain.Provider:
    """An officer verifies the provider's latest proposed document of this kind and sets
    its expiry (409 if none awaits verification); only then does it count."""
    row = await store.load_provider(uow.session, provider_id)
    provider = to_domain(row)
    documents = domain.verify_document(
        provider.details.documents, kind, expires_on, actor.id, today
    )
    if reference is not None:
        documents = (*documents[:-1], replace(documents[-1], reference=reference))
    updated, _ = domain.update_details(provider, replace(provider.details, documents=documents))
    _save(uow, row, updated)
    uow.emit(events.updated_event(updated, ["documents"], today, by=actor.id))
    uow.audit(
        actor,
        "provider.document_verified",
        "provider",
        provider_id,
        kind=kind.value,
        expires_on=expires_on.isoformat(),
    )
    return updated


async def record_inspection(
    uow: UnitOfWork, actor: Actor, provider_id: str, inspection: domain.Inspection, today: date
) -> providers_v1.ProviderInspectionRecorded:
    """Add an inspection to the history; it becomes the latest unless it is older."""
    row = await store.load_provider(uow.session, provider_id)
    provider, outcome = domain.record_inspection(to_domain(row), inspection, today)
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
    _save(uow, row, provider)
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


async def change_status(
    uow: UnitOfWork,
    actor: Actor,
    provider_id: str,
    status: ProviderStatus,
    reason: str,
    at: datetime,
) -> providers_v1.ProviderStatusChanged:
    """Move the provider on the status machine (409 if not allowed)."""
    row = await store.load_provider(uow.session, provider_id)
    provider, change = domain.change_status(
        to_domain(row), status, by=actor.id, at=at, reason=reason
    )
    _save(uow, row, provider)
    record_status_change(uow, actor, provider, change)
    return events.status_changed_event(provider, change)


async def decide_recommendation(
    uow: UnitOfWork,
    actor: Actor,
    recommendation_id: str,
    accept: bool,
    reason: str,
    at: datetime,
) -> RecommendationRow:
    """Accept (the provider is suspended) or reject (nothing happens) a recommendation."""
    row = await store.load_recommendation(uow.session, recommendation_id)
    recommendation = recommendation_to_domain(row)
    if accept:
        provider_row = await store.load_provider(uow.session, row.provider_id)
        decided, provider, change = domain.accept_recommendation(
            recommendation, to_domain(provider_row), by=actor.id, at=at, reason=reason
        )
        _save(uow, provider_row, provider)
        record_status_change(uow, actor, provider, change)
    else:
        decided = domain.reject_recommendation(recommendation, by=actor.id, at=at, reason=reason)
        uow.emit(events.recommendation_rejected_event(decided))
    uow.session.add(apply_recommendation(row, decided))
    uow.audit(
        actor,
        f"recommendation.{decided.status.value}",
        "recommendation",
        recommendation_id,
        provider_id=row.provider_id,
        reason=reason,
    )
    return row


async def receive_recommendation(
    uow: UnitOfWork, actor: Actor, event_id: str, event: quality_v1.SuspensionRecommended
) -> None:
    """Keep the recommendation pending for a commissioner: never suspend on it alone."""
    if await uow.session.get(RecommendationRow, event.recommendation_id) is not None:
        return  # the same recommendation sent again under a new event id
    recommendation = domain.receive_recommendation(
        recommendation_id=event.recommendation_id,
        provider_id=event.provider_id,
        reasons=event.reasons,
        recommended_at=event.recommended_at,
        alert_ids=event.alert_ids,
        evidence_refs=event.evidence_refs,
        raised_by=event.raised_by,
        grounds=event.grounds,
    )
    uow.session.add(
        RecommendationRow(
            id=recommendation.recommendation_id,
            provider_id=recommendation.provider_id,
            reasons=list(recommendation.reasons),
            alert_ids=list(recommendation.alert_ids),
            evidence_refs=list(recommendation.evidence_refs),
            raised_by=recommendation.raised_by,
            grounds=list(recommendation.grounds),
            recommended_at=recommendation.recommended_at,
            status=recommendation.status.value,
        )
    )
    uow.audit(
        actor,
        "recommendation.received",
        "recommendation",
        recommendation.recommendation_id,
        provider_id=recommendation.provider_id,
        raised_by=recommendation.raised_by,
        event_id=event_id,
    )


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


async def keep_document_file(
    uow: UnitOfWork,
    actor: Actor,
    provider_id: str,
    kind: DocumentKind,
    data: bytes,
    given_name: str | None,
    type_name: str,
) -> DocumentFileRow:
    """Keep the uploaded file of a compliance document (its type already told by its
    first bytes); the newest file of a kind is the one an officer verifies."""
    row = DocumentFileRow(
        id=str(uuid.uuid4()),
        provider_id=provider_id,
        kind=kind.value,
        filename=domain.safe_filename(given_name, type_name),
        media_type=domain.MEDIA_TYPES[type_name],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        uploaded_by=actor.id,
    )
    await store.load_provider(uow.session, provider_id)
    uow.session.add(row)
    uow.audit(
        actor,
        "provider.document_file_uploaded",
        "provider",
        provider_id,
        kind=kind.value,
        file_id=row.id,
        sha256=row.sha256,
        size=row.size,
        media_type=row.media_type,
    )
    return row
