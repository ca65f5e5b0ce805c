"""Temporal activities of the provider register: the I/O its workflows need."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel
from sqlmodel import col, select
from temporalio import activity

from services.provider_registry import domain
from services.provider_registry.models import DocumentNoticeRow, ProviderRow, to_domain
from shared.contracts import providers_v1
from shared.db import Database
from shared.runtime import ServiceRuntime
from shared.unit_of_work import Actor, unit_of_work

SWEEP_ACTIVITY = "provider_registry.sweep_document_expiry"
SWEEPER = Actor(id="dps/provider_registry/document-expiry-sweep", role="service")


class SweepResult(BaseModel):
    providers_checked: int
    notices_sent: int


async def sweep_document_expiry(db: Database, source: str, today: date) -> SweepResult:
    """Emit provider.document_expiring once per provider, document kind and expiry date
    for documents expired or expiring within the warning window."""
    horizon = today + timedelta(days=domain.DOCUMENT_WARNING_DAYS)
    async with unit_of_work(db, source) as uow:
        rows = await uow.session.exec(
            select(ProviderRow).where(
                col(ProviderRow.next_document_expiry) <= horizon,
                ProviderRow.status != providers_v1.ProviderStatus.REMOVED.value,
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
            for event in domain.document_expiring_events(provider, today):
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
                uow.emit_raw(
                    providers_v1.TOPIC,
                    providers_v1.PROVIDER_DOCUMENT_EXPIRING,
                    event.provider_id,
                    event,
                )
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


def activities(runtime: ServiceRuntime) -> Sequence[Callable[..., Any]]:
    """The activities bound to this runtime's database."""

    @activity.defn(name=SWEEP_ACTIVITY)
    async def sweep(today: date) -> SweepResult:
        return await sweep_document_expiry(runtime.db, runtime.source, today)

    return [sweep]
