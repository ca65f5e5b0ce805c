"""Issue 12, money and reviews, across the service boundary: awards in, ledger and events out."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import col, select

from services.placements import domain
from services.placements.models import ReviewRow, SpendLedgerRow
from shared.contracts.common import Role
from tests.harness import client_for, eventually
from tests.service.placements import builders
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


async def _spend_total(placements: Placements, client: Any, fy: int) -> Decimal:
    response = await client.get("/spend", params={"financial_year": fy})
    assert response.status_code == 200, response.text
    return Decimal(response.json()["total"])


async def test_block_award_keeps_its_items_and_its_cost_reaches_spend_filled_or_not(
    placements: Placements, tokens: dict[Role, str]
) -> None:
    env = builders.awarded(
        None,
        kind="block",
        places=2,
        category_code="SEMH-day",
        additional_support=[WEEKLY, ONE_OFF],
    )
    await placements.publish("procurement.v1", env)

    async def created() -> bool:
        return len(await placements.events("block_contract.created")) == 1

    await eventually(created)
    [made] = await placements.events("block_contract.created")
    block = _data(made.payload)
    assert block["weeks_per_year"] == 38
    assert block["additional_support"] == [{"description": "1:1 TA", "weekly_amount": "200.00"}]
    assert block["one_off_charges"] == [{"description": "hoist", "amount": "5000.00"}]
    empty = await _ledger(placements, made.key)
    start = date.fromisoformat(env.data["start_date"])
    first_fy = start.year if start.month >= 4 else start.year - 1
    # Nobody placed yet: the whole block (2 x (1500 + 200) x 38 a year) is committed.
    assert sum(empty.values()) > Decimal(2 * 1700 * 38 * 2)
    async with client_for(placements.runtime, tokens[Role.COMMISSIONER]) as client:
        before = await _spend_total(placements, client, first_fy)
        assert before == empty[first_fy]
        need_id = await placements.request_need(
            "KCC-EHC-000303", primary_need="SEMH", secondary_needs=[]
        )
        accepted = await client.post(
            f"/needs/{need_id}/block-offer/decision", json={"decision": "accepted", "reason": "ok"}
        )
        assert accepted.status_code == 200, accepted.text
        after = await _spend_total(placements, client, first_fy)
        spend = (await client.get("/spend", params={"financial_year": first_fy})).json()
    # Filling a place moves cost from the block's unfilled line to the placement: the
    # council's commitment (spend against budget) is the block's cost either way.
    assert after == before
    assert spend["by_need_type"]["SEMH"]["placements"] == 1
    filled = await _ledger(placements, made.key)
    assert filled[first_fy] < empty[first_fy]


async def test_uplift_cap_is_cumulative_over_http(
    placements: Placements, tokens: dict[Role, str]
) -> None:
    row = await placements.active_placement("KCC-EHC-000304")
    today = datetime.now(UTC).date()
    path = f"/placements/{row.placement_id}/uplifts"
    async with client_for(placements.runtime, tokens[Role.PROVIDER]) as client:
        first = await client.post(
            path,
            json={
                "requested_percent": "2",
                "effective_from": (today + timedelta(days=40)).isoformat(),
            },
        )
        assert first.status_code == 201, first.text
        assert first.json()["above_cap"] is False
        # Still pending, a second 2% within 12 months comes to 4.04%: a reason is required.
        second_on = (today + timedelta(days=100)).isoformat()
        refused = await client.post(
            path, json={"requested_percent": "2", "effective_from": second_on}
        )
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["detail"]
        assert (error["field"], error["rule"]) == ("reason", "reason_required_above_cap")
        given = await client.post(
            path, json={"requested_percent": "2", "effective_from": second_on, "reason": "pay"}
        )
        assert given.status_code == 201 and given.json()["above_cap"] is True
    [_, event] = await placements.events("placement.contract.uplift_requested")
    assert _data(event.payload)["cumulative_percent"] == "4.0400"


async def test_back_dated_variation_posts_an_adjustment_not_a_closed_year_rewrite(
    placements: Placements, tokens: dict[Role, str]
) -> None:
    today = datetime.now(UTC).date()
    current = today.year if today.month >= 4 else today.year - 1
    closed_start = date(current - 1, 6, 1)  # in the last, closed, financial year
    need_id = await placements.request_need("KCC-EHC-000305")
    env = await placements.award(
        need_id,
        start_date=closed_start,
        approved_at=datetime(current - 1, 5, 1, tzinfo=UTC),
        end_date=date(current + 2, 5, 31).isoformat(),
    )
    row = await placements.placement_for(env.data["competition_id"])
    before = await _ledger(placements, row.placement_id)
    async with client_for(placements.runtime, tokens[Role.COMMISSIONER]) as client:
        varied = await client.post(
            f"/placements/{row.placement_id}/variations",
            json={
                "effective_from": date(current - 1, 9, 1).isoformat(),
                "weekly_core_fee": "1600.00",
                "reason": "agreed increase, back-dated",
            },
        )
        assert varied.status_code == 201, varied.text
    after = await _ledger(placements, row.placement_id)
    assert after[current - 1] == before[current - 1]  # the closed year stands
    assert after[current] > before[current]  # its correction is posted this year
    async with placements.runtime.db.session() as session:
        line = await session.get(SpendLedgerRow, (row.placement_id, current))
    assert line is not None and line.adjustment is not None and line.adjustment > 0
    assert after[current] - before[current] > line.adjustment  # this year's own rise too
    snapshots = [
        _data(e.payload)
        for e in await placements.events("placement.spend.committed")
        if e.key == row.placement_id and _data(e.payload)["financial_year"] == current
    ]
    assert snapshots[-1]["adjustment"] == str(line.adjustment)


async def test_review_held_early_schedules_the_next_within_12_months_of_it(
    placements: Placements, tokens: dict[Role, str]
) -> None:
    row = await placements.active_placement("KCC-EHC-000306", review_in_days=20)
    today = datetime.now(UTC).date()
    async with placements.runtime.db.session() as session:
        [review] = (
            await session.exec(select(ReviewRow).where(ReviewRow.placement_id == row.placement_id))
        ).all()
    async with client_for(placements.runtime, tokens[Role.COMMISSIONER]) as client:
        done = await client.post(
            f"/placements/{row.placement_id}/reviews/{review.review_id}/outcome",
            json={"outcome": "continue", "completed_on": today.isoformat()},
        )
        assert done.status_code == 200, done.text
    async with placements.runtime.db.session() as session:
        open_ = (
            await session.exec(
                select(ReviewRow).where(
                    ReviewRow.placement_id == row.placement_id, col(ReviewRow.outcome).is_(None)
                )
            )
        ).all()
    latest = domain.add_years(today, 1) - timedelta(days=1)
    assert [(r.due_on, r.statutory_latest) for r in open_] == [(latest, latest)]
    scheduled = [_data(e.payload) for e in await placements.events("placement.review.scheduled")]
    assert scheduled[-1]["due_on"] == latest.isoformat()
    assert scheduled[-1]["beyond_statutory_limit"] is False


async def test_council_review_date_beyond_12_months_is_accepted_and_flagged(
    placements: Placements,
) -> None:
    row = await placements.active_placement("KCC-EHC-000307", review_in_days=200)
    today = datetime.now(UTC).date()
    late = today + timedelta(days=420)
    await placements.publish(
        "ehc.plans.v1",
        builders.envelope(
            "ehc.plan.reviewed",
            row.child_ref,
            {
                "child_ref": row.child_ref,
                "reviewed_on": today.isoformat(),
                "next_review_due": late.isoformat(),
            },
        ),
    )

    async def moved() -> bool:
        async with placements.runtime.db.session() as session:
            reviews = await session.exec(
                select(ReviewRow).where(ReviewRow.placement_id == row.placement_id)
            )
            return [r.due_on for r in reviews.all() if r.outcome is None] == [late]

    await eventually(moved)
    async with placements.runtime.db.session() as session:
        [review] = (
            await session.exec(select(ReviewRow).where(ReviewRow.placement_id == row.placement_id))
        ).all()
    assert review.statutory_latest == domain.add_years(today, 1) - timedelta(days=1)
    flagged = _data((await placements.events("placement.review.scheduled"))[-1].payload)
    assert flagged["due_on"] == late.isoformat() and flagged["beyond_statutory_limit"] is True
    assert flagged["statutory_latest"] == review.statutory_latest.isoformat()
