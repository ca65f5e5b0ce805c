"""Retention in placements: closed needs', ended placements' and ceased plans' child data
is pseudonymised after the retention period, in the rows and the kept outbox rows; dead
letters lose their personal fields after theirs and can no longer be retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from services.placements import domain
from services.placements.app import definition
from services.placements.models import ChildPlanRow, NeedRow, PlacementRow
from services.placements.retention import pseudonymise_expired, retention_sweep
from shared.consumer import redact_dead_letters
from shared.contracts.common import Role
from shared.infra_models import AuditEntry, DeadLetter, OutboxMessage
from tests.harness import client_for
from tests.service.placements import builders
from tests.service.placements.conftest import Placements

OLD_CHILD, NEW_CHILD, OPEN_CHILD = "KCC-EHC-000501", "KCC-EHC-000502", "KCC-EHC-000503"
KEY = b"retention-test-key"


async def _age(placements: Placements, child_ref: str, days: int) -> str:
    """Place a child, then end the placement, close the need and cease the plan `days` ago."""
    row = await placements.active_placement(child_ref)
    long_ago = datetime.now(UTC) - timedelta(days=days)
    async with placements.runtime.db.transaction() as session:
        placement = await session.get(PlacementRow, row.placement_id)
        assert placement is not None and placement.need_id is not None
        placement.status, placement.end_date = "ended", long_ago.date()
        need = await session.get(NeedRow, placement.need_id)
        assert need is not None and need.status == "placed" and need.closed_at is not None
        need.closed_at = long_ago
        plan = await session.get(ChildPlanRow, child_ref)
        assert plan is not None
        plan.ceased_on = long_ago.date()
        session.add_all([placement, need, plan])
    return row.placement_id


async def _stored_text(placements: Placements) -> str:
    async with placements.runtime.db.session() as session:
        needs = (await session.exec(select(NeedRow))).all()
        rows = (await session.exec(select(PlacementRow))).all()
        plans = (await session.exec(select(ChildPlanRow))).all()
        outbox = (await session.exec(select(OutboxMessage))).all()
    texts = [str(r.model_dump()) for r in (*needs, *rows, *plans)]
    return "\n".join([*texts, *(o.payload.decode() for o in outbox)])


async def test_expired_child_data_is_pseudonymised_in_rows_and_outbox(
    placements: Placements,
) -> None:
    old_placement = await _age(placements, OLD_CHILD, days=400)
    await _age(placements, NEW_CHILD, days=100)  # closed, but within the period
    await placements.request_need(OPEN_CHILD)  # still open: kept whatever its age
    assert OLD_CHILD in await _stored_text(placements)

    now = datetime.now(UTC)
    run = await pseudonymise_expired(placements.runtime.db, "dps/placements", KEY, 365, now)

    assert run.placements == (old_placement,) and len(run.needs) == 1 and run.plans == 1
    assert run.outbox_rows > 0
    stored = await _stored_text(placements)
    pseudonym = domain.pseudonym(OLD_CHILD, KEY)
    assert OLD_CHILD not in stored and pseudonym in stored
    assert NEW_CHILD in stored and OPEN_CHILD in stored
    async with placements.runtime.db.session() as session:
        need = (await session.exec(select(NeedRow).where(NeedRow.child_ref == pseudonym))).one()
        plan = await session.get(ChildPlanRow, pseudonym)
        audits = (
            await session.exec(
                select(AuditEntry).where(AuditEntry.action == "child_data.pseudonymised")
            )
        ).all()
    assert (need.date_of_birth, need.postcode_district) == (None, None)
    assert plan is not None and (plan.date_of_birth, plan.postcode_district) == (None, None)
    assert {a.entity_id for a in audits} == {old_placement, need.need_id}

    again = await pseudonymise_expired(placements.runtime.db, "dps/placements", KEY, 365, now)
    assert (again.needs, again.placements, again.plans) == ((), (), 0)


async def test_the_service_runs_the_retention_job_periodically(placements: Placements) -> None:
    assert retention_sweep in definition.on_start
    names = {task.get_name() for task in placements.runtime._tasks}
    assert "child-data-retention" in names


async def test_dead_letters_lose_personal_fields_after_their_period(
    placements: Placements, tokens
) -> None:
    data = builders.requested_data(OLD_CHILD, date_of_birth="2014-05-01", postcode_district="ME15")
    data["attendance"] = "weekly_boarding"  # invalid: dead-lettered with the child's details
    await placements.publish(
        "ehc.plans.v1", builders.envelope("ehc.placement.requested", OLD_CHILD, data)
    )
    [dead] = await placements.wait_dead_letters(1)
    assert OLD_CHILD in dead.payload.decode()
    db = placements.runtime.db
    now = datetime.now(UTC)
    assert await redact_dead_letters(db, timedelta(days=30), now) == 0  # kept within the period

    assert await redact_dead_letters(db, timedelta(days=30), now + timedelta(days=31)) == 1
    async with db.session() as session:
        row = await session.get(DeadLetter, dead.id)
        copies = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.topic == "ehc.plans.v1.dlq")
            )
        ).all()
    assert row is not None and row.payload_redacted_at is not None
    for text in (row.payload.decode(), row.key or "", *(c.payload.decode() for c in copies)):
        assert all(v not in text for v in (OLD_CHILD, "2014-05-01", "ME15"))
    assert "weekly_boarding" in row.payload.decode()  # what failed is still there to see
    async with client_for(placements.runtime, tokens[Role.ADMIN]) as client:
        retried = await client.post(f"/admin/dead-letters/{dead.id}/retry")
    assert retried.status_code == 422


async def test_the_council_still_finds_a_childs_pseudonymised_records(
    placements: Placements, tokens
) -> None:
    placement_id = await _age(placements, OLD_CHILD, days=400)
    key = placements.runtime.settings.pseudonym_key()
    db = placements.runtime.db
    await pseudonymise_expired(db, "dps/placements", key, 365, datetime.now(UTC))
    async with client_for(placements.runtime, tokens[Role.COMMISSIONER]) as client:
        found = (await client.get("/placements", params={"child_ref": OLD_CHILD})).json()
        needs = (await client.get("/needs", params={"child_ref": OLD_CHILD})).json()
    assert [p["placement_id"] for p in found["items"]] == [placement_id]
    assert found["items"][0]["child_ref"] == domain.pseudonym(OLD_CHILD, key)
    assert len(needs["items"]) == 1
