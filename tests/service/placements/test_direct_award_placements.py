"""Issue 19: a direct award under the Procurement Act 2023 (s.41, Schedule 5) recorded by
procurement becomes the placement for its need, like a call-off's award: basis user
choice or urgent (the ground's), the direct award's id as the reference justifying it,
the provider, a weekly fee that costs the contract's value over its term, its dates.
Redelivered or re-published: one placement. No need named: nothing. Malformed or an
unknown need: dead-lettered with the reason."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import select

from services.placements.models import NeedRow, PlacementRow
from shared.contracts import procurement_v1
from shared.envelope import Envelope
from tests.fixtures import today
from tests.harness import eventually
from tests.service.placements.conftest import Placements


def direct_award(need_ref: str | None, **overrides: Any) -> Envelope:
    start = today() + timedelta(days=30)
    data: dict[str, Any] = {
        "direct_award_id": str(uuid.uuid4()),
        "ground": "user_choice",
        "provider_id": "p-9",
        "scheme_id": None,
        "need_ref": need_ref,
        "contract_value": "57000.00",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=3 * 365 - 1)).isoformat(),
        "light_touch": True,
        "requires_transparency_notice": False,
        "requires_contract_award_notice": False,
        "standstill_applies": False,
        "standstill_mandatory": False,
        "standstill_working_days": None,
        "decided_by": "commissioner:jo",
        "decided_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
    }
    data.update(overrides)
    procurement_v1.DirectAwardRecorded.model_validate(data)  # a real event, or a bad one
    return Envelope(
        id=str(uuid.uuid4()),
        type=procurement_v1.DirectAwardRecorded.TYPE,
        source="dps/procurement",
        subject=data["direct_award_id"],
        data=data,
    )


async def placement_of(p: Placements, direct_award_id: str) -> PlacementRow:
    async def made() -> bool:
        where = PlacementRow.basis_reference == direct_award_id
        return await p.count(PlacementRow, where) == 1

    await eventually(made)
    async with p.runtime.db.session() as session:
        rows = await session.exec(
            select(PlacementRow).where(PlacementRow.basis_reference == direct_award_id)
        )
        return rows.one()


async def test_a_user_choice_award_places_the_need_on_that_basis(placements: Placements) -> None:
    need_id = await placements.request_need("KCC-EHC-000301")
    env = direct_award(need_id)
    await placements.publish("procurement.v1", env)
    row = await placement_of(placements, env.data["direct_award_id"])
    assert (row.basis, row.source, row.provider_id) == ("user_choice", "spot", "p-9")
    assert row.start_date == date.fromisoformat(env.data["start_date"])
    assert row.term_end == date.fromisoformat(env.data["end_date"])
    assert row.status == "pending" and row.scheme_ref is None
    (created,) = await placements.events("placement.contract.created")
    data = json.loads(created.payload)["data"]
    assert data["basis"] == "user_choice" and data["on_contract"] is False
    assert row.basis_reference == env.data["direct_award_id"]
    # 38 weeks a year for the three years at the weekly fee is the contract's value (to
    # within the days of a leap year: the fee is apportioned by the day).
    weekly = Decimal(data["fee"]["weekly_core_fee"])
    assert abs(weekly * 38 * 3 - Decimal("57000.00")) < Decimal("57000.00") * Decimal("0.002")
    async with placements.runtime.db.session() as session:
        need = await session.get(NeedRow, need_id)
    assert need is not None and need.status == "placed"

    # Redelivered (same envelope) or re-published (a new envelope): still one placement.
    await placements.publish("procurement.v1", env)
    again = Envelope(**{**env.model_dump(), "id": str(uuid.uuid4())})
    await placements.publish("procurement.v1", again)
    await placements.request_need("KCC-EHC-000302")  # the topic has moved on past them
    assert await placements.count(PlacementRow) == 1
    assert len(await placements.events("placement.contract.created")) == 1


async def test_an_urgent_award_recorded_after_it_began_is_an_active_urgent_placement(
    placements: Placements,
) -> None:
    need_id = await placements.request_need("KCC-EHC-000303")
    env = direct_award(
        need_id,
        ground="extreme_urgency",
        start_date=(today() - timedelta(days=3)).isoformat(),
        end_date=(today() + timedelta(days=120)).isoformat(),
        contract_value="9000.00",
        requires_transparency_notice=True,
        requires_contract_award_notice=True,
        scheme_id="s-1",
    )
    await placements.publish("procurement.v1", env)
    row = await placement_of(placements, env.data["direct_award_id"])
    assert (row.basis, row.status, row.scheme_ref) == ("urgent", "active", "s-1")
    assert row.awarded_on == row.start_date == today() - timedelta(days=3)


async def test_no_need_places_nothing_and_bad_ones_are_dead_lettered(
    placements: Placements,
) -> None:
    await placements.publish("procurement.v1", direct_award(None))
    await placements.publish("procurement.v1", direct_award("no-such-need"))
    malformed = direct_award("x")
    del malformed.data["provider_id"]
    await placements.publish("procurement.v1", malformed)
    dead = await placements.wait_dead_letters(2)
    reasons = " | ".join(d.reason for d in dead)
    assert "unknown_need" in reasons and "provider_id" in reasons
    assert len(dead) == 2  # the award without a need is no error: nothing to place
    assert await placements.count(PlacementRow) == 0
