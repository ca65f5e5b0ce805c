"""Issue 12, money and reviews, across the service boundary: awards in, ledger and events out."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlmodel import select

from services.placements.models import SpendLedgerRow
from tests.service.placements.conftest import Placements

ONE_OFF = {"description": "hoist", "amount": "5000.00", "basis": "one_off"}
WEEKLY = {"description": "1:1 TA", "amount": "200.00", "basis": "weekly"}


def _data(payload: bytes) -> dict[str, Any]:
    return dict(json.loads(payload)["data"])


async def _ledger(placements: Placements, placement_id: str) -> dict[int, Decimal]:
    async with placements.runtime.db.session() as session:
        rows = await session.exec(
            select(SpendLedgerRow).where(SpendLedgerRow.placement_id == placement_id)
        )
        return {r.financial_year: Decimal(r.amount) for r in rows.all()}


async def test_one_off_support_in_an_award_reaches_the_ledger_once(
    placements: Placements,
) -> None:
    plain_need = await placements.request_need("KCC-EHC-000301")
    plain = await placements.award(plain_need, additional_support=[WEEKLY])
    charged_need = await placements.request_need("KCC-EHC-000302")
    charged = await placements.award(charged_need, additional_support=[WEEKLY, ONE_OFF])
    a = await placements.placement_for(plain.data["competition_id"])
    b = await placements.placement_for(charged.data["competition_id"])
    without, with_one_off = (
        await _ledger(placements, a.placement_id),
        await _ledger(placements, b.placement_id),
    )
    first_year = min(without)
    assert with_one_off[first_year] - without[first_year] == Decimal("5000.00")
    assert {fy: v for fy, v in with_one_off.items() if fy != first_year} == {
        fy: v for fy, v in without.items() if fy != first_year
    }
    fees = {
        e.key: _data(e.payload)["fee"]
        for e in await placements.events("placement.contract.created")
    }
    assert fees[b.placement_id]["one_off_charges"] == [
        {"description": "hoist", "amount": "5000.00"}
    ]
    assert fees[b.placement_id]["weekly_total"] == "1700.00"
