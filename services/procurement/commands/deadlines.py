"""What the workflows' clocks do when a deadline passes: the evaluators' reminder, the
overdue alerts of applications, self-declarations and notices, the end of standstill.

Each takes the workflow's ``now`` (its deterministic clock), re-reads the row under its
lock and is idempotent: a retried or duplicated activity changes nothing twice.
"""

from __future__ import annotations

from services.procurement import domain as d
from services.procurement import events
from services.procurement.commands._actors import CLOCK
from services.procurement.models import (
    ApplicationRow,
    AwardRow,
    CompetitionRow,
    SelfDeclarationRow,
    TrackedNoticeRow,
    award_to_domain,
    self_declaration_to_domain,
    tracked_notice_row,
    tracked_notice_to_domain,
)
from services.procurement.store import lock, lock_notice
from services.procurement.workflow_types import (
    ApplicationClock,
    ClockCheck,
    ClockState,
    ClockTick,
    DeclarationCheck,
)
from shared.unit_of_work import UnitOfWork


def application_clock(row: ApplicationRow) -> ApplicationClock:
    return ApplicationClock(application_id=row.id, reminder_at=row.reminder_at, due_at=row.due_at)


async def _locked_application(uow: UnitOfWork, application_id: str) -> ApplicationRow:
    await lock(uow, ApplicationRow, application_id)
    row = await uow.session.get(ApplicationRow, application_id)
    if row is None:
        raise LookupError(f"application {application_id} not found")
    return row


async def remind_evaluators(uow: UnitOfWork, check: ClockCheck) -> ClockState:
    """Record the day-7 reminder to the evaluators (once per reminder date)."""
    row = await _locked_application(uow, check.application_id)
    decided = row.status == "decided"
    due = check.now >= row.reminder_at
    if not decided and due and (row.reminded_at is None or row.reminded_at < row.reminder_at):
        row.reminded_at = check.now
        uow.session.add(row)
        uow.emit(events.application_reminder_due(row, check.now))
        uow.audit(
            CLOCK,
            "application.reminder_sent",
            "application",
            row.id,
            due_on=row.due_on.isoformat(),
        )
    return ClockState(decided=decided, done=decided or due, clock=application_clock(row))


async def mark_application_overdue(uow: UnitOfWork, check: ClockCheck) -> ClockState:
    """Escalate an application still undecided when its evaluation period has run out."""
    row = await _locked_application(uow, check.application_id)
    decided = row.status == "decided"
    due = check.now >= row.due_at
    if not decided and due and (row.overdue_at is None or row.overdue_at < row.due_at):
        row.overdue_at = check.now
        uow.session.add(row)
        uow.emit(events.application_overdue(row, check.now))
        uow.audit(
            CLOCK, "application.overdue", "application", row.id, due_on=row.due_on.isoformat()
        )
    return ClockState(decided=decided, done=decided or due, clock=application_clock(row))


async def mark_declaration_overdue(uow: UnitOfWork, check: DeclarationCheck) -> bool:
    """Raise the alert for a renewed self-declaration still unanswered after its 5 working
    days (reg 34(25)), once; True when it is answered or was marked overdue."""
    await lock(uow, SelfDeclarationRow, check.request_id)
    row = await uow.session.get(SelfDeclarationRow, check.request_id)
    if row is None:
        raise LookupError(f"self-declaration request {check.request_id} not found")
    request = self_declaration_to_domain(row)
    if not d.self_declaration_overdue(request, check.now):
        return request.answered or row.overdue_at is not None
    if row.overdue_at is None:
        row.overdue_at = check.now
        uow.session.add(row)
        uow.emit(events.self_declaration_overdue(row, check.now))
        uow.audit(
            CLOCK,
            "self_declaration.overdue",
            "self_declaration",
            row.id,
            due_on=str(row.due_on),
        )
    return True


async def end_standstill(uow: UnitOfWork, tick: ClockTick) -> bool:
    """Conclude the contract once standstill is over: emit the award's terms again as
    ``procurement.competition.standstill_ended``. True when nothing is left to wait for."""
    await lock(uow, CompetitionRow, tick.subject)
    row = await uow.session.get(AwardRow, tick.subject)
    if row is None or not row.contract_awaits_standstill or row.standstill_ended_at:
        return True
    if not d.standstill_over(award_to_domain(row), tick.now):
        return False
    row.standstill_ended_at = tick.now
    uow.session.add(row)
    uow.emit(events.standstill_ended(row.terms, tick.now))
    uow.audit(CLOCK, "competition.standstill_ended", "competition", row.competition_id)
    return True


async def mark_notice_overdue(uow: UnitOfWork, tick: ClockTick) -> bool:
    """Raise ``procurement.notice.overdue`` once for a notice still not sent or published
    after its due day. True when nothing is left to wait for."""
    await lock_notice(uow, tick.subject)
    row = await uow.session.get(TrackedNoticeRow, tick.subject)
    if row is None:
        return True
    notice = tracked_notice_to_domain(row)
    marked = d.mark_notice_overdue(notice, tick.now)
    if marked is None:
        return notice.status is not d.NoticeStatus.DUE or notice.overdue_at is not None
    uow.session.add(tracked_notice_row(marked, row))
    uow.emit(events.notice_overdue(marked, tick.now))
    uow.audit(CLOCK, "notice.overdue", "notice", marked.notice_id, due_on=str(marked.due_on))
    return True
