"""Issue 19 over HTTP and the notice clock: a scheme under the Procurement Act 2023 owes
the Act's notices at the steps that exist (opened: the dynamic market notices; a call-off
awarded: the contract award and contract details notices; closed: cessation), each
shown with its kind in words, regime, due date, status and source; the publication route
records them; one left unpublished raises procurement.notice.overdue for monitoring.

The dynamic market regime is not open to new schemes yet, so these tests move a scheme to
it in the database: the notices follow the scheme's regime wherever it came from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.procurement.activities import mark_notice_overdue
from services.procurement.models import SchemeRow
from services.procurement.workflow_types import ClockTick
from shared.contracts.common import Role
from tests.fixtures import today
from tests.service.procurement.conftest import Driver

DM = "pa2023_dynamic_market"


async def under_the_act(proc: Driver, scheme_id: str) -> None:
    """Put the scheme under the Act as a new dynamic market (not imported)."""
    async with proc.runtime.db.session() as session:
        row = await session.get(SchemeRow, scheme_id)
        assert row is not None
        row.regime, row.imported = DM, False
        session.add(row)
        await session.commit()


async def tracked(proc: Driver, **query: str) -> list[dict[str, Any]]:
    r = await proc.get("/notices/tracking?" + "&".join(f"{k}={v}" for k, v in query.items()))
    assert r.status_code == 200, r.text
    return list(r.json()["notices"])


async def awarded_under_the_act(proc: Driver) -> tuple[str, str]:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    await proc.admit(scheme_id, "p-2")
    r = await proc.open(scheme_id)
    assert r.status_code == 201, r.text
    competition_id = str(r.json()["competition_id"])
    assert (await proc.bid(competition_id, "p-1", fee="1800.00")).status_code == 201
    assert (await proc.bid(competition_id, "p-2", fee="1500.00")).status_code == 201
    assert await proc.close(competition_id) == "evaluation"
    r = await proc.score_and_evaluate(competition_id, {"p-1": "9", "p-2": "5"})
    assert r.status_code == 200, r.text
    await under_the_act(proc, scheme_id)
    r = await proc.award(competition_id)
    assert r.status_code == 200, r.text
    return scheme_id, competition_id


async def test_an_act_call_off_owes_contract_award_and_details_notices(proc: Driver) -> None:
    scheme_id, competition_id = await awarded_under_the_act(proc)
    award, details = await tracked(proc, scheme_id=scheme_id)
    assert (award["kind"], award["kind_words"], award["form"]) == (
        "contract_award",
        "Contract award notice",
        "UK6",
    )
    assert award["notice_id"] == f"contract-award-{competition_id}"
    assert award["regime"] == DM and award["status"] == "due"
    assert award["due_on"] == today().isoformat() and "s.50(1)" in award["source"]
    # An individual placement is concluded at once: 30 days beginning with today.
    assert details["kind"] == "contract_details" and details["form"] == "UK7"
    assert details["due_on"] == (today() + timedelta(days=29)).isoformat()
    assert "s.53(1)" in details["source"] and "Procurement Regulations 2024" in details["source"]
    assert [n["notice_id"] for n in await tracked(proc, regime=DM)] == [
        award["notice_id"],
        details["notice_id"],
    ]
    assert await tracked(proc, regime="pcr2015_light_touch") == []
    assert await tracked(proc, kind="award") == []  # no PCR award notice under the Act

    async with proc.client() as c:
        r = await c.post(
            f"/notices/{award['notice_id']}/publication",
            json={"status": "published", "publication_ref": "CDP-2026-UK6-1"},
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "published" and body["published_by"] and body["published_at"]
    assert body["kind_words"] == "Contract award notice" and body["regime"] == DM
    (published,) = await proc.events("procurement.notice.published")
    assert published["kind"] == "contract_award" and published["late"] is False

    listing = (await proc.get("/notices")).json()
    (row,) = listing["individual"]
    assert row["tracking"]["notice_id"] == award["notice_id"]
    assert [t["kind"] for t in row["tracked"]] == ["contract_award", "contract_details"]


async def test_an_unpublished_act_notice_raises_the_overdue_event_once(proc: Driver) -> None:
    scheme_id, competition_id = await awarded_under_the_act(proc)
    (details,) = await tracked(proc, kind="contract_details")
    due = datetime.fromisoformat(f"{details['due_on']}T23:00:00+00:00") + timedelta(hours=2)
    db, source = proc.runtime.db, proc.runtime.source
    on_time = ClockTick(subject=details["notice_id"], now=datetime.now(UTC))
    assert await mark_notice_overdue(db, source, on_time) is False
    late = ClockTick(subject=details["notice_id"], now=due)
    assert await mark_notice_overdue(db, source, late) is True
    assert await mark_notice_overdue(db, source, late) is True
    (overdue,) = await proc.events("procurement.notice.overdue")
    assert overdue["kind"] == "contract_details" and overdue["scheme_id"] == scheme_id
    assert overdue["competition_id"] == competition_id and "s.53(1)" in overdue["rule"]
    assert [n["notice_id"] for n in await tracked(proc, overdue="true")] == [details["notice_id"]]


async def test_opening_then_closing_a_dynamic_market_owes_its_market_notices(
    proc: Driver,
) -> None:
    scheme_id = await proc.scheme(open=False)
    await under_the_act(proc, scheme_id)
    async with proc.client() as c:
        r = await c.post(f"/schemes/{scheme_id}/status", json={"action": "open"})
        assert r.status_code == 200, r.text
    opened = await tracked(proc, scheme_id=scheme_id)
    assert sorted(n["kind"] for n in opened) == [
        "dynamic_market_establishment",
        "dynamic_market_intention",
    ]
    assert {n["due_on"] for n in opened} == {today().isoformat()}
    assert all("s.39(" in n["source"] and n["regime"] == DM for n in opened)

    async with proc.client() as c:
        r = await c.post(f"/schemes/{scheme_id}/status", json={"action": "close", "reason": "x"})
        assert r.status_code == 200, r.text
    (ceased,) = await tracked(proc, kind="dynamic_market_cessation")
    assert ceased["due_on"] == today().isoformat() and "s.39(5)" in ceased["source"]
    assert await tracked(proc, kind="dps_period_change") == []  # not PCR's notice

    late = datetime.fromisoformat(f"{ceased['due_on']}T23:00:00+00:00") + timedelta(hours=2)
    tick = ClockTick(subject=ceased["notice_id"], now=late)
    assert await mark_notice_overdue(proc.runtime.db, proc.runtime.source, tick) is True
    (overdue,) = await proc.events("procurement.notice.overdue")
    assert overdue["kind"] == "dynamic_market_cessation"


async def test_a_pcr_scheme_owes_no_act_notice_when_opened(proc: Driver) -> None:
    scheme_id = await proc.scheme(open=False)
    async with proc.client(Role.COMMISSIONER) as c:
        r = await c.post(f"/schemes/{scheme_id}/status", json={"action": "open"})
        assert r.status_code == 200, r.text
    assert await tracked(proc, scheme_id=scheme_id) == []
