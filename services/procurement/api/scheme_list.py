"""The list of schemes (the officers' console, issue 14). Read-only; each scheme as
GET /schemes/{scheme_id} shows it (its terms are published)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from sqlmodel import col, select

from services.procurement.api._common import Runtime
from services.procurement.api.schemes import scheme_view
from services.procurement.models import SchemeRow
from services.procurement.policy import ALLOWED
from shared.unit_of_work import Actor

router = APIRouter(tags=["procurement"])


@router.get("/schemes")
async def list_schemes(
    runtime: Runtime,
    status: Literal["draft", "open", "suspended", "closed"] | None = None,
    limit: int = Query(default=200, ge=1, le=1000),
    _: Actor = ALLOWED,
) -> list[dict[str, Any]]:
    """Schemes by reference."""
    query = select(SchemeRow)
    if status is not None:
        query = query.where(SchemeRow.status == status)
    async with runtime.db.session() as session:
        rows = (await session.exec(query.order_by(col(SchemeRow.reference)).limit(limit))).all()
    return [scheme_view(row) for row in rows]
