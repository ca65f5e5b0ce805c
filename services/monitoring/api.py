"""HTTP routes of monitoring."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlmodel import col, select

from services.monitoring.models import ProviderProfile
from shared.auth import require
from shared.contracts.common import Role
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor

router = APIRouter(tags=["monitoring"])

READERS = (Role.MONITORING_OFFICER, Role.COMMISSIONER, Role.ADMIN)


@router.get("/providers")
async def list_known_providers(
    _actor: Actor = Depends(require(*READERS)),
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[ProviderProfile]:
    """Providers monitoring has heard of through providers.v1, newest first."""
    async with runtime.db.session() as session:
        rows = await session.exec(
            select(ProviderProfile).order_by(col(ProviderProfile.first_seen_at).desc()).limit(500)
        )
        return list(rows.all())
