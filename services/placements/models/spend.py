"""The spend ledger (one line per placement or block per financial year) and provider names."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, String
from sqlmodel import Field

from services.placements.models._base import (
    PlacementsModel,
    _money,
)
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
    # The placement's legal basis (placements_v1.PlacementBasis; block_contract on a
    # block's unfilled-places line): splits off-contract spend into lawful and not.
    basis: str = Field(default="off_contract_spot", max_length=30)


class ProviderNameRow(PlacementsModel, table=True):
    """Provider display names learnt from providers.v1 (for display only), with the
    establishment's URN and type that the SEN2 return reports (None until an event
    carrying them arrives)."""

    __tablename__ = "provider_name"

    provider_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(sa_column=Column(String(200), nullable=False))
    urn: int | None = None
    provider_type: str | None = Field(default=None, max_length=40)
