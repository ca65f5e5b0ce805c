"""Children's data retention in placements (UK GDPR Art. 5(1)(e), storage limitation).

A need placed or withdrawn, a placement ended or terminated, and a plan the council
ceased keep their child data for ``child_data_retention_days`` (DPS_CHILD_DATA_RETENTION_
DAYS); then the child reference is replaced by its keyed pseudonym and the date of birth
and postcode district are dropped, in the rows and in the kept outbox rows of those needs
and placements. A periodic job (beside the outbox pruning) does it; each change is
audited. What is kept and why: docs/data-inventory.md.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import and_, or_, update
from sqlmodel import col, select

from services.placements import domain
from services.placements.commands import SERVICE_ACTOR
from services.placements.models import ChildPlanRow, NeedRow, PlacementRow
from shared.contracts import placements_v1
from shared.db import Database
from shared.infra_models import OutboxMessage
from shared.logging import get_logger
from shared.runtime import ProcessRole, ServiceRuntime
from shared.unit_of_work import UnitOfWork, unit_of_work

log = get_logger(__name__)

RETENTION_SWEEP_S = 3600.0
_CLOSED_NEEDS = (domain.NeedStatus.PLACED.value, domain.NeedStatus.WITHDRAWN.value)
_ENDED = (placements_v1.PlacementStatus.ENDED.value, placements_v1.PlacementStatus.TERMINATED.value)


@dataclass(frozen=True)
class RetentionRun:
    """What one run pseudonymised."""

    needs: tuple[str, ...]
    placements: tuple[str, ...]
    plans: int
    outbox_rows: int


async def pseudonymise_expired(
    db: Database, source: str, key: bytes, retention_days: int, now: datetime
) -> RetentionRun:
    """Pseudonymise the child data whose retention period has run out."""
    cutoff = domain.retention_cutoff(now, retention_days)
    async with unit_of_work(db, source) as uow:
        needs = await _pseudonymise_needs(uow, key, cutoff, now)
        placements = await _pseudonymise_placements(uow, key, cutoff.date(), now)
        plans = await _pseudonymise_plans(uow, key, cutoff.date(), now)
        rows = await _pseudonymise_outbox(uow, key, [*needs, *placements])
        for entity, ids in (("need", needs), ("placement", placements)):
            for entity_id in ids:
                uow.audit(SERVICE_ACTOR, "child_data.pseudonymised", entity, entity_id)
    return RetentionRun(tuple(needs), tuple(placements), plans, rows)


async def _pseudonymise_needs(
    uow: UnitOfWork, key: bytes, cutoff: datetime, now: datetime
) -> list[str]:
    # A need closed before closed_at was recorded counts from when it was raised.
    closed_before = or_(
        col(NeedRow.closed_at) < cutoff,
        and_(col(NeedRow.closed_at).is_(None), col(NeedRow.raised_at) < cutoff),
    )
    rows = await uow.session.exec(
        select(NeedRow).where(
            col(NeedRow.status).in_(_CLOSED_NEEDS),
            col(NeedRow.pseudonymised_at).is_(None),
            closed_before,
        )
    )
    done = []
    for row in rows.all():
        row.child_ref = domain.pseudonym(row.child_ref, key)
        row.date_of_birth = None
        row.postcode_district = None
        row.pseudonymised_at = now
        uow.session.add(row)
        done.append(row.need_id)
    return done


async def _pseudonymise_placements(
    uow: UnitOfWork, key: bytes, cutoff: date, now: datetime
) -> list[str]:
    ended_before = or_(
        col(PlacementRow.end_date) < cutoff,
        and_(col(PlacementRow.end_date).is_(None), col(PlacementRow.term_end) < cutoff),
    )
    rows = await uow.session.exec(
        select(PlacementRow).where(
            col(PlacementRow.status).in_(_ENDED),
            col(PlacementRow.pseudonymised_at).is_(None),
            ended_before,
        )
    )
    done = []
    for row in rows.all():
        row.child_ref = domain.pseudonym(row.child_ref, key)
        if row.basis_reference:
            # A tribunal order's or decision's reference is the child's case: it goes too.
            row.basis_reference = domain.pseudonym(row.basis_reference, key)
        row.pseudonymised_at = now
        uow.session.add(row)
        done.append(row.placement_id)
    return done


async def _pseudonymise_plans(uow: UnitOfWork, key: bytes, cutoff: date, now: datetime) -> int:
    """Ceased plans of children with nothing open here any more."""
    refs = await uow.session.exec(
        select(ChildPlanRow.child_ref).where(
            col(ChildPlanRow.ceased_on) < cutoff, col(ChildPlanRow.pseudonymised_at).is_(None)
        )
    )
    candidates = set(refs.all())
    if not candidates:
        return 0
    busy = await uow.session.exec(
        select(NeedRow.child_ref).where(
            col(NeedRow.child_ref).in_(candidates), col(NeedRow.status).not_in(_CLOSED_NEEDS)
        )
    )
    placed = await uow.session.exec(
        select(PlacementRow.child_ref).where(
            col(PlacementRow.child_ref).in_(candidates), col(PlacementRow.status).not_in(_ENDED)
        )
    )
    done = candidates - set(busy.all()) - set(placed.all())
    for child_ref in done:
        await uow.session.exec(
            update(ChildPlanRow)
            .where(col(ChildPlanRow.child_ref) == child_ref)
            .values(
                child_ref=domain.pseudonym(child_ref, key),
                date_of_birth=None,
                postcode_district=None,
                pseudonymised_at=now,
            )
        )
    return len(done)


async def _pseudonymise_outbox(uow: UnitOfWork, key: bytes, subjects: Sequence[str]) -> int:
    """The kept outbox rows of the pseudonymised needs and placements, alike."""
    if not subjects:
        return 0
    rows = await uow.session.exec(
        select(OutboxMessage).where(
            col(OutboxMessage.topic) == placements_v1.TOPIC,
            col(OutboxMessage.key).in_(list(subjects)),
        )
    )
    changed = 0
    for row in rows.all():
        envelope = json.loads(row.payload)
        data = domain.pseudonymised_event_data(envelope.get("data") or {}, key)
        if data != envelope.get("data"):
            row.payload = json.dumps({**envelope, "data": data}).encode()
            uow.session.add(row)
            changed += 1
    return changed


async def retention_sweep(runtime: ServiceRuntime) -> None:
    """on_start hook: pseudonymise expired child data now and every RETENTION_SWEEP_S,
    in the background, in the process that relays the outbox (as outbox pruning does)."""
    if ProcessRole.RELAY not in runtime.roles:
        return
    settings = runtime.settings

    async def loop() -> None:
        while True:
            try:
                run = await pseudonymise_expired(
                    runtime.db,
                    runtime.source,
                    settings.pseudonym_key(),
                    settings.child_data_retention_days,
                    datetime.now(UTC),
                )
                if run.needs or run.placements or run.plans:
                    log.info(
                        "child_data.pseudonymised",
                        needs=len(run.needs),
                        placements=len(run.placements),
                        plans=run.plans,
                        outbox_rows=run.outbox_rows,
                    )
            except Exception as exc:  # a database blip: try again next time
                log.warning("child_data.retention_failed", error=repr(exc))
            await asyncio.sleep(RETENTION_SWEEP_S)

    runtime.spawn(loop, "child-data-retention")
