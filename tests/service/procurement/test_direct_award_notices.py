"""Issue 19 over HTTP and the notice clock: recording a direct award (Procurement Act 2023
s.41) tracks the notices it owes per the notices table: urgency a transparency notice
(s.44) and a contract award notice (s.50) before the contract, every direct award a
contract details notice (s.53); user choice neither of the first two. They show in
/notices/tracking and an unpublished one raises procurement.notice.overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.procurement.activities import mark_notice_overdue
from services.procurement.workflow_types import ClockTick
from tests.fixtures import today
from tests.service.procurement.conftest import Driver


def body(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "ground": "user_choice",
        "justification": "Parent's preference for a named school",
        "provider_id": "p-9",
        "contract_value": "58000.00",
        "start_date": (today() + timedelta(days=30)).isoformat(),
        "need_ref": "PSN-0123",
    }
    fields.update(overrides)
    return fields


async def record(proc: Driver, **overrides: object) -> str:
    async with proc.client() as c:
        r = await c.post("/direct-awards", json=body(**overrides))
    assert r.status_code == 201, r.text
    return str(r.json()["direct_award_id"])


async def tracked(proc: Driver, **query: str) -> list[dict[str, Any]]:
    r = await proc.get("/notices/tracking?" + "&".join(f"{k}={v}" for k, v in query.items()))
    assert r.status_code == 200, r.text
    return list(r.json()["notices"])


async def test_a_user_choice_award_owes_only_its_contract_details_notice(proc: Driver) -> None:
    award_id = await record(proc)
    (details,) = await tracked(proc, competition_id=award_id)
    assert details["kind"] == "contract_details" and details["status"] == "due"
    assert details["kind_words"] == "Contract details notice"
    start = today() + timedelta(days=30)
    assert details["due_on"] == (start + timedelta(days=119)).isoformat()  # light touch
    assert "s.53(1)" in details["source"] and details["scheme_id"] == award_id
    assert await tracked(proc, kind="transparency") == []


async def test_an_urgent_award_owes_its_notices_and_one_left_goes_overdue(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    start = today() + timedelta(days=2)
    award_id = await record(
        proc,
        ground="extreme_urgency",
        scheme_id=scheme_id,
        start_date=start.isoformat(),
        end_date=(start + timedelta(days=90)).isoformat(),
        light_touch=False,
    )
    notices = await tracked(proc, scheme_id=scheme_id)  # soonest due, then by id
    assert [(n["kind"], n["due_on"]) for n in notices] == [
        ("contract_award", start.isoformat()),
        ("transparency", start.isoformat()),
        ("contract_details", (start + timedelta(days=29)).isoformat()),
    ]
    award_notice, transparency, _ = notices
    assert transparency["notice_id"] == f"transparency-direct-{award_id}"
    assert "s.44(1)" in transparency["source"] and "s.50(1)" in award_notice["source"]

    async with proc.client() as c:
        r = await c.post(
            f"/notices/{transparency['notice_id']}/publication",
            json={"status": "published", "publication_ref": "CDP-UK5-1"},
        )
    assert r.status_code == 200, r.text

    db, source = proc.runtime.db, proc.runtime.source
    late = datetime.fromisoformat(f"{start.isoformat()}T23:00:00+00:00") + timedelta(hours=2)
    on_time = ClockTick(subject=award_notice["notice_id"], now=datetime.now(UTC))
    assert await mark_notice_overdue(db, source, on_time) is False
    for notice in (transparency, award_notice):
        tick = ClockTick(subject=notice["notice_id"], now=late)
        assert await mark_notice_overdue(db, source, tick) is True
    (overdue,) = await proc.events("procurement.notice.overdue")
    assert overdue["kind"] == "contract_award" and overdue["scheme_id"] == scheme_id
    assert overdue["competition_id"] == award_id
    assert [n["notice_id"] for n in await tracked(proc, overdue="true")] == [
        award_notice["notice_id"]
    ]
