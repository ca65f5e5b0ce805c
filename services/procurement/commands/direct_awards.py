"""Direct awards (Procurement Act 2023 s.41, Schedule 5): record the decision, its ground
and justification, and the notices and standstill that must precede the contract."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from services.procurement import clocks, events
from services.procurement.commands.awards import AfterCommit
from services.procurement.domain.direct_awards import (
    DirectAward,
    record_direct_award,
    track_direct_award_notices,
)
from services.procurement.models import DirectAwardRow, direct_award_row, tracked_notice_row
from services.procurement.store import load_scheme_row
from shared.errors import NotFound
from shared.unit_of_work import Actor, UnitOfWork


async def decide_direct_award(
    uow: UnitOfWork,
    actor: Actor,
    *,
    ground: str,
    justification: str,
    provider_id: str,
    contract_value: Decimal,
    start_date: date,
    end_date: date | None,
    now: datetime,
    scheme_id: str | None = None,
    need_ref: str | None = None,
    light_touch: bool = True,
    voluntary_standstill: bool = False,
    after_commit: list[AfterCommit] | None = None,
) -> DirectAward:
    """Record a direct award; its scheme (if named) must exist. Emits
    ``procurement.direct_award.recorded`` with the notice and standstill decision, and
    tracks the notices it owes (notice_rules.NOTICE_RULES, pa2023_direct_award): their
    clocks, which mark them overdue, go to ``after_commit``."""
    if scheme_id is not None:
        await load_scheme_row(uow, scheme_id)  # 404 for an unknown scheme
    award = record_direct_award(
        direct_award_id=str(uuid.uuid4()),
        ground=ground,
        justification=justification,
        provider_id=provider_id,
        contract_value=contract_value,
        start_date=start_date,
        end_date=end_date,
        decided_by=actor.id,
        now=now,
        scheme_id=scheme_id,
        need_ref=need_ref,
        light_touch=light_touch,
        voluntary_standstill=voluntary_standstill,
    )
    uow.session.add(direct_award_row(award))
    owed = track_direct_award_notices(award)
    uow.session.add_all([tracked_notice_row(n) for n in owed])
    if after_commit is not None:
        after_commit.append(lambda rt: clocks.start_notice_clocks(rt, owed))
    uow.emit(events.direct_award_recorded(award))
    uow.audit(
        actor,
        "direct_award.recorded",
        "direct_award",
        award.direct_award_id,
        ground=award.ground.value,
        requires_transparency_notice=award.requires_transparency_notice,
        notices=[n.notice_id for n in owed],
    )
    return award


async def load_direct_award(uow: UnitOfWork, direct_award_id: str) -> DirectAwardRow:
    row = await uow.session.get(DirectAwardRow, direct_award_id)
    if row is None:
        raise NotFound("direct_award", direct_award_id)
    return row
