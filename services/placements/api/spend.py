"""Committed spend from the ledger."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from services.placements import domain, store
from services.placements.policy import ALLOWED
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor

router = APIRouter(tags=["placements"])


# --- spend ------------------------------------------------------------------------------------


def _spend_view(summary: domain.LedgerSummary) -> dict[str, Any]:
    return {
        "financial_year": summary.financial_year,
        "label": summary.label,
        "total": summary.total,
        "on_contract": summary.on_contract,
        "off_contract": summary.off_contract,
        "off_contract_lawful": summary.off_contract_lawful,
        "off_contract_non_compliant": summary.off_contract_non_compliant,
        "on_contract_share_percent": summary.on_contract_share_percent,
        "unfilled_block_places": summary.unfilled_block_places,
        "by_need_type": {
            need: {"amount": s.amount, "placements": s.placements, "average": s.average}
            for need, s in summary.by_need_type.items()
        },
        "by_provider": summary.by_provider,
        # Every legal basis with spend, in words: on-contract first, non-compliant last.
        "by_basis": {
            basis: {
                "label": b.label,
                "on_contract": b.on_contract,
                "lawful": b.lawful,
                "amount": b.amount,
            }
            for basis, b in summary.by_basis.items()
        },
    }


@router.get("/spend")
async def spend(
    financial_year: int = Query(ge=2000, le=2100),
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    """Committed spend in one financial year (April-March) from the ledger: on-contract,
    off-contract on a lawful basis (by basis) and off-contract non-compliant."""
    async with runtime.db.session() as session:
        lines = await store.ledger_lines(session, financial_year)
    return _spend_view(domain.summarise_ledger(lines, financial_year))
