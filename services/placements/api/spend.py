"""Committed spend from the ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlmodel import select

from services.placements import domain
from services.placements.models import (
    SpendLedgerRow,
)
from services.placements.policy import ALLOWED
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor

router = APIRouter(tags=["placements"])


# --- spend ------------------------------------------------------------------------------------


@router.get("/spend")
async def spend(
    financial_year: int = Query(ge=2000, le=2100),
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    """Committed spend in one financial year (April-March) from the ledger."""
    async with runtime.db.session() as session:
        rows = list(
            (
                await session.exec(
                    select(SpendLedgerRow).where(SpendLedgerRow.financial_year == financial_year)
                )
            ).all()
        )
    by_need: dict[str, Decimal] = {}
    by_provider: dict[str, Decimal] = {}
    counted: dict[str, set[str]] = {}
    on = off = unfilled = Decimal("0.00")
    for row in rows:
        amount = Decimal(row.amount).quantize(domain.PENNY)
        if amount == 0:
            continue  # a withdrawn commitment
        by_need[row.primary_need] = by_need.get(row.primary_need, Decimal("0.00")) + amount
        by_provider[row.provider_id] = by_provider.get(row.provider_id, Decimal("0.00")) + amount
        placements = counted.setdefault(row.primary_need, set())
        if row.line == "placement":  # a block's unfilled places are spend, not a placement
            placements.add(row.placement_id)
        else:
            unfilled += amount
        if row.on_contract:
            on += amount
        else:
            off += amount
    total = on + off
    share = None if total == 0 else (on * 100 / total).quantize(domain.PENNY)
    return {
        "financial_year": financial_year,
        "label": domain.financial_year_label(financial_year),
        "total": total,
        "on_contract": on,
        "off_contract": off,
        "on_contract_share_percent": share,
        "unfilled_block_places": unfilled,
        "by_need_type": {
            need: {
                "amount": amount,
                "placements": len(counted[need]),
                "average": (amount / len(counted[need])).quantize(domain.PENNY)
                if counted[need]
                else None,
            }
            for need, amount in sorted(by_need.items())
        },
        "by_provider": dict(sorted(by_provider.items())),
    }
