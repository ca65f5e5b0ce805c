"""Issue 19 over HTTP: a Procurement Act dynamic market runs a call-off with its own
timings and a voluntary standstill in working days; an open framework shows and keeps
its reopening schedule; a direct award records its ground and says which notices and
standstill come before the contract."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.procurement.models import DirectAwardRow
from shared.contracts.common import Role
from shared.working_days import add_working_days, end_of_day, london_date
from tests.fixtures import today
from tests.service.procurement.conftest import Driver, scheme_body

DM = {"regime": "pa2023_dynamic_market", "established_on": None, "light_touch": True}


def framework_body(**overrides: object) -> dict[str, object]:
    start = today() - timedelta(days=30)
    body = scheme_body(
        regime="pa2023_open_framework",
        established_on=None,
        term_start=start.isoformat(),
        term_end=(start + timedelta(days=6 * 365)).isoformat(),
        reopening_dates=[
            (start + timedelta(days=2 * 365)).isoformat(),
            (start + timedelta(days=5 * 365)).isoformat(),
        ],
    )
    body.update(overrides)
    return body


async def test_dynamic_market_call_off_runs_with_the_acts_rules(proc: Driver) -> None:
    scheme_id = await proc.scheme(**DM, voluntary_standstill=True)
    view = (await proc.get(f"/schemes/{scheme_id}")).json()
    rules = view["regime_rules"]
    assert view["regime"] == "pa2023_dynamic_market" and view["light_touch"] is True
    assert rules["standstill_working_days"] is True and rules["standstill_days"] == 8
    assert rules["long_stop"] is None and rules["earliest_establishment"] == "2025-02-24"
    assert rules["award_notice_days"] == 120  # contract details notice, light touch
    assert rules["call_off_procedures"] == ["competitive_flexible_procedure"]
    (created,) = await proc.events("procurement.scheme.created")
    assert created["regime"] == "pa2023_dynamic_market" and created["light_touch"] is True

    await proc.admit(scheme_id, "p-1")  # any supplier meeting the conditions joins
    await proc.admit(scheme_id, "p-2")
    r = await proc.open(scheme_id)
    assert r.status_code == 201, r.text
    competition_id = str(r.json()["competition_id"])
    assert (await proc.bid(competition_id, "p-1", fee="1800.00")).status_code == 201
    assert (await proc.bid(competition_id, "p-2", fee="1500.00")).status_code == 201
    assert await proc.close(competition_id) == "evaluation"
    r = await proc.score_and_evaluate(competition_id, {"p-1": "9", "p-2": "5"})
    assert r.status_code == 200, r.text
    r = await proc.award(competition_id)
    assert r.status_code == 200, r.text
    (event,) = await proc.events("procurement.competition.awarded")
    assert event["contract_awaits_standstill"] is True
    awarded_on = london_date(datetime.now(UTC))
    expected = end_of_day(add_working_days(awarded_on - timedelta(days=1), 8))
    assert datetime.fromisoformat(event["standstill_ends_at"]) == expected


async def test_dynamic_market_predating_the_act_is_refused(proc: Driver) -> None:
    async with proc.client() as c:
        r = await c.post("/schemes", json=scheme_body(regime="pa2023_dynamic_market"))
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["detail"]} == {"established_on"}


async def test_open_framework_shows_and_keeps_its_reopening_schedule(proc: Driver) -> None:
    async with proc.client() as c:
        r = await c.post("/schemes", json=framework_body())
        assert r.status_code == 201, r.text
        view = r.json()
        scheme_id = view["scheme_id"]
        first = date.fromisoformat(view["reopening_dates"][0])
        assert view["framework_number"] == 1
        assert view["next_reopening_due"] == first.isoformat()
        assert "s.49(2)" in view["reopening_source"]
        r = await c.post(f"/schemes/{scheme_id}/reopenings", json={"reason": "first reopening"})
        assert r.status_code == 201, r.text
        after = r.json()
        assert after["framework_number"] == 2
        assert after["next_reopening_due"] == view["reopening_dates"][1]
        assert after["categories"] == view["categories"]  # terms carried over
        assert after["reopenings"][0]["recorded_by"]
        # an open framework needs its schedule: refused without one, naming the field
        r = await c.post("/schemes", json=framework_body(reopening_dates=[]))
        assert r.status_code == 422
        assert {e["field"] for e in r.json()["detail"]} == {"reopening_dates"}
        # a dynamic market is not reopened
        dm = await proc.scheme(**DM)
        r = await c.post(f"/schemes/{dm}/reopenings", json={"reason": "x"})
        assert r.status_code == 422
    async with proc.client(Role.PROVIDER, "p-1") as provider:
        r = await provider.post(f"/schemes/{scheme_id}/reopenings", json={"reason": "x"})
        assert r.status_code == 403


async def test_direct_award_records_its_ground_and_what_must_precede_it(proc: Driver) -> None:
    body = {
        "ground": "user_choice",
        "justification": "Parent's preference for a named school",
        "provider_id": "p-9",
        "contract_value": "58000.00",
        "start_date": (today() + timedelta(days=30)).isoformat(),
        "need_ref": "PSN-0123",
    }
    async with proc.client() as c:
        r = await c.post("/direct-awards", json=body)
        assert r.status_code == 201, r.text
        user_choice = r.json()
        assert user_choice["requires_transparency_notice"] is False
        assert user_choice["requires_contract_award_notice"] is False
        assert user_choice["standstill_applies"] is False
        read = await c.get(f"/direct-awards/{user_choice['direct_award_id']}")
        assert read.status_code == 200 and read.json()["ground"] == "user_choice"
        urgent = {**body, "ground": "extreme_urgency"}
        r = await c.post("/direct-awards", json=urgent)
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["detail"]] == ["end_date"]
        urgent["end_date"] = (today() + timedelta(days=120)).isoformat()
        r = await c.post("/direct-awards", json=urgent)
        assert r.status_code == 201 and r.json()["requires_transparency_notice"] is True
        r = await c.post("/direct-awards", json={**body, "ground": "cheapest"})
        assert r.status_code == 422
        r = await c.post("/direct-awards", json={**body, "scheme_id": "nope"})
        assert r.status_code == 404
        assert (await c.get("/direct-awards/nope")).status_code == 404
    async with proc.client(Role.PROVIDER, "p-9") as provider:
        assert (await provider.post("/direct-awards", json=body)).status_code == 403
    events = await proc.events("procurement.direct_award.recorded")
    assert [e["ground"] for e in events] == ["user_choice", "extreme_urgency"]
    assert events[0]["requires_transparency_notice"] is False
    assert events[1]["requires_transparency_notice"] is True
    assert "justification" not in events[0]  # internal reasons are not in the event
    assert await proc.count(DirectAwardRow) == 2
