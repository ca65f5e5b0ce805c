"""Lists the officers' console reads (issue 14): requests to participate by the time left
on their evaluation clock, and call-offs by status. Read-only; the rules stay in api.py.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from sqlmodel import col, select

from services.procurement.api._common import Runtime
from services.procurement.api.application_extras import clarification_requests
from services.procurement.api.applications import application_view
from services.procurement.models import ApplicationRow, CompetitionRow, DecisionRow
from services.procurement.policy import ALLOWED
from shared.errors import NotFound
from shared.unit_of_work import Actor

router = APIRouter(tags=["procurement"])

CompetitionState = Literal[
    "open", "closed", "evaluation", "evaluated", "awarded", "no_suitable_bid", "no_eligible_members"
]


@router.get("/applications")
async def list_applications(
    runtime: Runtime,
    status: Literal["submitted", "decided"] | None = None,
    scheme_id: str | None = None,
    limit: int = Query(default=200, ge=1, le=1000),
    _: Actor = ALLOWED,
) -> list[dict[str, Any]]:
    """Requests to participate, the one due soonest first (the evaluation clock of
    PCR 2015 reg 34(15)-(16) runs on each)."""
    query = select(ApplicationRow)
    if status is not None:
        query = query.where(ApplicationRow.status == status)
    if scheme_id is not None:
        query = query.where(ApplicationRow.scheme_id == scheme_id)
    async with runtime.db.session() as session:
        rows = (await session.exec(query.order_by(col(ApplicationRow.due_at)).limit(limit))).all()
        ids = [row.id for row in rows]
        decisions = {
            d.application_id: d
            for d in (
                await session.exec(
                    select(DecisionRow).where(col(DecisionRow.application_id).in_(ids))
                )
            ).all()
        }
    return [application_view(row, decisions.get(row.id)) for row in rows]


@router.get("/applications/{application_id}")
async def get_application(
    application_id: str, runtime: Runtime, _: Actor = ALLOWED
) -> dict[str, Any]:
    """One request to participate with the provider's answers and its decision."""
    async with runtime.db.session() as session:
        row = await session.get(ApplicationRow, application_id)
        if row is None:
            raise NotFound("application", application_id)
        decision = await session.get(DecisionRow, application_id)
        asked = await clarification_requests(session, [application_id])
    view = application_view(row, decision)
    view["answers"] = row.answers
    view["clarification_requests"] = asked[application_id]
    return view


@router.get("/competitions")
async def list_competitions(
    runtime: Runtime,
    status: list[CompetitionState] = Query(default=[]),
    limit: int = Query(default=200, ge=1, le=1000),
    _: Actor = ALLOWED,
) -> list[dict[str, Any]]:
    """Call-offs, the deadline soonest first; never the child (the need is a reference)."""
    query = select(CompetitionRow)
    if status:
        query = query.where(col(CompetitionRow.status).in_(status))
    async with runtime.db.session() as session:
        rows = (
            await session.exec(query.order_by(col(CompetitionRow.deadline_at)).limit(limit))
        ).all()
    return [
        {
            "competition_id": row.id,
            "scheme_id": row.scheme_id,
            "category_code": row.category_code,
            "kind": row.kind,
            "title": row.title,
            "status": row.status,
            "round": row.round,
            "opened_at": row.opened_at,
            "deadline_at": row.deadline_at,
            "closed_at": row.closed_at,
        }
        for row in rows
    ]
