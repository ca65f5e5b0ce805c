"""GET /placements/{id} reads each history once (store.placement_record) and answers
exactly what the old assembly did: the placement loaded, then each child table and the
outbox read again, one query each."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlmodel import col, select

from services.placements import store
from services.placements.api._views import _fee_terms_view, _placement_summary
from services.placements.models import (
    FeeChangeRow,
    PlacementRow,
    ProviderNameRow,
    ReviewRow,
    StatusChangeRow,
    UpliftRow,
    load_placement,
)
from shared.contracts.common import Role
from shared.infra_models import OutboxMessage
from shared.sqlite_driver import is_one_trip
from tests.fixtures import today
from tests.harness import client_for
from tests.service.placements.conftest import Placements

AS_JSON = TypeAdapter(dict[str, Any])


async def _history(
    session: Any, model: Any, placement_id: str, order: Any, *, exclude: set[str]
) -> list[dict[str, Any]]:
    query = select(model).where(model.placement_id == placement_id)
    if order is not None:
        query = query.order_by(col(order))
    return [r.model_dump(exclude=exclude) for r in (await session.exec(query)).all()]


async def _as_before(p: Placements, placement_id: str) -> dict[str, Any]:
    """The view as the route assembled it before store.placement_record."""
    async with p.runtime.db.session() as session:
        row = await session.get(PlacementRow, placement_id)
        placement = await load_placement(session, placement_id)
        assert row is not None and placement is not None
        names = await store.provider_names(session, {row.provider_id})
        view = _placement_summary(row, names, None)
        view["fee"] = _fee_terms_view(placement)
        view["fee_history"] = await _history(
            session, FeeChangeRow, placement_id, FeeChangeRow.seq, exclude={"id"}
        )
        view["status_history"] = await _history(
            session,
            StatusChangeRow,
            placement_id,
            StatusChangeRow.seq,
            exclude={"id", "placement_id"},
        )
        view["reviews"] = await _history(
            session, ReviewRow, placement_id, ReviewRow.due_on, exclude={"placement_id"}
        )
        view["uplifts"] = await _history(session, UpliftRow, placement_id, None, exclude=set())
        view["events"] = [
            {"type": e.event_type, "event_id": e.event_id, "at": e.created_at}
            for e in (
                await session.exec(
                    select(OutboxMessage)
                    .where(OutboxMessage.key == placement_id)
                    .order_by(col(OutboxMessage.seq))
                )
            ).all()
        ]
    return AS_JSON.dump_python(view, mode="json")  # as the route's dict[str, Any] is sent


async def _vary(client: Any, placement_id: str, core_fee: str, support_fee: str) -> None:
    """A variation in 20 days: a new core fee and one item of additional support."""
    varied = await client.post(
        f"/placements/{placement_id}/variations",
        json={
            "effective_from": (today() + timedelta(days=20)).isoformat(),
            "weekly_core_fee": core_fee,
            "additional_support": [{"description": "1:1", "weekly_amount": support_fee}],
            "reason": "more support",
        },
    )
    assert varied.status_code == 201, varied.text


async def test_placement_view_is_the_old_assembly_after_a_life_of_changes(
    placements: Placements, tokens: dict[Role, str]
) -> None:
    row = await placements.active_placement("KCC-EHC-000201", review_in_days=20, provider_id="p-1")
    other = await placements.active_placement("KCC-EHC-000202", provider_id="p-2")
    pid = row.placement_id
    commissioner, provider = tokens[Role.COMMISSIONER], tokens[Role.PROVIDER]
    async with client_for(placements.runtime, commissioner) as client:
        fresh = (await client.get(f"/placements/{pid}")).json()
        assert fresh == await _as_before(placements, pid)

        done = await client.post(
            f"/placements/{pid}/reviews/{pid}-R1/outcome", json={"outcome": "continue"}
        )
        assert done.status_code == 200, done.text
        effective = (today() + timedelta(days=10)).isoformat()
        async with client_for(placements.runtime, provider) as as_provider:
            asked = await as_provider.post(
                f"/placements/{pid}/uplifts",
                json={"requested_percent": "5", "effective_from": effective, "reason": "staff"},
            )
        assert asked.status_code == 201, asked.text
        decided = await client.post(
            f"/uplifts/{asked.json()['uplift_id']}/decision",
            json={"decision": "approved", "approved_percent": "4"},
        )
        assert decided.status_code == 200, decided.text
        await _vary(client, pid, "1800.00", "150.00")
        ended = await client.post(
            f"/placements/{pid}/end", json={"by": "council", "reason": "moved on"}
        )
        assert ended.status_code == 200, ended.text

        after = (await client.get(f"/placements/{pid}")).json()
        assert after == await _as_before(placements, pid)
        assert [f["kind"] for f in after["fee_history"]] == ["award", "uplift", "variation"]
        assert len(after["uplifts"]) == 1 and after["reviews"][0]["outcome"] == "continue"
        assert after["provider_name"] == fresh["provider_name"]
        assert (await client.get(f"/placements/{other.placement_id}")).json() == await _as_before(
            placements, other.placement_id
        )
        assert (await client.get("/placements/nope")).status_code == 404


def _as_data(record: store.PlacementRecord | None) -> dict[str, Any] | None:
    """Everything a record holds, every row's every column, as Python values."""
    if record is None:
        return None
    return {
        "row": record.row.model_dump(),
        "provider_name": record.provider_name,
        "fees": [r.model_dump() for r in record.fees],
        "statuses": [r.model_dump() for r in record.statuses],
        "reviews": [r.model_dump() for r in record.reviews],
        "uplifts": [r.model_dump() for r in record.uplifts],
        "events": record.events,
        "placement": record.placement,
    }


async def test_one_trip_and_the_session_read_the_same_record(
    placements: Placements, tokens: dict[Role, str]
) -> None:
    """On SQLite the page's reads run in one trip to its thread (shared.sqlite_reads):
    every column of every row, converted by its type, is what a session reads."""
    db = placements.runtime.db
    if not is_one_trip(db.engine):
        pytest.skip("one trip is SQLite's; PostgreSQL reads through the session")
    row = await placements.active_placement("KCC-EHC-000301", provider_id="p-1")
    nameless = await placements.active_placement("KCC-EHC-000302", provider_id="p-unknown")
    pid = row.placement_id
    async with db.transaction() as session:
        session.add(ProviderNameRow(provider_id="p-1", name="Oakwood School"))
    async with client_for(placements.runtime, tokens[Role.COMMISSIONER]) as client:
        await _vary(client, pid, "1800.50", "150.25")
    for placement_id in (pid, nameless.placement_id, "nope"):
        one_trip = await store.placement_record(db, placement_id)
        async with db.session() as session:
            in_session = await store._record_in_session(session, placement_id)
        assert _as_data(one_trip) == _as_data(in_session), placement_id
    found = await store.placement_record(db, pid)
    assert found is not None and len(found.fees) == 2 and found.fees[1].support
    assert isinstance(found.fees[1].core, Decimal) and found.row.created_at.tzinfo is not None
    assert found.provider_name == "Oakwood School"
    no_name = await store.placement_record(db, nameless.placement_id)
    assert no_name is not None and no_name.provider_name is None
