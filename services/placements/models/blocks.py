"""Block contracts, their places and the offers of a place; rows <-> domain values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Column
from sqlmodel import Field, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.placements import domain
from services.placements.models._base import (
    PlacementsModel,
    _money,
    _support_in,
    _support_out,
    one_off_in,
    one_off_out,
)
from shared.contracts.common import Attendance, NeedType
from shared.infra_models import AwareDateTime, utcnow


class BlockContractRow(PlacementsModel, table=True):
    """N places bought for a term from one provider in one category."""

    __tablename__ = "block_contract"

    block_contract_id: str = Field(primary_key=True, max_length=36)
    provider_id: str = Field(max_length=64, index=True)
    primary_need: str = Field(max_length=10)
    attendance: str = Field(max_length=20)
    term_start: date
    term_end: date
    weekly_fee_per_place: Decimal = _money()
    notice_period_weeks: int
    competition_ref: str | None = Field(default=None, max_length=64, unique=True)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(AwareDateTime()))
    # The term end a renewal decision was requested for (asked once per term).
    renewal_requested_for: date | None = None
    # Set once BlockContractRenewalWorkflow has been started for it (the sweep looks).
    workflow_started: bool = Field(default=False, index=True)
    # The latest renewal decision (renew / reprocure / end), for which term end, who, when.
    renewal_decision: str | None = Field(default=None, max_length=20)
    renewal_decided_for: date | None = None
    renewal_decided_by: str | None = Field(default=None, max_length=200)
    renewal_decided_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime()))
    # Every priced item of the winning bid, per place: weekly support and one-off charges.
    support: list[dict[str, str]] | None = Field(default=None, sa_column=Column(JSON))
    one_off: list[dict[str, str]] | None = Field(default=None, sa_column=Column(JSON))
    weeks_per_year: int | None = None  # None on older rows: from the attendance


class BlockPlaceRow(PlacementsModel, table=True):
    """One place of a block contract and who holds it (a need or placement id)."""

    __tablename__ = "block_place"

    block_contract_id: str = Field(primary_key=True, max_length=36)
    place_number: int = Field(primary_key=True)
    occupant_ref: str | None = Field(default=None, max_length=36)


class BlockOfferRow(PlacementsModel, table=True):
    """A block place offered to the block's provider for one need, and its answer."""

    __tablename__ = "block_offer"

    offer_id: str = Field(primary_key=True, max_length=36)
    need_id: str = Field(max_length=36, index=True)
    block_contract_id: str = Field(max_length=36, index=True)
    place_number: int
    provider_id: str = Field(max_length=64, index=True)
    status: str = Field(max_length=20, index=True)
    offered_on: date
    respond_by: date
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime()))
    reason: str | None = Field(default=None, max_length=1000)
    placement_id: str | None = Field(default=None, max_length=36)


async def load_block(session: AsyncSession, block_contract_id: str) -> domain.BlockContract | None:
    row = await session.get(BlockContractRow, block_contract_id)
    if row is None:
        return None
    places = await session.exec(
        select(BlockPlaceRow)
        .where(BlockPlaceRow.block_contract_id == block_contract_id)
        .order_by("place_number")
    )
    return domain.BlockContract(
        block_contract_id=row.block_contract_id,
        provider_id=row.provider_id,
        primary_need=NeedType(row.primary_need),
        attendance=Attendance(row.attendance),
        term_start=row.term_start,
        term_end=row.term_end,
        weekly_fee_per_place=Decimal(row.weekly_fee_per_place).quantize(domain.PENNY),
        notice_period_weeks=row.notice_period_weeks,
        occupants=tuple(p.occupant_ref for p in places.all()),
        competition_ref=row.competition_ref,
        support=_support_in(row.support) or (),
        one_off_charges=one_off_in(row.one_off),
        weeks_per_year=row.weeks_per_year,
    )


async def save_block(session: AsyncSession, block: domain.BlockContract, created_by: str) -> None:
    row = await session.get(BlockContractRow, block.block_contract_id)
    if row is None:
        session.add(
            BlockContractRow(
                block_contract_id=block.block_contract_id,
                provider_id=block.provider_id,
                primary_need=block.primary_need.value,
                attendance=block.attendance.value,
                term_start=block.term_start,
                term_end=block.term_end,
                weekly_fee_per_place=block.weekly_fee_per_place,
                notice_period_weeks=block.notice_period_weeks,
                competition_ref=block.competition_ref,
                created_by=created_by,
                support=_support_out(block.support),
                one_off=one_off_out(block.one_off_charges),
                weeks_per_year=block.weeks_per_year,
            )
        )
    else:
        row.term_end = block.term_end  # a renewal extends the term
        session.add(row)
    await session.exec(
        delete(BlockPlaceRow).where(col(BlockPlaceRow.block_contract_id) == block.block_contract_id)
    )
    for number, occupant in enumerate(block.occupants, start=1):
        session.add(
            BlockPlaceRow(
                block_contract_id=block.block_contract_id,
                place_number=number,
                occupant_ref=occupant,
            )
        )


async def blocks_for(
    session: AsyncSession, need: str, attendance: str
) -> list[domain.BlockContract]:
    """Block contracts of one category (need type and attendance)."""
    ids = await session.exec(
        select(BlockContractRow.block_contract_id).where(
            BlockContractRow.primary_need == need, BlockContractRow.attendance == attendance
        )
    )
    blocks = [await load_block(session, block_id) for block_id in ids.all()]
    return [b for b in blocks if b is not None]


def offer_from_row(row: BlockOfferRow) -> domain.BlockOffer:
    return domain.BlockOffer(
        offer_id=row.offer_id,
        need_id=row.need_id,
        block_contract_id=row.block_contract_id,
        place_number=row.place_number,
        provider_id=row.provider_id,
        offered_on=row.offered_on,
        respond_by=row.respond_by,
        status=domain.BlockOfferStatus(row.status),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
        placement_id=row.placement_id,
    )


def offer_into_row(offer: domain.BlockOffer, row: BlockOfferRow | None = None) -> BlockOfferRow:
    row = row or BlockOfferRow(
        offer_id=offer.offer_id,
        need_id=offer.need_id,
        block_contract_id=offer.block_contract_id,
        place_number=offer.place_number,
        provider_id=offer.provider_id,
        status=offer.status.value,
        offered_on=offer.offered_on,
        respond_by=offer.respond_by,
    )
    row.status = offer.status.value
    row.decided_by = offer.decided_by
    row.decided_at = offer.decided_at
    row.reason = offer.reason
    row.placement_id = offer.placement_id
    return row


async def open_offer_for_need(session: AsyncSession, need_id: str) -> BlockOfferRow | None:
    """The need's open block place offer, if one was made (needs offered before offers
    were recorded have none: the commissioner decides those)."""
    rows = await session.exec(
        select(BlockOfferRow).where(
            BlockOfferRow.need_id == need_id,
            BlockOfferRow.status == domain.BlockOfferStatus.OPEN.value,
        )
    )
    return rows.first()
