"""The provider portal's reads (issue 15): a provider's own invitations, applications and
self-declaration requests, and the schemes open to join. Read-only, and always narrowed to
the provider its token names: there is no provider id in these paths to swap."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter
from sqlalchemy import or_
from sqlmodel import col, select

from services.procurement.api._common import Runtime, own_provider
from services.procurement.api.application_extras import clarification_requests
from services.procurement.api.applications import application_view
from services.procurement.api.schemes import scheme_view
from services.procurement.models import (
    ApplicationRow,
    BidRow,
    CompetitionRow,
    DecisionRow,
    InvitationRow,
    SchemeRow,
    SelfDeclarationRow,
)
from services.procurement.policy import ALLOWED
from shared.unit_of_work import Actor

router = APIRouter(tags=["procurement"])


@router.get("/portal/invitations")
async def my_invitations(runtime: Runtime, actor: Actor = ALLOWED) -> list[dict[str, Any]]:
    """Call-offs this provider is invited to, the deadline soonest first, with its own live
    bid (never another's, never the child: a call-off names a need reference only)."""
    provider_id = own_provider(actor)
    async with runtime.db.session() as session:
        invited = (
            await session.exec(
                select(InvitationRow).where(InvitationRow.provider_id == provider_id)
            )
        ).all()
        ids = sorted({i.competition_id for i in invited})
        rows = (
            await session.exec(
                select(CompetitionRow)
                .where(col(CompetitionRow.id).in_(ids))
                .order_by(col(CompetitionRow.deadline_at))
            )
        ).all()
        bids = (
            await session.exec(
                select(BidRow).where(
                    BidRow.provider_id == provider_id,
                    col(BidRow.competition_id).in_(ids),
                    or_(col(BidRow.superseded).is_(False), col(BidRow.withdrawn_at).is_not(None)),
                )
            )
        ).all()
    live = {b.competition_id: b for b in bids if not b.superseded}
    withdrawn = _latest_withdrawals(bids, {row.id: row.round for row in rows})
    return [
        {
            "competition_id": row.id,
            "title": row.title,
            "category_code": row.category_code,
            "status": row.status,
            "round": row.round,
            "deadline_at": row.deadline_at,
            "my_bid": None
            if row.id not in live
            else {
                "bid_id": live[row.id].id,
                "version": live[row.id].version,
                "submitted_at": live[row.id].submitted_at,
            },
            # The receipt of the latest withdrawal while no bid is live in the round.
            "my_withdrawal": None
            if row.id in live or row.id not in withdrawn
            else {
                "bid_id": withdrawn[row.id].id,
                "version": withdrawn[row.id].version,
                "withdrawn_at": withdrawn[row.id].withdrawn_at,
            },
        }
        for row in rows
    ]


def _latest_withdrawals(bids: Sequence[BidRow], rounds: dict[str, int]) -> dict[str, BidRow]:
    """Per call-off, the provider's latest withdrawn bid of the current round."""
    latest: dict[str, BidRow] = {}
    for b in bids:
        if b.withdrawn_at is None or b.round != rounds.get(b.competition_id):
            continue
        seen = latest.get(b.competition_id)
        if seen is None or b.version > seen.version:
            latest[b.competition_id] = b
    return latest


@router.get("/portal/applications")
async def my_applications(runtime: Runtime, actor: Actor = ALLOWED) -> list[dict[str, Any]]:
    """This provider's requests to participate with their status and evaluation clock."""
    provider_id = own_provider(actor)
    async with runtime.db.session() as session:
        rows = (
            await session.exec(
                select(ApplicationRow)
                .where(ApplicationRow.provider_id == provider_id)
                .order_by(col(ApplicationRow.submitted_at).desc())
            )
        ).all()
        decisions = {
            d.application_id: d
            for d in (
                await session.exec(
                    select(DecisionRow).where(
                        col(DecisionRow.application_id).in_([r.id for r in rows])
                    )
                )
            ).all()
        }
        schemes = {
            s.id: s.title
            for s in (
                await session.exec(
                    select(SchemeRow).where(col(SchemeRow.id).in_({r.scheme_id for r in rows}))
                )
            ).all()
        }
        asked = await clarification_requests(session, [r.id for r in rows])
    found = []
    for row in rows:
        view = application_view(row, decisions.get(row.id))
        view["scheme_title"] = schemes.get(row.scheme_id, row.scheme_id)
        view["clarification_requests"] = asked[row.id]
        found.append(view)
    return found


@router.get("/portal/self-declarations")
async def my_self_declarations(runtime: Runtime, actor: Actor = ALLOWED) -> list[dict[str, Any]]:
    """Renewed self-declarations the council asked this provider for, due soonest first."""
    provider_id = own_provider(actor)
    async with runtime.db.session() as session:
        rows = (
            await session.exec(
                select(SelfDeclarationRow)
                .where(SelfDeclarationRow.provider_id == provider_id)
                .order_by(col(SelfDeclarationRow.due_at))
            )
        ).all()
    return [
        {
            "request_id": r.id,
            "scheme_id": r.scheme_id,
            "reason": r.reason,
            "due_on": r.due_on,
            "due_at": r.due_at,
            "status": r.status,
            "answered_at": r.answered_at,
        }
        for r in rows
    ]


@router.get("/portal/schemes")
async def open_schemes(runtime: Runtime, _: Actor = ALLOWED) -> list[dict[str, Any]]:
    """The schemes open to join (PCR 2015 reg 34, a dynamic market: at any time; an open
    framework: in its windows, shown as `joining`, Procurement Act 2023 s.49(1))."""
    async with runtime.db.session() as session:
        rows = (
            await session.exec(
                select(SchemeRow).where(SchemeRow.status == "open").order_by(col(SchemeRow.title))
            )
        ).all()
    return [scheme_view(r) for r in rows]
