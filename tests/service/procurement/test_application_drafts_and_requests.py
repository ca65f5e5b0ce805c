"""Issue 15: a provider's draft application (save and come back; not evaluated, no
clock) and the council's clarification requests on an application (PCR 2015 reg 56(4))."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from services.procurement.models import (
    ApplicationClarificationRow,
    ApplicationDraftRow,
    ApplicationRow,
)
from shared import clock
from shared.contracts.common import Role
from shared.working_days import end_of_day, london_date
from tests.service.procurement.conftest import Driver

DRAFT = {"requested_categories": ["asd-day"], "answers": {"ofsted": "Good"}}


def fields(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {e["field"] for e in response.json()["detail"]}


async def test_draft_is_saved_read_back_and_only_by_its_provider(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    async with proc.client(Role.PROVIDER, "p-1") as c:
        assert (await c.get(f"/schemes/{scheme_id}/application-draft")).status_code == 404
        r = await c.put(f"/schemes/{scheme_id}/application-draft", json=DRAFT)
        assert r.status_code == 200, r.text
        assert r.json()["evaluated"] is False and "34(15)" in r.json()["note"]
        # Incomplete is fine (no quality answer); replacing keeps one draft.
        r = await c.put(
            f"/schemes/{scheme_id}/application-draft", json={**DRAFT, "answers": {"ofsted": "Ok"}}
        )
        got = (await c.get(f"/schemes/{scheme_id}/application-draft")).json()
        assert got["answers"] == {"ofsted": "Ok"} and got["requested_categories"] == ["asd-day"]
        listed = (await c.get("/portal/application-drafts")).json()
        assert [d["scheme_id"] for d in listed] == [scheme_id] and listed[0]["scheme_title"]
    # Another provider never reads it, and has none of its own.
    async with proc.client(Role.PROVIDER, "p-2") as c:
        assert (await c.get(f"/schemes/{scheme_id}/application-draft")).status_code == 404
        assert (await c.get("/portal/application-drafts")).json() == []
    async with proc.client(Role.COMMISSIONER) as c:
        assert (await c.get(f"/schemes/{scheme_id}/application-draft")).status_code == 403
        assert (
            await c.put(f"/schemes/{scheme_id}/application-draft", json=DRAFT)
        ).status_code == 403
    # A draft is no request to participate: nothing to evaluate, no clock.
    assert await proc.count(ApplicationRow) == 0
    assert await proc.count(ApplicationDraftRow) == 1


async def test_bad_draft_is_4xx_naming_the_field(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    async with proc.client(Role.PROVIDER, "p-1") as c:
        r = await c.put(
            f"/schemes/{scheme_id}/application-draft", json={"answers": {"ofsted": "x" * 5001}}
        )
        assert r.status_code == 422 and fields(r) == {"answers.ofsted"}
        r = await c.put(
            f"/schemes/{scheme_id}/application-draft", json={"requested_categories": [""]}
        )
        assert r.status_code == 422 and fields(r) == {"requested_categories"}
        r = await c.put(f"/schemes/{scheme_id}/application-draft", json={"answers": ["x"]})
        assert r.status_code == 422
        assert (await c.put("/schemes/nope/application-draft", json=DRAFT)).status_code == 404
    assert await proc.count(ApplicationDraftRow) == 0


async def test_submitting_deletes_the_draft(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.register("p-1")
    await proc.register("p-2")
    for provider in ("p-1", "p-2"):
        async with proc.client(Role.PROVIDER, provider) as c:
            r = await c.put(f"/schemes/{scheme_id}/application-draft", json=DRAFT)
            assert r.status_code == 200
    await proc.apply(scheme_id, "p-1")
    assert (
        await proc.get(f"/schemes/{scheme_id}/application-draft", Role.PROVIDER, "p-1")
    ).status_code == 404
    # p-2's draft is untouched.
    assert (
        await proc.get(f"/schemes/{scheme_id}/application-draft", Role.PROVIDER, "p-2")
    ).status_code == 200


async def _asked(proc: Driver, application_id: str, reply_by_on: date) -> str:
    async with proc.client(Role.COMMISSIONER) as c:
        r = await c.post(
            f"/applications/{application_id}/clarification-requests",
            json={"question": "Send your latest Ofsted letter", "reply_by_on": str(reply_by_on)},
        )
    assert r.status_code == 201, r.text
    return str(r.json()["request_id"])


async def test_clarification_request_is_answered_by_the_applicant_only(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.register("p-1")
    application_id = await proc.apply(scheme_id, "p-1")
    today = london_date(clock.now())
    request_id = await _asked(proc, application_id, today + timedelta(days=5))
    path = f"/applications/{application_id}/clarification-requests/{request_id}/answer"
    async with proc.client(Role.PROVIDER, "p-2") as c:
        assert (await c.post(path, json={"answer": "mine"})).status_code == 404
    async with proc.client(Role.COMMISSIONER) as c:
        assert (await c.post(path, json={"answer": "x"})).status_code == 403
    async with proc.client(Role.PROVIDER, "p-1") as c:
        r = await c.post(path, json={"answer": " "})
        assert r.status_code == 422 and fields(r) == {"answer"}
        r = await c.post(path, json={"answer": "Attached: letter of 1 May"})
        assert r.status_code == 200 and r.json()["answered_at"]
        r = await c.post(path, json={"answer": "again"})
        assert r.status_code == 409
        mine = (await c.get("/portal/applications")).json()
    assert mine[0]["clarification_requests"][0]["answer"] == "Attached: letter of 1 May"
    assert (await proc.get("/portal/applications", Role.PROVIDER, "p-2")).json() == []
    seen = (await proc.get(f"/applications/{application_id}")).json()
    assert seen["clarification_requests"][0]["answer"] == "Attached: letter of 1 May"
    # The request does not stop the evaluation clock.
    assert seen["evaluation_working_days"] == 10


async def test_bad_request_and_late_answer(proc: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    scheme_id = await proc.scheme()
    await proc.register("p-1")
    application_id = await proc.apply(scheme_id, "p-1")
    today = london_date(clock.now())
    async with proc.client(Role.COMMISSIONER) as c:
        url = f"/applications/{application_id}/clarification-requests"
        r = await c.post(url, json={"question": "x", "reply_by_on": str(today - timedelta(days=1))})
        assert r.status_code == 422 and fields(r) == {"reply_by_on"}
        r = await c.post(url, json={"question": "", "reply_by_on": str(today)})
        assert r.status_code == 422 and fields(r) == {"question"}
        r = await c.post(url, json={"question": "x", "reply_by_on": "soon"})
        assert r.status_code == 422
        r = await c.post(
            "/applications/nope/clarification-requests",
            json={"question": "x", "reply_by_on": str(today)},
        )
        assert r.status_code == 404
    async with proc.client(Role.PROVIDER, "p-1") as c:
        assert (
            await c.post(url, json={"question": "x", "reply_by_on": str(today)})
        ).status_code == 403
    request_id = await _asked(proc, application_id, today)
    late: datetime = end_of_day(today)
    monkeypatch.setattr(clock, "now", lambda: late)
    async with proc.client(Role.PROVIDER, "p-1") as c:
        r = await c.post(
            f"/applications/{application_id}/clarification-requests/{request_id}/answer",
            json={"answer": "late"},
        )
    assert r.status_code == 409 and fields(r) == {"answer"}
    assert "reply_by_passed" in r.text
    assert await proc.count(ApplicationClarificationRow) == 1


async def test_no_request_once_decided(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.register("p-1")
    application_id = await proc.apply(scheme_id, "p-1")
    assert (await proc.decide(application_id)).status_code == 200
    async with proc.client(Role.COMMISSIONER) as c:
        r = await c.post(
            f"/applications/{application_id}/clarification-requests",
            json={"question": "x", "reply_by_on": str(london_date(clock.now()))},
        )
    assert r.status_code == 409
