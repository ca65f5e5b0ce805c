"""Use cases of the GIAS import: a provider of the extract registered, updated, its
inspection recorded, or its establishment closed, by the register's normal rules (each
change kept, audited and published)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime

from services.provider_registry import domain, events
from services.provider_registry.commands.providers import announce_registered, record_status_change
from services.provider_registry.models import (
    InspectionRow,
    ProviderRow,
    apply_provider,
    inspection_to_json,
    to_domain,
)
from shared.unit_of_work import Actor, UnitOfWork


def import_inspection(
    uow: UnitOfWork,
    actor: Actor,
    provider: domain.Provider,
    inspection: domain.Inspection | None,
    today: date,
) -> tuple[domain.Provider, InspectionRow | None]:
    """Record the extract's inspection unless the register already holds it as latest.

    The history row is returned, not added, so the caller adds it after the provider's
    own row (the foreign key needs that order and the session does not infer it).
    """
    if inspection is None or provider.latest_inspection == inspection:
        return provider, None
    latest = provider.latest_inspection
    if latest is not None and inspection.inspected_on < latest.inspected_on:
        return provider, None  # the register knows a newer one: the extract is behind
    provider, outcome = domain.record_inspection(provider, inspection, today)
    if latest is not None:
        event = events.inspection_recorded_event(provider, outcome)
        uow.emit(event)
    history = InspectionRow(
        provider_id=provider.provider_id,
        inspected_on=inspection.inspected_on,
        inspection=inspection_to_json(inspection),
        declined=outcome.declined,
        is_latest=outcome.is_latest,
        recorded_by=actor.id,
    )
    return provider, history


def import_new_provider(
    uow: UnitOfWork,
    actor: Actor,
    draft: domain.ProviderDraft,
    inspection: domain.Inspection | None,
    today: date,
    line: int,
) -> InspectionRow | None:
    """Put a provider of the extract on the register, with its inspection; the history
    row is returned for the caller to add after the providers (see import_inspection)."""
    provider = domain.register_provider(str(uuid.uuid4()), draft)
    # The first inspection travels in the registered snapshot, not as a separate event.
    provider, history = import_inspection(uow, actor, provider, inspection, today)
    announce_registered(uow, actor, provider, today, urn=draft.urn, source="gias import", line=line)
    return history


def import_update(
    uow: UnitOfWork,
    actor: Actor,
    row: ProviderRow,
    draft: domain.ProviderDraft,
    inspection: domain.Inspection | None,
    today: date,
) -> tuple[bool, InspectionRow | None]:
    """Apply the extract to a known provider; False when nothing changed.

    Only the columns GIAS holds are taken from it: contacts the provider keeps itself
    and compliance documents stay as the register has them.
    """
    before = to_domain(row)
    draft = replace(
        draft,
        documents=before.details.documents,
        contacts=before.details.contacts or draft.contacts,
    )
    provider, changed = domain.update_details(before, draft)
    provider, history = import_inspection(uow, actor, provider, inspection, today)
    if not changed and provider == before:
        return False, None
    apply_provider(row, provider)
    row.version += 1
    uow.session.add(row)
    if changed:
        event = events.updated_event(provider, changed, today, by=actor.id)
        uow.emit(event)
        uow.audit(actor, "provider.updated", "provider", row.id, changed_fields=changed)
    return True, history


def close_establishment(
    uow: UnitOfWork,
    actor: Actor,
    row: ProviderRow,
    closure: domain.EstablishmentClosure,
    at: datetime,
) -> bool:
    """Close or flag a known provider by the register's normal status changes (each one
    kept, audited and published as provider.status_changed); False when nothing moved."""
    provider, changes = domain.close_establishment(to_domain(row), closure, by=actor.id, at=at)
    if not changes:
        return False
    apply_provider(row, provider)
    row.version += 1
    uow.session.add(row)
    for change in changes:
        record_status_change(uow, actor, provider, change)
    return True
