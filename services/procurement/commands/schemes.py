"""Schemes: create (and open at once), change status, amend. The notices a change owes
are returned for the caller to start their clocks once committed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import select

from services.procurement import domain as d
from services.procurement import events
from services.procurement.domain.frameworks import reopen_framework as reopen_framework_domain
from services.procurement.models import (
    SchemeRow,
    apply_amendment,
    apply_scheme,
    scheme_row,
    scheme_to_domain,
    tracked_notice_row,
)
from services.procurement.store import load_scheme_row
from shared.errors import Conflict
from shared.unit_of_work import Actor, UnitOfWork
from shared.working_days import london_date

SchemeAction = Literal["open", "suspend", "close", "extend"]


@dataclass(frozen=True)
class SchemeChanged:
    row: SchemeRow
    owed: list[d.TrackedNotice]  # period notices whose clocks start after the commit


async def create_scheme(
    uow: UnitOfWork, actor: Actor, scheme: d.Scheme, *, open_now: bool, now: datetime
) -> SchemeRow:
    """Create the scheme (its reference unique), opened at once if asked."""
    created = d.create_scheme(scheme)
    opened = d.open_scheme(created, london_date(now)) if open_now else created
    clash = await uow.session.exec(select(SchemeRow).where(SchemeRow.reference == scheme.reference))
    if clash.first() is not None:
        raise Conflict("reference", "duplicate: a scheme has this reference")
    row = scheme_row(opened, actor.id)
    uow.session.add(row)
    uow.emit(events.scheme_created(created, actor.id))
    if open_now:
        uow.emit(events.scheme_opened_on_create(created, actor.id, now))
    uow.audit(actor, "scheme.created", "scheme", created.scheme_id, status=row.status)
    return row


def _transition(
    s: d.Scheme, action: SchemeAction, reason: str, actor: Actor, now: datetime
) -> d.Scheme:
    today = london_date(now)
    if action == "open":
        return d.open_scheme(s, today)
    if action == "suspend":
        return d.suspend_scheme(s, reason)
    if action == "close":
        return d.close_scheme(s, reason, by=actor.id, now=now)
    return d.extend_scheme_term(s, today, by=actor.id, reason=reason, now=now)


async def change_scheme_status(
    uow: UnitOfWork,
    actor: Actor,
    scheme_id: str,
    action: SchemeAction,
    reason: str,
    now: datetime,
) -> SchemeChanged:
    """Open, suspend, close the scheme, or exercise its optional term extension."""
    row = await load_scheme_row(uow, scheme_id)
    before = scheme_to_domain(row)
    after = _transition(before, action, reason, actor, now)
    apply_scheme(row, after)
    uow.session.add(row)
    uow.emit(events.scheme_status_changed(before, after, action, reason, actor.id, now))
    uow.audit(actor, f"scheme.{action}", "scheme", scheme_id, reason=reason)
    owed = [
        d.track_period_notice(after, number)
        for number in range(len(before.period_notices) + 1, len(after.period_notices) + 1)
    ]
    for tracked in owed:  # reg 34(27)-(28): tracked like award notices, overdue alerts
        uow.session.add(tracked_notice_row(tracked))
    return SchemeChanged(row, owed)


async def amend_scheme(
    uow: UnitOfWork,
    actor: Actor,
    scheme_id: str,
    candidate: Callable[[d.Scheme], d.Scheme],
    reason: str,
    now: datetime,
) -> SchemeChanged:
    """Amend a scheme: ``candidate`` gives the scheme as it would be with the changes
    asked; the domain decides which may be made (d.AMENDMENT_RULES)."""
    row = await load_scheme_row(uow, scheme_id)
    before = scheme_to_domain(row)
    done = d.amend_scheme(before, candidate(before), by=actor.id, reason=reason, now=now)
    apply_amendment(row, done.scheme)
    uow.session.add(row)
    uow.emit(events.scheme_amended(before, done.changed, reason, actor.id, now))
    owed = []
    if done.extended:
        uow.emit(events.scheme_extended(before, done.scheme, reason, actor.id, now))
        owed = [d.track_period_notice(done.scheme, len(done.scheme.period_notices))]
        uow.session.add(tracked_notice_row(owed[0]))
    uow.audit(
        actor, "scheme.amended", "scheme", scheme_id, changed=list(done.changed), reason=reason
    )
    return SchemeChanged(row, owed)


async def reopen_framework(
    uow: UnitOfWork, actor: Actor, scheme_id: str, reason: str, now: datetime
) -> SchemeRow:
    """Record the reopening of an open framework (s.49): the next framework is awarded;
    its terms and members carry over, and new suppliers may be admitted."""
    row = await load_scheme_row(uow, scheme_id)
    before = scheme_to_domain(row)
    after = reopen_framework_domain(before, london_date(now), by=actor.id, reason=reason, now=now)
    apply_scheme(row, after)
    uow.session.add(row)
    uow.audit(
        actor,
        "scheme.reopened",
        "scheme",
        scheme_id,
        framework_number=after.reopenings[-1].number,
        reason=reason,
    )
    return row
