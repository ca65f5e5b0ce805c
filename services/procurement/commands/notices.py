"""A notice recorded as sent for publication (e.g. to Find a Tender) or published."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from services.procurement import domain as d
from services.procurement import events
from services.procurement.models import tracked_notice_row, tracked_notice_to_domain
from services.procurement.store import locked_notice
from shared.unit_of_work import Actor, UnitOfWork


async def record_publication(
    uow: UnitOfWork,
    actor: Actor,
    notice_id: str,
    status: Literal["sent", "published"],
    publication_ref: str | None,
    now: datetime,
) -> d.TrackedNotice:
    """Record who sent or published the notice and when; emits notice.published."""
    row = await locked_notice(uow, notice_id)
    n = d.record_notice(
        tracked_notice_to_domain(row),
        d.NoticeStatus(status),
        by=actor.id,
        at=now,
        publication_ref=publication_ref,
    )
    uow.session.add(tracked_notice_row(n, row))
    uow.emit(events.notice_published(n, status, actor.id, now))
    uow.audit(actor, f"notice.{status}", "notice", notice_id, ref=n.publication_ref)
    return n
