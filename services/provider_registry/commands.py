"""Use cases shared by the register's entry points (HTTP API and the GIAS import)."""

from __future__ import annotations

from services.provider_registry import domain
from services.provider_registry.models import status_change_row
from shared.contracts import providers_v1
from shared.unit_of_work import Actor, UnitOfWork


def record_status_change(
    uow: UnitOfWork, actor: Actor, provider: domain.Provider, change: domain.StatusChange
) -> None:
    """Keep a status move's history row, publish provider.status_changed and audit it."""
    uow.session.add(status_change_row(change))
    event = domain.status_changed_event(provider, change)
    uow.emit(providers_v1.TOPIC, providers_v1.PROVIDER_STATUS_CHANGED, provider.provider_id, event)
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
