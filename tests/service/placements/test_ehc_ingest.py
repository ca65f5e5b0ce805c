"""POST /ehc-events: a council's case system sends ehc.plans.v1 CloudEvents over HTTP;
each is checked as the Kafka consumer checks it, answered on its own, written to the
outbox (durable, keyed by the child) and applied by the same consumer."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from services.placements.models import ChildPlanRow, NeedRow
from shared import ingest
from shared.contracts.common import Role
from shared.infra_models import OutboxMessage
from tests.fixtures import today
from tests.harness import client_for, eventually
from tests.service.placements import builders
from tests.service.placements.conftest import Placements

SINGLE = {"Content-Type": "application/cloudevents+json"}
BATCH = {"Content-Type": "application/cloudevents-batch+json"}


def _child() -> str:
    return f"KCC-EHC-{uuid.uuid4().hex[:8].upper()}"


def issued(child: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "child_ref": child,
        "la_code": "886",
        "date_of_birth": "2014-05-01",
        "primary_need": "ASD",
        "ehc_plan": {
            "issued_on": (today() - timedelta(days=100)).isoformat(),
            "next_review_due": (today() + timedelta(days=200)).isoformat(),
        },
    }
    data.update(overrides)
    return event("ehc.plan.issued", child, data)


def event(event_type: str, child: str, data: dict[str, Any], **attrs: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "urn:council:886:send-case-system",
        "type": event_type,
        "subject": child,
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }
    document.update(attrs)
    return document


async def _post(
    p: Placements, body: Any, headers: dict[str, str], token: str | None = "council"
) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with client_for(p.runtime, token) as client:
        return await client.post("/ehc-events", content=content, headers=headers)


@pytest.fixture
def council(tokens: dict[Role, str]) -> str:
    return tokens[Role.COUNCIL_SYSTEM]


async def _plan(p: Placements, child: str) -> ChildPlanRow | None:
    async with p.runtime.db.session() as session:
        return await session.get(ChildPlanRow, child)


async def test_an_accepted_event_is_applied_by_the_consumer(
    placements: Placements, council: str
) -> None:
    child = _child()
    body = event("ehc.placement.requested", child, builders.requested_data(child))
    response = await _post(placements, body, SINGLE, council)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "accepted": 1,
        "duplicate": 0,
        "rejected": 0,
        "results": [{"index": 0, "id": body["id"], "status": "accepted"}],
    }

    async def applied() -> bool:
        return await placements.count(NeedRow, col(NeedRow.source_event_id) == body["id"]) == 1

    await eventually(applied)


async def test_an_event_id_accepted_before_is_a_duplicate_and_not_written_again(
    placements: Placements, council: str
) -> None:
    first = issued(_child())
    assert (await _post(placements, first, SINGLE, council)).json()["accepted"] == 1
    again = await _post(placements, [first, first], BATCH, council)
    assert again.status_code == 200
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    assert await placements.count(OutboxMessage, col(OutboxMessage.event_id) == first["id"]) == 1

    async def applied() -> bool:
        return await _plan(placements, first["subject"]) is not None

    await eventually(applied)
    # Still a duplicate once the outbox row is gone and only the inbox remembers the id.
    async with placements.runtime.db.transaction() as session:
        row = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.event_id == first["id"]))
        ).one()
        await session.delete(row)
    later = await _post(placements, first, SINGLE, council)
    assert later.json()["results"][0]["status"] == "duplicate"


async def test_a_repeated_id_within_one_batch_is_accepted_once(
    placements: Placements, council: str
) -> None:
    one = issued(_child())
    answer = (await _post(placements, [one, one], BATCH, council)).json()
    assert [r["status"] for r in answer["results"]] == ["accepted", "duplicate"]


async def test_rejected_events_say_which_field_broke_which_rule(
    placements: Placements, council: str
) -> None:
    child = _child()
    no_id = issued(child)
    del no_id["id"]
    bad_postcode = issued(child, postcode_district="ME14 1AA")
    no_age = issued(child, date_of_birth=None)
    unknown = event("ehc.plan.teleported", child, {})
    good = issued(child)
    response = await _post(
        placements, [no_id, bad_postcode, no_age, unknown, good, "not an event"], BATCH, council
    )
    assert response.status_code == 200
    answer = response.json()
    assert (answer["accepted"], answer["rejected"]) == (1, 5)
    results = answer["results"]
    assert results[0]["errors"][0]["field"] == "id"
    assert results[0]["errors"][0]["rule"] == "required"
    assert results[1]["errors"][0]["field"] == "data.postcode_district"
    assert results[1]["errors"][0]["rule"] == "string_pattern_mismatch"
    assert results[2]["errors"][0]["field"] == "data"
    assert "date_of_birth or year_group is required" in results[2]["errors"][0]["message"]
    assert results[3]["errors"][0] == {
        "field": "type",
        "rule": "unknown_event_type",
        "message": "unknown event type 'ehc.plan.teleported' on ehc.plans.v1",
    }
    assert results[4] == {"index": 4, "id": good["id"], "status": "accepted"}
    assert results[5]["errors"][0]["rule"] == "not_an_object"
    written = await placements.count(OutboxMessage, col(OutboxMessage.key) == child)
    assert written == 1


async def test_one_rejected_event_answers_422_with_the_reasons(
    placements: Placements, council: str
) -> None:
    bad = issued(_child(), la_code="88")
    response = await _post(placements, bad, SINGLE, council)
    assert response.status_code == 422
    assert response.json()["results"][0]["errors"][0]["field"] == "data.la_code"


async def test_a_childs_events_go_out_in_the_order_sent(
    placements: Placements, council: str
) -> None:
    child = _child()
    plan = issued(child)
    amended = event("ehc.plan.amended", child, {"child_ref": child, "primary_need": "SEMH"})
    ceased = event("ehc.plan.ceased", child, {"child_ref": child, "ceased_on": today().isoformat()})
    other = issued(_child())
    body = [plan, other, amended, ceased]
    assert (await _post(placements, body, BATCH, council)).json()["accepted"] == 4
    async with placements.runtime.db.session() as session:
        rows = await session.exec(
            select(OutboxMessage).where(OutboxMessage.key == child).order_by(col(OutboxMessage.seq))
        )
        assert [r.event_id for r in rows.all()] == [plan["id"], amended["id"], ceased["id"]]

    async def ceased_applied() -> bool:
        row = await _plan(placements, child)
        return row is not None and row.ceased_on == today()

    await eventually(ceased_applied)
    row = await _plan(placements, child)
    assert row is not None and row.primary_need == "SEMH"


@pytest.mark.parametrize("role", [Role.COMMISSIONER, Role.PROVIDER, Role.ADMIN])
async def test_only_a_council_system_may_post(
    placements: Placements, tokens: dict[Role, str], role: Role
) -> None:
    response = await _post(placements, issued(_child()), SINGLE, tokens[role])
    assert response.status_code == 403


async def test_no_token_is_401(placements: Placements) -> None:
    assert (await _post(placements, issued(_child()), SINGLE, None)).status_code == 401


async def test_unreadable_bodies_are_refused_whole(placements: Placements, council: str) -> None:
    async def status_of(body: Any, headers: dict[str, str]) -> tuple[int, str]:
        response = await _post(placements, body, headers, council)
        return response.status_code, response.json()["detail"][0]["rule"]

    assert await status_of(b"{not json", SINGLE) == (422, "not_json")
    assert await status_of([issued(_child())], SINGLE) == (422, "not_an_object")
    assert await status_of(issued(_child()), BATCH) == (422, "not_a_batch")
    assert await status_of([], BATCH) == (422, "not_a_batch")
    plain = {"Content-Type": "application/json"}
    assert await status_of(issued(_child()), plain) == (415, "unsupported_media_type")
    many = [issued(_child()) for _ in range(ingest.MAX_EVENTS + 1)]
    assert await status_of(many, BATCH) == (413, "too_many_events")
    huge = b"[" + b" " * ingest.MAX_BODY_BYTES + b"]"
    assert await status_of(huge, BATCH) == (413, "too_large")
    assert await placements.count(OutboxMessage, col(OutboxMessage.topic) == "ehc.plans.v1") == 0
