"""A provider's monitoring file for the officers' console: the visits, KPI returns and
incidents monitoring holds about one provider, newest first (read-only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlmodel import col, select

from services.monitoring.models import Incident, KpiReturnRow, ProviderProfile, Visit
from services.monitoring.policy import ALLOWED
from shared.errors import NotFound
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
        if await session.get(ProviderProfile, provider_id) is None:
            raise NotFound("provider", provider_id)
        visits = await session.exec(
            select(Visit)
            .where(Visit.provider_id == provider_id)
            .order_by(col(Visit.visited_on).desc())
            .limit(limit)
        )
        returns = await session.exec(
            select(KpiReturnRow)
            .where(KpiReturnRow.provider_id == provider_id)
            .order_by(col(KpiReturnRow.submitted_on).desc())
            .limit(limit)
        )
        incidents = await session.exec(
            select(Incident)
            .where(Incident.provider_id == provider_id)
            .order_by(col(Incident.occurred_on).desc())
            .limit(limit)
        )
        return {
            "provider_id": provider_id,
            "visits": [v.model_dump(mode="json") for v in visits.all()],
            "kpi_returns": [k.model_dump(mode="json") for k in returns.all()],
            "incidents": [i.model_dump(mode="json") for i in incidents.all()],
        }
