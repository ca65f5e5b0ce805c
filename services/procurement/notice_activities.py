"""Temporal activities of the award's clocks: the end of standstill (the contract is
concluded: ``procurement.competition.standstill_ended``) and a notice's due date
(``procurement.notice.overdue`` when nobody recorded it sent or published).

Each takes the workflow's ``now``, re-reads the database under the row's lock and is
idempotent: a retried activity changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import col, update
from temporalio import activity

from services.procurement import domain as d
from services.procurement.handlers import lock
from services.procurement.models import (
    AwardRow,
    CompetitionRow,
    TrackedNoticeRow,
    award_to_domain,
    tracked_notice_row,
    tracked_notice_to_domain,
)
from shared.contracts import procurement_v1
from shared.db import Database
from shared.runtime import ServiceRuntime
from shared.unit_of_work import Actor, UnitOfWork, unit_of_work

END_STANDSTILL_ACTIVITY = "procurement.end_standstill"
NOTICE_OVERDUE_ACTIVITY = "procurement.mark_notice_overdue"
CLOCK = Actor(id="dps/procurement/workflow", role="service")


class StandstillClock(BaseModel):
    competition_id: str
    ends_at: datetime


class NoticeClock(BaseModel):
    notice_id: str
    due_at: datetime


class ClockTick(BaseModel):
    """Which record to check, at the workflow's now."""

    subject: str
    now: datetime


async def end_standstill(db: Database, source: str, tick: ClockTick) -> bool:
    """Conclude the contract once standstill is over: emit the award's terms again as
    ``procurement.competition.standstill_ended``. True when nothing is left to wait for."""
    async with unit_of_work(db, source) as uow:
        await lock(uow, CompetitionRow, tick.subject)
        row = await uow.session.get(AwardRow, tick.subject)
        if row is None or not row.contract_awaits_standstill or row.standstill_ended_at:
            return True
        if not d.standstill_over(award_to_domain(row), tick.now):
            return False
        row.standstill_ended_at = tick.now
        uow.session.add(row)
        ended = procurement_v1.CompetitionStandstillEnded.model_validate(
            {**row.terms, "standstill_ended_at": tick.now}
        )
        uow.emit_raw(procurement_v1.TOPIC, ended.TYPE, ended.subject(), ended)
        uow.audit(CLOCK, "competition.standstill_ended", "competition", row.competition_id)
        return True


async def lock_notice(uow: UnitOfWork, notice_id: str) -> None:
    """The notice row's write lock (a no-op UPDATE), as :func:`handlers.lock` does."""
    key = col(TrackedNoticeRow.notice_id)
    await uow.session.exec(update(TrackedNoticeRow).where(key == notice_id).values(notice_id=key))


async def mark_notice_overdue(db: Database, source: str, tick: ClockTick) -> bool:
    """Raise ``procurement.notice.overdue`` once for a notice still not sent or published
    after its due day. True when nothing is left to wait for."""
    async with unit_of_work(db, source) as uow:
        await lock_notice(uow, tick.subject)
        row = await uow.session.get(TrackedNoticeRow, tick.subject)
        if row is None:
            return True
        notice = tracked_notice_to_domain(row)
        marked = d.mark_notice_overdue(notice, tick.now)
        if marked is None:
            return notice.status is not d.NoticeStatus.DUE or notice.overdue_at is not None
        uow.session.add(tracked_notice_row(marked, row))
        overdue = procurement_v1.NoticeOverdue(
            notice_id=marked.notice_id,
            kind=marked.kind.value,
            scheme_id=marked.scheme_id,
            competition_id=marked.competition_id,
            due_on=marked.due_on,
            rule=marked.rule,
            detected_at=tick.now,
        )
        uow.emit_raw(procurement_v1.TOPIC, overdue.TYPE, overdue.subject(), overdue)
        uow.audit(CLOCK, "notice.overdue", "notice", marked.notice_id, due_on=str(marked.due_on))
        return True


def notice_activities(runtime: ServiceRuntime) -> Sequence[Callable[..., Any]]:
    """The award clocks' activities bound to this runtime's database."""
    db, source = runtime.db, runtime.source

    @activity.defn(name=END_STANDSTILL_ACTIVITY)
    async def standstill(tick: ClockTick) -> bool:
        return await end_standstill(db, source, tick)

    @activity.defn(name=NOTICE_OVERDUE_ACTIVITY)
    async def overdue(tick: ClockTick) -> bool:
        return await mark_notice_overdue(db, source, tick)

    return [standstill, overdue]
