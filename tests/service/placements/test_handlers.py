"""Placements' Kafka handlers over FastStream's test broker: EHC events, awards, providers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiokafka import ConsumerRecord
from sqlmodel import select

from services.placements.models import (
    BlockPlaceRow,
    ChildPlanRow,
    NeedRow,
    PlacementRow,
    ProviderNameRow,
    ReviewRow,
    SpendLedgerRow,
)
from shared.contracts.common import Role
from shared.envelope import Envelope
from shared.infra_models import InboxEntry
from tests.harness import client_for, eventually
from tests.service.placements import builders
from tests.service.placements.conftest import Placements


async def test_placement_request_raises_a_need_once(placements: Placements) -> None:
    env = builders.placement_requested("KCC-EHC-000001")
    await placements.publish("ehc.plans.v1", env)
    await placements.publish("ehc.plans.v1", env)  # redelivered

    async def raised() -> bool:
        return len(await placements.events("placement.need.raised")) == 1

    await eventually(raised)
    assert await placements.count(NeedRow) == 1
    assert await placements.count(InboxEntry) == 1
    async with placements.runtime.db.session() as session:
        need = (await session.exec(select(NeedRow))).one()
        plan = await session.get(ChildPlanRow, "KCC-EHC-000001")
    assert need.status == "with_procurement"
    assert plan is not None and plan.primary_need == "ASD"


async def test_free_block_place_is_offered_before_procurement(
    placements: Placements, tokens
) -> None:
    today = datetime.now(UTC).date()
    body = {
        "provider_id": "p-9",
        "primary_need": "ASD",
        "attendance": "day",
        "places": 2,
        "term_start": (today - timedelta(days=10)).isoformat(),
        "term_end": (today + timedelta(days=700)).isoformat(),
        "weekly_fee_per_place": "1400.00",
    }
    async with client_for(placements.runtime, tokens[Role.COMMISSIONER]) as client:
        created = await client.post("/block-contracts", json=body)
    assert created.status_code == 201, created.text
    block_id = created.json()["block_contract_id"]
    need_id = await placements.request_need("KCC-EHC-000002")
    assert len(await placements.events("placement.need.offered_block_place")) == 1
    assert await placements.events("placement.need.raised") == []
    async with placements.runtime.db.session() as session:
        need = await session.get(NeedRow, need_id)
        place = await session.get(BlockPlaceRow, (block_id, 1))
    assert need is not None and need.status == "block_place_offered"
    assert place is not None and place.occupant_ref == need_id
    async with client_for(placements.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        view = (await client.get(f"/block-contracts/{block_id}")).json()
    assert view["places_filled"] == 1 and view["utilisation_percent"] == "50.00"


async def test_award_creates_pending_ipa_with_first_review_and_spend(
    placements: Placements,
) -> None:
    need_id = await placements.request_need("KCC-EHC-000003")
    env = await placements.award(need_id)
    row = await placements.placement_for(env.data["competition_id"])
    assert row.status == "pending" and row.need_id == need_id
    assert row.notice_period_weeks == 12
    created = await placements.events("placement.contract.created")
    assert len(created) == 1
    assert len(await placements.events("placement.review.scheduled")) == 1
    assert await placements.count(SpendLedgerRow) >= 1
    assert len(await placements.events("placement.spend.committed")) >= 1
    async with placements.runtime.db.session() as session:
        need = await session.get(NeedRow, need_id)
        reviews = (await session.exec(select(ReviewRow))).all()
    assert need is not None and need.status == "placed"
    assert len(reviews) == 1

    # The same award published again under a new event id makes no second placement.
    again = builders.awarded(need_id, competition_id=env.data["competition_id"])
    await placements.publish("procurement.v1", again)

    async def applied() -> bool:
        return await placements.count(InboxEntry) == 3

    await eventually(applied)
    assert await placements.count(PlacementRow) == 1


async def test_award_starting_today_is_active_at_once(placements: Placements) -> None:
    row = await placements.active_placement("KCC-EHC-000004")
    assert row.status == "active" and row.started_on == datetime.now(UTC).date()
    assert len(await placements.events("placement.contract.started")) == 1


async def test_bad_awards_are_dead_lettered_with_the_reason(placements: Placements) -> None:
    need_id = await placements.request_need("KCC-EHC-000005")
    await placements.award("no-such-need")
    await placements.award(
        need_id, start_date=datetime.now(UTC).date() - timedelta(days=10)
    )  # before the award (approved yesterday)
    await placements.award(need_id, weekly_core_fee="999999.00")
    dead = await placements.wait_dead_letters(3)
    reasons = " | ".join(d.reason for d in dead)
    assert "unknown_need" in reasons
    assert "start_before_award" in reasons
    assert "above_limit" in reasons or "weekly_core_fee" in reasons
    assert await placements.count(PlacementRow) == 0


async def test_malformed_ehc_event_goes_to_the_dlq(placements: Placements) -> None:
    data = builders.requested_data("KCC-EHC-000006")
    del data["primary_need"]
    await placements.publish(
        "ehc.plans.v1", builders.envelope("ehc.placement.requested", "KCC-EHC-000006", data)
    )
    await placements.publish("ehc.plans.v1", builders.envelope("ehc.plan.unknown", "X", {}))
    dead = await placements.wait_dead_letters(2)
    assert any("primary_need" in d.reason for d in dead)
    assert any("unknown event type" in d.reason for d in dead)
    assert await placements.count(NeedRow) == 0


async def test_out_of_order_amendment_does_not_overwrite_newer_data(placements: Placements) -> None:
    now = datetime.now(UTC)
    child = "KCC-EHC-000007"
    newer = builders.envelope(
        "ehc.plan.amended", child, {"child_ref": child, "postcode_district": "ME15"}, time=now
    )
    older = builders.envelope(
        "ehc.plan.amended",
        child,
        {"child_ref": child, "postcode_district": "ME1", "primary_need": "SEMH"},
        time=now - timedelta(hours=1),
    )
    await placements.publish("ehc.plans.v1", newer)
    await placements.publish("ehc.plans.v1", older)

    async def both() -> bool:
        return await placements.count(InboxEntry) == 2

    await eventually(both)
    async with placements.runtime.db.session() as session:
        plan = await session.get(ChildPlanRow, child)
    assert plan is not None
    assert plan.postcode_district == "ME15"  # the newer value stands
    assert plan.primary_need == "SEMH"  # a field nobody changed since is still filled


async def test_plan_reviewed_moves_the_placement_review(placements: Placements) -> None:
    row = await placements.active_placement("KCC-EHC-000008", review_in_days=200)
    today = datetime.now(UTC).date()
    moved_to = today + timedelta(days=250)
    await placements.publish(
        "ehc.plans.v1",
        builders.envelope(
            "ehc.plan.reviewed",
            row.child_ref,
            {
                "child_ref": row.child_ref,
                "reviewed_on": today.isoformat(),
                "next_review_due": moved_to.isoformat(),
            },
        ),
    )

    async def moved() -> bool:
        async with placements.runtime.db.session() as session:
            reviews = await session.exec(
                select(ReviewRow).where(ReviewRow.placement_id == row.placement_id)
            )
            return [r.due_on for r in reviews.all() if r.outcome is None] == [moved_to]

    await eventually(moved)
    assert len(await placements.events("placement.review.scheduled")) == 2


async def test_plan_ceased_ends_placements_and_withdraws_needs(placements: Placements) -> None:
    row = await placements.active_placement("KCC-EHC-000009")
    await placements.request_need("KCC-EHC-000009")  # a second, still open need
    ceased_on = datetime.now(UTC).date() + timedelta(days=5)
    await placements.publish(
        "ehc.plans.v1",
        builders.envelope(
            "ehc.plan.ceased",
            row.child_ref,
            {"child_ref": row.child_ref, "ceased_on": ceased_on.isoformat()},
        ),
    )

    async def ending() -> bool:
        async with placements.runtime.db.session() as session:
            current = await session.get(PlacementRow, row.placement_id)
            return current is not None and current.status == "ending"

    await eventually(ending)
    async with placements.runtime.db.session() as session:
        current = await session.get(PlacementRow, row.placement_id)
        needs = (await session.exec(select(NeedRow.status))).all()
    assert current is not None and current.end_date == ceased_on
    assert sorted(needs) == ["placed", "withdrawn"]
    assert len(await placements.events("placement.contract.ending")) == 1


async def test_provider_names_are_kept_for_display(placements: Placements, tokens) -> None:
    row = await placements.active_placement("KCC-EHC-000010", provider_id="p-1")
    status_changed = {
        "provider_id": "p-1",
        "urn": 123456,
        "name": "Oakfield School",
        "previous_status": "registered",
        "status": "active",
        "changed_by": "commissioner:jo",
        "changed_at": datetime.now(UTC).isoformat(),
        "reason": "documents valid",
    }
    env = builders.envelope("provider.status_changed", "p-1", status_changed)
    await placements.publish("providers.v1", env)

    async def named() -> bool:
        return await placements.count(ProviderNameRow) == 1

    await eventually(named)
    async with client_for(placements.runtime, tokens[Role.PROVIDER]) as client:
        view = (await client.get(f"/placements/{row.placement_id}")).json()
    assert view["provider_name"] == "Oakfield School"


async def test_block_award_creates_a_block_contract_once(placements: Placements, tokens) -> None:
    env = builders.awarded(None, kind="block", places=3, category_code="SEMH-day")
    await placements.publish("procurement.v1", env)
    await placements.publish(
        "procurement.v1",
        builders.awarded(
            None,
            kind="block",
            places=3,
            category_code="SEMH-day",
            competition_id=env.data["competition_id"],
        ),
    )

    async def both() -> bool:
        return await placements.count(InboxEntry) == 2

    await eventually(both)
    created = await placements.events("block_contract.created")
    assert len(created) == 1
    async with client_for(placements.runtime, tokens[Role.COMMISSIONER]) as client:
        view = (await client.get(f"/block-contracts/{created[0].key}")).json()
    assert view["places"] == 3 and view["primary_need"] == "SEMH"


async def test_a_mixed_batch_of_ehc_events_applies_in_order_with_one_plan_write(
    placements: Placements,
) -> None:
    """Issued, amended, reviewed and requested for one child, and a second child, in one
    batch: the plan book reads once and writes once, and the result is the ordered one."""
    child, other = "KCC-EHC-000901", "KCC-EHC-000902"
    now = datetime.now(UTC)
    today = now.date()
    request_only = {"required_start", "max_distance_km", "urgent"}
    issued = {k: v for k, v in builders.requested_data(child).items() if k not in request_only}
    batch = [
        builders.envelope("ehc.plan.issued", child, issued, time=now - timedelta(minutes=3)),
        builders.envelope(
            "ehc.plan.amended",
            child,
            {"child_ref": child, "postcode_district": "ME15"},
            time=now - timedelta(minutes=2),
        ),
        builders.envelope(
            "ehc.plan.reviewed",
            child,
            {
                "child_ref": child,
                "reviewed_on": today.isoformat(),
                "next_review_due": (today + timedelta(days=365)).isoformat(),
            },
            time=now - timedelta(minutes=1),
        ),
        builders.placement_requested(other),
    ]
    consumer = next(c for c in placements.runtime.consumers if c.topic == "ehc.plans.v1")
    await consumer.process([record(i, env) for i, env in enumerate(batch)])

    async with placements.runtime.db.session() as session:
        plan = await session.get(ChildPlanRow, child)
        second = await session.get(ChildPlanRow, other)
    assert plan is not None and second is not None
    assert plan.postcode_district == "ME15"
    assert plan.last_reviewed_on == today
    assert plan.next_review_due == today + timedelta(days=365)
    assert plan.primary_need == "ASD"
    assert await placements.count(InboxEntry) == 4
    assert len(await placements.events("placement.need.raised")) == 1


def record(offset: int, env: Envelope) -> ConsumerRecord[bytes, bytes]:
    value = env.to_bytes()
    return ConsumerRecord(
        topic="ehc.plans.v1",
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=env.subject.encode(),
        value=value,
        checksum=None,
        serialized_key_size=len(env.subject),
        serialized_value_size=len(value),
        headers=[],
    )


async def test_a_childs_reference_never_reaches_the_logs(placements: Placements) -> None:
    from structlog.testing import capture_logs

    now, child = datetime.now(UTC), "KCC-EHC-000777"
    newer = builders.envelope(
        "ehc.plan.amended", child, {"child_ref": child, "postcode_district": "ME15"}, time=now
    )
    older = builders.envelope(  # stale: its district is ignored, and that is logged
        "ehc.plan.amended",
        child,
        {"child_ref": child, "postcode_district": "ME1"},
        time=now - timedelta(hours=1),
    )
    with capture_logs() as logs:
        await placements.publish("ehc.plans.v1", newer)
        await placements.publish("ehc.plans.v1", older)

        async def both() -> bool:
            return await placements.count(InboxEntry) == 2

        await eventually(both)
    assert any(entry["event"] == "ehc.stale_fields_ignored" for entry in logs)
    assert child not in repr(logs)
