"""Placements' reads: loaders and queries shared by commands and routes.

Row <-> domain conversion and the per-aggregate loaders live in ``models``; the queries
across rows live here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import Table, bindparam, func
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import configure_mappers
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.placements import domain, events
from services.placements.models import (
    BlockContractRow,
    BlockOfferRow,
    FeeChangeRow,
    PlacementRow,
    ProviderNameRow,
    ReviewRow,
    SpendLedgerRow,
    StatusChangeRow,
    UpliftRow,
    load_block,
    load_placement,
    placement_histories,
    placement_of,
)
from services.placements.workflow_types import BlockSnapshot, ReviewInfo, Snapshot
from shared.contracts import placements_v1
from shared.contracts.common import Role
from shared.db import Database
from shared.errors import NotFound
from shared.infra_models import OutboxMessage, utcnow
from shared.sqlite_driver import is_one_trip
from shared.sqlite_reads import OneTripSelect, one_trip_reads
from shared.unit_of_work import Actor

_NOT_CLOSED = col(PlacementRow.status).not_in([s.value for s in domain.CLOSED_STATUSES])


async def open_placements_of(session: AsyncSession, child_ref: str) -> list[domain.Placement]:
    rows = await session.exec(
        select(PlacementRow.placement_id).where(PlacementRow.child_ref == child_ref, _NOT_CLOSED)
    )
    loaded = [await load_placement(session, pid) for pid in rows.all()]
    return [p for p in loaded if p is not None]


async def children_with_open_placements(session: AsyncSession, child_refs: set[str]) -> set[str]:
    """Which of these children have a placement not yet closed, with one query."""
    if not child_refs:
        return set()
    rows = await session.exec(
        select(PlacementRow.child_ref).where(
            col(PlacementRow.child_ref).in_(child_refs), _NOT_CLOSED
        )
    )
    return set(rows.all())


async def provider_names(session: Any, provider_ids: set[str]) -> dict[str, str]:
    """Display names of providers, as providers.v1 last told them."""
    if not provider_ids:
        return {}
    rows = await session.exec(
        select(ProviderNameRow).where(col(ProviderNameRow.provider_id).in_(provider_ids))
    )
    return {r.provider_id: r.name for r in rows.all()}


async def placement_or_404(session: Any, placement_id: str) -> domain.Placement:
    """The placement, or ``NotFound``."""
    placement = await load_placement(session, placement_id)
    if placement is None:
        raise NotFound("placement", placement_id)
    return placement


@dataclass(frozen=True)
class PlacementRecord:
    """A placement's row and everything its page shows, read once (``placement_record``)."""

    row: PlacementRow
    provider_name: str | None
    fees: list[FeeChangeRow]
    statuses: list[StatusChangeRow]
    reviews: list[ReviewRow]
    uplifts: list[UpliftRow]
    events: list[tuple[str, str, Any]]  # (event type, event id, when) in outbox order

    @property
    def placement(self) -> domain.Placement:
        return placement_of(self.row, self.fees, self.statuses, self.reviews)


# A placement's page, read on every visit: its statements are built once (building one
# costs about as much as running it on SQLite).
_PLACEMENT_WITH_NAME = (
    select(PlacementRow, ProviderNameRow.name)
    .outerjoin(ProviderNameRow, col(ProviderNameRow.provider_id) == col(PlacementRow.provider_id))
    .where(col(PlacementRow.placement_id) == bindparam("placement_id"))
)
_UPLIFTS = select(UpliftRow).where(col(UpliftRow.placement_id) == bindparam("placement_id"))
_EVENTS = (
    select(OutboxMessage.event_type, OutboxMessage.event_id, OutboxMessage.created_at)
    .where(col(OutboxMessage.key) == bindparam("placement_id"))
    .order_by(col(OutboxMessage.seq))
)
_PROVIDER_NAME = "provider_name"
_PLACEMENT: Table = PlacementRow.__table__  # type: ignore[attr-defined]
_PROVIDER: Table = ProviderNameRow.__table__  # type: ignore[attr-defined]
_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]


def _history(model: Any, *order: str) -> OneTripSelect:
    table: Table = model.__table__
    return OneTripSelect(
        sa_select(table).where(table.c.placement_id == bindparam("placement_id")).order_by(*order)
    )


class _PageReads:
    """The same reads as the session's statements above, as one trip takes them."""

    placement = OneTripSelect(
        sa_select(_PLACEMENT, _PROVIDER.c.name.label(_PROVIDER_NAME))
        .outerjoin(_PROVIDER, _PROVIDER.c.provider_id == _PLACEMENT.c.provider_id)
        .where(_PLACEMENT.c.placement_id == bindparam("placement_id"))
    )
    fees = _history(FeeChangeRow, "seq")
    statuses = _history(StatusChangeRow, "seq")
    reviews = _history(ReviewRow, "due_on")
    uplifts = _history(UpliftRow)
    events = OneTripSelect(
        sa_select(_OUTBOX.c.event_type, _OUTBOX.c.event_id, _OUTBOX.c.created_at)
        .where(_OUTBOX.c.key == bindparam("placement_id"))
        .order_by(_OUTBOX.c.seq)
    )


async def placement_record(db: Database, placement_id: str) -> PlacementRecord | None:
    """A placement with its provider's name, histories, uplifts and events (None: no
    such placement): on SQLite six reads in one trip to its thread, else six queries of
    one session; each history read once for both the domain placement and the page."""
    if is_one_trip(db.engine):
        return await one_trip_reads(db.engine, partial(_record_in_one_trip, placement_id))
    async with db.session() as session:
        return await _record_in_session(session, placement_id)


async def _record_in_session(session: Any, placement_id: str) -> PlacementRecord | None:
    key = {"placement_id": placement_id}
    found = (await session.exec(_PLACEMENT_WITH_NAME, params=key)).first()
    if found is None:
        return None
    row, name = found
    fees, statuses, reviews = await placement_histories(session, placement_id)
    uplifts = await session.exec(_UPLIFTS, params=key)
    events = await session.exec(_EVENTS, params=key)
    return PlacementRecord(
        row=row,
        provider_name=name,
        fees=fees,
        statuses=statuses,
        reviews=reviews,
        uplifts=list(uplifts.all()),
        events=[(t, i, at) for t, i, at in events.all()],
    )


def _record_in_one_trip(
    placement_id: str, connection: sqlite3.Connection, dialect: Dialect
) -> PlacementRecord | None:
    # On SQLite's thread. The rows are read-only copies (model_construct: converted by
    # their columns' types, not validated again, in no session): never add one to a session.
    configure_mappers()  # a copy's attributes are read through its class's mapper
    key = {"placement_id": placement_id}
    found = _PageReads.placement.rows(connection, dialect, key)
    if not found:
        return None
    columns = found[0]
    name = columns.pop(_PROVIDER_NAME)

    def rows(read: OneTripSelect, model: Any) -> list[Any]:
        return [model.model_construct(**r) for r in read.rows(connection, dialect, key)]

    return PlacementRecord(
        row=PlacementRow.model_construct(**columns),
        provider_name=name,
        fees=rows(_PageReads.fees, FeeChangeRow),
        statuses=rows(_PageReads.statuses, StatusChangeRow),
        reviews=rows(_PageReads.reviews, ReviewRow),
        uplifts=rows(_PageReads.uplifts, UpliftRow),
        events=[
            (e["event_type"], e["event_id"], e["created_at"])
            for e in _PageReads.events.rows(connection, dialect, key)
        ],
    )


async def lifecycle_snapshot(session: Any, placement_id: str) -> Snapshot | None:
    """What the lifecycle workflow needs to know about a placement (None: no such one)."""
    row = await session.get(PlacementRow, placement_id)
    if row is None:
        return None
    reviews = await session.exec(
        select(ReviewRow)
        .where(ReviewRow.placement_id == placement_id, ReviewRow.outcome == None)  # noqa: E711
        .order_by("due_on")
    )
    review = reviews.first()
    return Snapshot(
        placement_id=placement_id,
        status=row.status,
        start_date=row.start_date,
        term_end=row.term_end,
        end_date=row.end_date,
        notice_period_weeks=row.notice_period_weeks,
        renewal_requested_for=row.renewal_requested_for,
        renewal_overdue_sent_for=row.renewal_overdue_sent_for,
        review=None
        if review is None
        else ReviewInfo(
            review_id=review.review_id,
            due_on=review.due_on,
            reminders_sent=list(review.reminders_sent),
            overdue_sent=review.overdue_sent,
        ),
    )


async def block_snapshot(session: Any, block_contract_id: str) -> BlockSnapshot | None:
    """What the block renewal workflow needs to know about a block contract."""
    block = await load_block(session, block_contract_id)
    row = await session.get(BlockContractRow, block_contract_id)
    if block is None or row is None:
        return None
    return BlockSnapshot(
        block_contract_id=block_contract_id,
        term_end=block.term_end,
        decision_by=domain.block_renewal_decision_date(block),
        renewal_requested_for=row.renewal_requested_for,
        renewal_decided_for=row.renewal_decided_for,
    )


def may_read(actor: Actor, provider_id: str) -> None:
    """A provider sees only its own placements; answer 404 so ids are not probed."""
    if actor.role == Role.PROVIDER.value and actor.provider_id != provider_id:
        raise NotFound("placement", "of another provider")


# ------------------------------------------------------------------ the spend ledger


async def _held_lines(session: AsyncSession, ledger_id: str) -> dict[int, SpendLedgerRow]:
    held = await session.exec(
        select(SpendLedgerRow).where(SpendLedgerRow.placement_id == ledger_id)
    )
    return {r.financial_year: r for r in held.all()}


def _amounts(rows: Mapping[int, SpendLedgerRow]) -> dict[int, Decimal]:
    return {fy: Decimal(r.amount).quantize(domain.PENNY) for fy, r in rows.items()}


def _post(
    session: AsyncSession,
    rows: Mapping[int, SpendLedgerRow],
    snapshots: list[placements_v1.PlacementSpendCommitted],
) -> list[placements_v1.PlacementSpendCommitted]:
    before = _amounts(rows)
    for snap in snapshots:
        row = rows.get(snap.financial_year) or SpendLedgerRow(
            placement_id=snap.placement_id,
            financial_year=snap.financial_year,
            provider_id=snap.provider_id,
            primary_need=snap.primary_need.value,
            source=snap.source.value,
            on_contract=snap.on_contract,
            amount=snap.amount,
            line=snap.line,
        )
        if snap.basis is not None:
            row.basis = snap.basis.value
        row.amount = snap.amount
        row.adjustment = snap.adjustment
        row.updated_at = utcnow()
        session.add(row)
    # Only years whose committed amount changed are worth a snapshot event.
    return [s for s in snapshots if before.get(s.financial_year) != s.amount]


async def write_spend(
    session: AsyncSession, placement: domain.Placement, today: date | None = None
) -> list[placements_v1.PlacementSpendCommitted]:
    """Replace the ledger rows of a placement; returns the snapshot events to publish.

    With ``today``, closed financial years keep their lines (``domain.post_to_ledger``).
    """
    rows = await _held_lines(session, placement.placement_id)
    snapshots = events.spend_committed_events(placement, _amounts(rows), today)
    return _post(session, rows, snapshots)


async def write_block_spend(
    session: AsyncSession, block: domain.BlockContract, today: date | None = None
) -> list[placements_v1.PlacementSpendCommitted]:
    """Post the block's unfilled-places line: its cost minus what its placements' ledger
    lines already count, per financial year; returns the snapshot events to publish."""
    ids = select(PlacementRow.placement_id).where(
        PlacementRow.block_contract_id == block.block_contract_id
    )
    lines = await session.exec(
        select(SpendLedgerRow).where(col(SpendLedgerRow.placement_id).in_(ids))
    )
    counted: dict[int, Decimal] = {}
    for line in lines.all():
        counted[line.financial_year] = counted.get(line.financial_year, Decimal(0)) + Decimal(
            line.amount
        )
    rows = await _held_lines(session, block.block_contract_id)
    snapshots = events.block_spend_events(block, counted, _amounts(rows), today)
    return _post(session, rows, snapshots)


def ledger_line(row: SpendLedgerRow) -> domain.LedgerLine:
    """A ledger row as the domain reads it (amount to the penny)."""
    return domain.LedgerLine(
        placement_id=row.placement_id,
        provider_id=row.provider_id,
        primary_need=row.primary_need,
        on_contract=row.on_contract,
        financial_year=row.financial_year,
        amount=Decimal(row.amount).quantize(domain.PENNY),
        line=row.line,
        basis=row.basis,
    )


async def ledger_lines(session: AsyncSession, financial_year: int) -> list[domain.LedgerLine]:
    """The spend ledger's lines of one financial year."""
    rows = await session.exec(
        select(SpendLedgerRow).where(SpendLedgerRow.financial_year == financial_year)
    )
    return [ledger_line(r) for r in rows.all()]


def where_offers_in(query: Any, offers: domain.OffersInState) -> Any:
    """``query`` narrowed to the block offers ``offers`` names (``domain.offers_in_state``)."""
    query = query.where(BlockOfferRow.status == offers.stored.value)
    if offers.respond_by_before is not None:
        query = query.where(col(BlockOfferRow.respond_by) < offers.respond_by_before)
    if offers.respond_by_on_or_after is not None:
        query = query.where(col(BlockOfferRow.respond_by) >= offers.respond_by_on_or_after)
    return query


# ------------------------------------------------------------------ statutory returns
# (SEN2 placement detail and the Transparency Code contracts list: domain.returns)


async def providers_held(
    session: AsyncSession, provider_ids: set[str]
) -> dict[str, ProviderNameRow]:
    """What providers.v1 told placements about these providers: name, URN and type."""
    if not provider_ids:
        return {}
    rows = await session.exec(
        select(ProviderNameRow).where(col(ProviderNameRow.provider_id).in_(provider_ids))
    )
    return {r.provider_id: r for r in rows.all()}


async def placements_attended_between(
    session: AsyncSession, first: date, last: date
) -> list[domain.Placement]:
    """Placements whose term overlaps ``first``..``last`` (ended ones by their end date),
    leaving out those terminated before they started."""
    last_day = func.coalesce(PlacementRow.end_date, PlacementRow.term_end)
    ids = await session.exec(
        select(PlacementRow.placement_id)
        .where(col(PlacementRow.start_date) <= last, last_day >= first)
        .order_by(col(PlacementRow.start_date), col(PlacementRow.placement_id))
    )
    loaded = [await load_placement(session, pid) for pid in ids.all()]
    return [p for p in loaded if p is not None and p.last_day is not None]


async def blocks_in_force_between(
    session: AsyncSession, first: date, last: date
) -> list[domain.BlockContract]:
    """Block contracts whose term overlaps ``first``..``last``."""
    ids = await session.exec(
        select(BlockContractRow.block_contract_id)
        .where(col(BlockContractRow.term_start) <= last, col(BlockContractRow.term_end) >= first)
        .order_by(col(BlockContractRow.term_start), col(BlockContractRow.block_contract_id))
    )
    loaded = [await load_block(session, block_id) for block_id in ids.all()]
    return [b for b in loaded if b is not None]
