"""Memberships changed by a commissioner (suspend, reinstate, end) and renewed
self-declarations (requested of a member, answered by it)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from services.procurement import domain as d
from services.procurement import events
from services.procurement.commands.register import (
    record_membership_change,
    set_aside_open_bids,
)
from services.procurement.models import (
    MembershipRow,
    SelfDeclarationRow,
    membership_to_domain,
    scheme_to_domain,
    self_declaration_row,
    self_declaration_to_domain,
)
from services.procurement.store import (
    load_memberships,
    load_scheme_row,
    locked_declaration,
    member_rows,
)
from shared.errors import NotFound
from shared.unit_of_work import Actor, UnitOfWork
from shared.working_days import london_date

_CHANGES = {
    "suspend": d.suspend_membership,
    "reinstate": d.reinstate_membership,
    "end": d.end_membership,
}


async def change_membership(
    uow: UnitOfWork,
    actor: Actor,
    scheme_id: str,
    provider_id: str,
    action: Literal["suspend", "reinstate", "end"],
    reason: str,
    category_code: str | None,
    now: datetime,
) -> list[MembershipRow]:
    """Suspend, reinstate or end a member's memberships (of one category or all); a
    member no longer active has its live bids set aside. Returns the rows changed."""
    rows = await member_rows(uow, scheme_id, provider_id, category_code)
    if not rows:
        raise NotFound("membership", f"{scheme_id}/{provider_id}")
    today = london_date(now)
    for row in rows:
        changed = _CHANGES[action](membership_to_domain(row), reason, actor.id, today)
        record_membership_change(uow, row, changed)
        await set_aside_open_bids(uow, changed)
    return rows


async def request_self_declaration(
    uow: UnitOfWork, actor: Actor, scheme_id: str, provider_id: str, reason: str, now: datetime
) -> SelfDeclarationRow:
    """Ask a member for a renewed self-declaration, due within 5 working days (reg 34(25))."""
    scheme = scheme_to_domain(await load_scheme_row(uow, scheme_id))
    request = d.request_self_declaration(
        scheme,
        await load_memberships(uow, scheme_id),
        request_id=str(uuid.uuid4()),
        provider_id=provider_id,
        by=actor.id,
        reason=reason,
        now=now,
    )
    row = self_declaration_row(request)
    uow.session.add(row)
    uow.emit(events.self_declaration_requested(row, now))
    uow.audit(actor, "self_declaration.requested", "self_declaration", row.id)
    return row


async def answer_self_declaration(
    uow: UnitOfWork,
    actor: Actor,
    request_id: str,
    provider_id: str,
    declaration: Mapping[str, str],
    now: datetime,
) -> SelfDeclarationRow:
    """The member's renewed self-declaration (its own requests only)."""
    row = await locked_declaration(uow, request_id)
    if row.provider_id != provider_id:
        raise NotFound("self_declaration", request_id)  # others' are not disclosed
    answered = d.answer_self_declaration(
        self_declaration_to_domain(row),
        provider_id=provider_id,
        declaration=dict(declaration),
        now=now,
    )
    row.status, row.answered_by, row.answered_at = "answered", provider_id, now
    row.declaration = dict(answered.declaration)
    uow.session.add(row)
    uow.emit(events.self_declaration_answered(row, answered.answered_late, now))
    uow.audit(actor, "self_declaration.answered", "self_declaration", row.id)
    return row
