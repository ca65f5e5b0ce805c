"""HTTP routes of the notices the council must publish: award notices grouped by quarter
(reg 50), every notice's tracking (due, sent, published, overdue) with filters, and the
route a commissioner calls to record that a notice was sent or published (who, when).
Every notice says what it is in words, the regime it is owed under, and its source
(PCR 2015 or the Procurement Act 2023 and Procurement Regulations 2024: d.NOTICE_RULES).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field
from sqlmodel import col, select

from services.procurement import domain as d
from services.procurement.api._common import Runtime, current_time
from services.procurement.commands import notices as commands
from services.procurement.models import (
    NoticeRow,
    SchemeRow,
    TrackedNoticeRow,
    notice_to_domain,
    tracked_notice_to_domain,
)
from services.procurement.policy import ALLOWED
from shared.api_types import ApiDate, RequestBody
from shared.unit_of_work import Actor, unit_of_work

# The kinds that record a call-off's award: PCR 2015's award notice, the Act's contract
# award notice. The /notices listing shows that one as the call-off's tracking.
_AWARD_KINDS = (d.NoticeKind.AWARD.value, d.NoticeKind.CONTRACT_AWARD.value)

router = APIRouter(tags=["procurement"])


@router.get("/notices")
async def list_notices(
    runtime: Runtime, scheme_id: str | None = None, _: Actor = ALLOWED
) -> dict[str, Any]:
    """Award notices to publish: DPS call-offs grouped by calendar quarter (reg 50),
    and those the regime wants one by one; each with its tracking."""
    async with runtime.db.session() as session:
        query = select(NoticeRow).order_by(col(NoticeRow.awarded_on))
        if scheme_id is not None:
            query = query.where(NoticeRow.scheme_id == scheme_id)
        rows = (await session.exec(query)).all()
        tracked_query = select(TrackedNoticeRow).where(
            col(TrackedNoticeRow.competition_id).is_not(None)
        )
        if scheme_id is not None:
            tracked_query = tracked_query.where(TrackedNoticeRow.scheme_id == scheme_id)
        tracked_rows = (
            await session.exec(tracked_query.order_by(col(TrackedNoticeRow.due_on)))
        ).all()
    notices = [notice_to_domain(r) for r in rows]
    by_call_off: dict[str, list[d.TrackedNotice]] = {}
    for t in tracked_rows:
        by_call_off.setdefault(t.competition_id or "", []).append(tracked_notice_to_domain(t))
    regimes = {n.scheme_id: n.regime.value for n in notices}

    def view(n: d.AwardNotice) -> dict[str, Any]:
        owed = by_call_off.get(n.competition_id, [])
        award = next((t for t in owed if t.kind.value in _AWARD_KINDS), None)
        return _notice_view(n) | {
            "tracking": None if award is None else _tracking_view(award, regimes),
            "tracked": [_tracking_view(t, regimes) for t in owed],
        }

    return {
        "quarters": [
            {
                "quarter": str(q),
                "start": q.start,
                "end": q.end,
                "due_on": q.grouped_notice_due,
                "notices": [view(n) for n in items],
            }
            for q, items in d.group_notices_by_quarter(notices).items()
        ],
        "individual": [view(n) for n in notices if not n.grouped],
    }


def _notice_view(n: d.AwardNotice) -> dict[str, Any]:
    return {
        "competition_id": n.competition_id,
        "scheme_id": n.scheme_id,
        "scheme_reference": n.scheme_reference,
        "regime": n.regime.value,
        "description": n.description,
        "provider_id": n.provider_id,
        "value": str(n.value),
        "awarded_on": n.awarded_on,
        "contract_start": n.contract_start,
        "contract_end": n.contract_end,
        "quarter": str(n.quarter),
        "due_on": n.due_on,
    }


def _tracking_view(n: d.TrackedNotice, regimes: dict[str, str]) -> dict[str, Any]:
    """One notice: what it is (in words), under which regime, when due and why (its
    source), and who sent or published it when."""
    regime = regimes.get(n.scheme_id)
    return {
        "notice_id": n.notice_id,
        "kind": n.kind.value,
        "kind_words": d.NOTICE_KIND_WORDS[n.kind],
        "form": d.notice_form(regime, n.kind) if regime else "",
        "regime": regime,
        "scheme_id": n.scheme_id,
        "competition_id": n.competition_id,
        "due_on": n.due_on,
        "rule": n.rule,
        "source": n.rule,
        "status": n.status.value,
        "overdue": n.overdue_at is not None and n.status is d.NoticeStatus.DUE,
        "overdue_at": n.overdue_at,
        "sent_by": n.sent_by,
        "sent_at": n.sent_at,
        "published_by": n.published_by,
        "published_at": n.published_at,
        "publication_ref": n.publication_ref,
        "late": d.notice_late(n),
    }


async def _regimes(runtime: Runtime, scheme_ids: set[str]) -> dict[str, str]:
    """Each scheme's regime code, for the notices of those schemes."""
    if not scheme_ids:
        return {}
    async with runtime.db.session() as session:
        rows = (
            await session.exec(
                select(SchemeRow.id, SchemeRow.regime).where(col(SchemeRow.id).in_(scheme_ids))
            )
        ).all()
    return dict(rows)


@router.get("/notices/tracking")
async def list_tracked_notices(
    runtime: Runtime,
    kind: d.NoticeKind | None = None,
    status: d.NoticeStatus | None = None,
    scheme_id: str | None = None,
    competition_id: str | None = None,
    overdue: bool | None = None,
    due_before: ApiDate | None = None,
    regime: str | None = Query(default=None, max_length=40),
    _: Actor = ALLOWED,
) -> dict[str, Any]:
    """Every notice with its tracking, soonest due first; filters combine (AND).
    ``overdue=true``: still not sent or published after its due day (alert raised);
    ``regime``: the notices of schemes under that regime (e.g. pa2023_dynamic_market)."""
    query = select(TrackedNoticeRow).order_by(
        col(TrackedNoticeRow.due_on), col(TrackedNoticeRow.notice_id)
    )
    if kind is not None:
        query = query.where(TrackedNoticeRow.kind == kind.value)
    if status is not None:
        query = query.where(TrackedNoticeRow.status == status.value)
    if scheme_id is not None:
        query = query.where(TrackedNoticeRow.scheme_id == scheme_id)
    if competition_id is not None:
        query = query.where(TrackedNoticeRow.competition_id == competition_id)
    if due_before is not None:
        query = query.where(col(TrackedNoticeRow.due_on) < due_before)
    if regime is not None:
        under = select(SchemeRow.id).where(SchemeRow.regime == regime)
        query = query.where(col(TrackedNoticeRow.scheme_id).in_(under))
    async with runtime.db.session() as session:
        rows = (await session.exec(query)).all()
    regimes = await _regimes(runtime, {r.scheme_id for r in rows})
    views = [_tracking_view(tracked_notice_to_domain(r), regimes) for r in rows]
    if overdue is not None:
        views = [v for v in views if v["overdue"] is overdue]
    return {"notices": views}


class PublicationIn(RequestBody):
    status: Literal["sent", "published"]
    publication_ref: str | None = Field(default=None, max_length=200)


@router.post("/notices/{notice_id}/publication")
async def record_publication(
    notice_id: str, body: PublicationIn, runtime: Runtime, actor: Actor = ALLOWED
) -> dict[str, Any]:
    """Record that a notice was sent for publication (e.g. to Find a Tender) or
    published, by whom and when; emits ``procurement.notice.published``."""
    async with unit_of_work(runtime.db, runtime.source) as uow:
        n = await commands.record_publication(
            uow, actor, notice_id, body.status, body.publication_ref, current_time()
        )
    return _tracking_view(n, await _regimes(runtime, {n.scheme_id}))
