"""A provider's monitoring file for the officers' console: the visits, KPI returns and
incidents monitoring holds about one provider, newest first (read-only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from services.monitoring import store
from services.monitoring.policy import ALLOWED
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor

router = APIRouter(tags=["monitoring"])


@router.get("/providers/{provider_id}/file")
async def provider_file(
    provider_id: str,
    limit: int = Query(default=50, ge=1, le=500),
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    """The provider's latest `limit` visits, KPI returns and incidents (each newest first).
    No child is named: KPI returns and incidents carry only the placement id."""
    async with runtime.db.session() as session:
        return await store.provider_file(session, provider_id, limit)
