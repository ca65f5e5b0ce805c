"""The spend ledger (one line per placement or block per financial year) and provider names."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, String
from sqlmodel import Field, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.placements import domain
from services.placements.models._base import (
    PlacementsModel,
    _money,
)
from services.placements.models.placements import (
    PlacementRow,
)
from shared.contracts import placements_v1 as events
from shared.infra_models import AwareDateTime, utcnow


class SpendLedgerRow(PlacementsModel, table=True):
    """Committed cost of one placement in one financial year (a snapshot, replaced)."""

    __tablename__ = "spend_ledger"

    placement_id: str = Field(primary_key=True, max_length=36)
    financial_year: int = Field(primary_key=True)
    provider_id: str = Field(max_length=64, index=True)
    primary_need: str = Field(max_length=10)
    source: str = Field(max_length=20)
    on_contract: bool
    amount: Decimal = _money()
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(AwareDateTime()))
    # "placement", or "block_unfilled_places" (placement_id holds the block contract id).
    line: str = Field(default="placement", max_length=30)
    # Part of ``amount`` that corrects closed financial years (back-dated changes).
    adjustment: Decimal | None = _money(nullable=True)


class ProviderNameRow(PlacementsModel, table=True):
    """Provider display names learnt from providers.v1 (for display only)."""

    __tablename__ = "provider_name"

    provider_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(sa_column=Column(String(200), nullable=False))


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
    snapshots: list[events.PlacementSpendCommitted],
) -> list[events.PlacementSpendCommitted]:
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
        row.amount = snap.amount
        row.adjustment = snap.adjustment
        row.updated_at = utcnow()
        session.add(row)
    # Only years whose committed amount changed are worth a snapshot event.
    return [s for s in snapshots if before.get(s.financial_year) != s.amount]


async def write_spend(
    session: AsyncSession, placement: domain.Placement, today: date | None = None
) -> list[events.PlacementSpendCommitted]:
    """Replace the ledger rows of a placement; returns the snapshot events to publish.

    With ``today``, closed financial years keep their lines (``domain.post_to_ledger``).
    """
    rows = await _held_lines(session, placement.placement_id)
    snapshots = domain.spend_committed_events(placement, _amounts(rows), today)
    return _post(session, rows, snapshots)


async def write_block_spend(
    session: AsyncSession, block: domain.BlockContract, today: date | None = None
) -> list[events.PlacementSpendCommitted]:
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
    snapshots = domain.block_spend_events(block, counted, _amounts(rows), today)
    return _post(session, rows, snapshots)
