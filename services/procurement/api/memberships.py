"""HTTP routes of procurement's memberships (list, suspend, end, reinstate) and renewed
self-declarations."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, status
from pydantic import Field
from sqlmodel import col, select

from services.procurement import domain as d
from services.procurement.api._common import Runtime, current_time, own_provider
from services.procurement.clocks import (
    signal,
    start_declaration_workflow,
)
from services.procurement.commands import memberships as commands
from services.procurement.models import (
    MembershipHistoryRow,
    MembershipRow,
    SchemeRow,
    SelfDeclarationRow,
    self_declaration_to_domain,
)
from services.procurement.policy import ALLOWED
from services.procurement.workflow_types import (
    DeclarationClock,
    declaration_workflow_id,
)
from shared.api_types import RequestBody
from shared.contracts.common import Role
from shared.errors import NotFound
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["procurement"])


# ================================================================ memberships


@router.get("/schemes/{scheme_id}/members")
async def list_members(scheme_id: str, runtime: Runtime, _: Actor = ALLOWED) -> dict[str, Any]:
    """Every membership of the scheme with its status history."""
    async with runtime.db.session() as session:
        if await session.get(SchemeRow, scheme_id) is None:
            raise NotFound("scheme", scheme_id)
        rows = (
            await session.exec(
                select(MembershipRow)
                .where(MembershipRow.scheme_id == scheme_id)
                .order_by(col(MembershipRow.provider_id), col(MembershipRow.category_code))
            )
        ).all()
        history = (
            await session.exec(
                select(MembershipHistoryRow)
                .where(col(MembershipHistoryRow.membership_id).in_([r.id for r in rows]))
                .order_by(col(MembershipHistoryRow.id))
            )
        ).all()
    by_member: dict[int, list[dict[str, Any]]] = {}
    for h in history:
        by_member.setdefault(h.membership_id, []).append(
            {"status": h.status, "reason": h.reason, "by": h.changed_by, "at": h.changed_at}
        )
    return {
        "scheme_id": scheme_id,
        "members": [
            {
                "provider_id": r.provider_id,
                "category_code": r.category_code,
                "lot_code": r.lot_code,
                "quality_score": r.quality_score,
                "status": r.status,
                "status_reason": r.status_reason,
                "admitted_on": r.admitted_on,
                "application_id": r.application_id,
                "history": by_member.get(r.id or 0, []),
            }
            for r in rows
        ],
    }


class MembershipStatusIn(RequestBody):
    action: Literal["suspend", "reinstate", "end"]
    reason: str
    category_code: str | None = None  # None: every category the provider holds


@router.post("/schemes/{scheme_id}/members/{provider_id}/status")
async def change_membership(
    scheme_id: str,
    provider_id: str,
    body: MembershipStatusIn,
    runtime: Runtime,
    actor: Actor = ALLOWED,
) -> dict[str, Any]:
    """Suspend, reinstate or end a membership (e.g. after a quality recommendation)."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        rows = await commands.change_membership(
            uow,
            actor,
            scheme_id,
            provider_id,
            body.action,
            body.reason,
            body.category_code,
            current_time(),
        )
    return {
        "provider_id": provider_id,
        "changed": [r.category_code for r in rows],
        "status": rows[0].status,
    }


# ============================================== renewed self-declarations


class DeclarationRequestIn(RequestBody):
    reason: str = ""


class DeclarationIn(RequestBody):
    declaration: dict[str, str] = Field(min_length=1)


def declaration_view(row: SelfDeclarationRow, now: datetime) -> dict[str, Any]:
    r = self_declaration_to_domain(row)
    return {
        "request_id": row.id,
        "scheme_id": row.scheme_id,
        "provider_id": row.provider_id,
        "requested_by": row.requested_by,
        "requested_at": row.requested_at,
        "reason": row.reason,
        "due_on": row.due_on,
        "due_at": row.due_at,
        "status": row.status,
        "answered_at": row.answered_at,
        "answered_late": r.answered_late,
        "declaration": row.declaration,
        "overdue": d.self_declaration_overdue(r, now),
        "overdue_alerted_at": row.overdue_at,
        "source": d.SELF_DECLARATION_SOURCE,
    }


@router.post(
    "/schemes/{scheme_id}/members/{provider_id}/self-declarations",
    status_code=status.HTTP_201_CREATED,
)
async def request_self_declaration(
    scheme_id: str,
    provider_id: str,
    body: DeclarationRequestIn,
    runtime: Runtime,
    actor: Actor = ALLOWED,
) -> dict[str, Any]:
    """Ask a member for a renewed self-declaration, due within 5 working days (reg 34(25))."""
    now = current_time()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await commands.request_self_declaration(
            uow, actor, scheme_id, provider_id, body.reason, now
        )
    await start_declaration_workflow(
        runtime, DeclarationClock(request_id=row.id, due_at=row.due_at)
    )
    return declaration_view(row, now)


@router.post("/self-declarations/{request_id}/answer")
async def answer_self_declaration(
    request_id: str, body: DeclarationIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """The member's renewed self-declaration (its own requests only)."""
    provider_id = own_provider(actor)
    now = current_time()
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await commands.answer_self_declaration(
            uow, actor, request_id, provider_id, body.declaration, now
        )
    await signal(runtime, declaration_workflow_id(row.id), "answer")
    return declaration_view(row, now)


@router.get("/self-declarations/{request_id}")
async def get_self_declaration(
    request_id: str, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    async with runtime.db.session() as session:
        row = await session.get(SelfDeclarationRow, request_id)
    if row is None or (actor.role == Role.PROVIDER.value and row.provider_id != actor.provider_id):
        raise NotFound("self_declaration", request_id)
    return declaration_view(row, current_time())
