"""Issue 12 over HTTP and events: call-offs follow the regime and the scheme as published."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.procurement.activities import mark_declaration_overdue
from services.procurement.models import SelfDeclarationRow
from services.procurement.workflow_types import DeclarationCheck
from shared.contracts.common import Role
from tests.fixtures import today
from tests.service.procurement.conftest import GLASGOW, TIERED, Driver
from tests.service.procurement.test_needs import need, raise_need
from tests.service.procurement.test_schemes_and_applications import fields, rules

PLAIN = {"need_type": "ASD", "attendance": "day"}


async def admit_three(proc: Driver, scheme_id: str) -> None:
    await proc.admit(scheme_id, "p-high", score=80)  # lot 2
    await proc.admit(scheme_id, "p-low", score=40)  # lot 1
    await proc.register("p-far", latlon=GLASGOW)
    await proc.admit(scheme_id, "p-far", score=90, register=False)


# ------------------------------------------------------------ 1. invitations


async def test_full_pcr_invites_every_member_and_refuses_ad_hoc_filters(proc: Driver) -> None:
    scheme_id = await proc.scheme(regime="pcr2015", **TIERED)
    await admit_three(proc, scheme_id)
    view = (await proc.get(f"/schemes/{scheme_id}")).json()
    assert view["tiers_apply"] is False and view["screening_applies"] is False
    assert "34(21)" in view["regime_rules"]["invitation_source"]
    r = await proc.open(scheme_id)  # the default body screens by age
    assert r.status_code == 422 and fields(r) == {"filter.min_age"}
    assert "filter_not_permitted" in rules(r)
    r = await proc.open(scheme_id, filter=PLAIN)
    assert r.status_code == 201, r.text
    body = r.json()
    assert sorted(i["provider_id"] for i in body["invitations"]) == ["p-far", "p-high", "p-low"]
    assert body["current_lot"] is None


async def test_an_automatic_call_off_under_full_pcr_invites_everyone(proc: Driver) -> None:
    scheme_id = await proc.scheme(regime="pcr2015", **TIERED)
    await admit_three(proc, scheme_id)
    payload = need()
    await raise_need(proc, payload)
    body = (await proc.get(f"/competitions/need-{payload.need_id}")).json()
    assert sorted(i["provider_id"] for i in body["invitations"]) == ["p-far", "p-high", "p-low"]
    assert body["spec"]["filter"]["min_age"] is None
    assert body["spec"]["filter"]["max_distance_km"] is None


async def test_light_touch_without_published_narrowing_invites_every_lot(proc: Driver) -> None:
    scheme_id = await proc.scheme(narrowing_published=False, **TIERED)
    await admit_three(proc, scheme_id)
    r = await proc.open(scheme_id, filter=PLAIN)
    assert r.status_code == 201, r.text
    assert len(r.json()["invitations"]) == 3


# ----------------------------------------------------------- 2. award criteria


async def test_call_offs_apply_the_schemes_award_criteria(proc: Driver) -> None:
    criteria = {
        "quality_weight": 70,
        "price_weight": 30,
        "quality_questions": [
            {"question_id": "q1", "text": "Outcomes", "max_score": 20, "weight": 1, "min_score": 8}
        ],
    }
    scheme_id = await proc.scheme(award_criteria=criteria)
    await proc.admit(scheme_id, "p-1")
    view = (await proc.get(f"/schemes/{scheme_id}")).json()
    assert view["award_criteria"]["quality_weight"] == 70
    r = await proc.open(scheme_id)  # conftest's 60/40 on "fit"
    assert r.status_code == 422 and "award_criteria_mismatch" in rules(r)
    assert fields(r) == {"quality_weight"}
    r = await proc.open(scheme_id, quality_weight=None, price_weight=None, quality_questions=None)
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["quality_weight"] == 70
    assert r.json()["spec"]["quality_questions"][0]["min_score"] == 8
    payload = need()
    await raise_need(proc, payload)
    opened = [
        e
        for e in await proc.events("procurement.competition.opened")
        if e["competition_id"] == f"need-{payload.need_id}"
    ]
    assert (opened[0]["quality_weight"], opened[0]["price_weight"]) == (70, 30)


async def test_scheme_award_criteria_are_validated(proc: Driver) -> None:
    async with proc.client() as c:
        from tests.service.procurement.conftest import scheme_body

        bad = {"quality_weight": 70, "price_weight": 40, "quality_questions": []}
        r = await c.post("/schemes", json=scheme_body(award_criteria=bad))
    assert r.status_code == 422 and "weights_must_sum_to_100" in rules(r)


# ------------------------------------------------------------- 3. Kent's lots


KENT_QUESTIONS = [
    {"question_id": f"Q{n}", "text": f"Q{n}", "kind": "scored", "max_score": 10, "weight": 1}
    for n in range(11, 17)
]
KENT_LOTS = [
    {
        "code": "lot2",
        "name": "Lot 2",
        "min_quality_score": "60",
        "block_contracts_allowed": True,
        "min_question_score": "6",
        "min_score_questions": [f"Q{n}" for n in range(11, 17)],
    },
    {
        "code": "lot1",
        "name": "Lot 1",
        "min_quality_score": "30",
        "min_question_score": "3",
        "min_score_questions": [f"Q{n}" for n in range(11, 17)],
    },
]


async def test_kents_per_question_minimums_put_a_lot_2_failure_in_lot_1(proc: Driver) -> None:
    scheme_id = await proc.scheme(selection_questions=KENT_QUESTIONS, lots=KENT_LOTS)
    view = (await proc.get(f"/schemes/{scheme_id}")).json()
    assert view["lots"][0]["min_question_score"] == "6"
    await proc.register("p-1")
    async with proc.client(Role.PROVIDER, "p-1") as c:
        r = await c.post(
            f"/schemes/{scheme_id}/applications",
            json={
                "requested_categories": ["asd-day"],
                "answers": {q["question_id"]: "answer" for q in KENT_QUESTIONS},
            },
        )
    assert r.status_code == 201, r.text
    scores = dict.fromkeys((f"Q{n}" for n in range(11, 16)), 9) | {"Q16": 5}
    async with proc.client() as c:
        d = await c.post(
            f"/applications/{r.json()['application_id']}/decision",
            json={"assessments": {q: {"score": s} for q, s in scores.items()}},
        )
    decision = d.json()["decision"]
    assert decision["outcome"] == "admitted" and decision["lot_code"] == "lot1"
    assert float(decision["quality_score"]) > 60


# -------------------------------------------------- 4. the 2023 Act transition


async def test_no_new_pcr_dps_from_go_live_but_an_existing_one_imports(proc: Driver) -> None:
    from tests.service.procurement.conftest import scheme_body

    async with proc.client() as c:
        new = scheme_body(established_on=None)
        r = await c.post("/schemes", json=new)
        assert r.status_code == 422 and "regime_closed_to_new_schemes" in rules(r)
        assert fields(r) == {"regime"}
        r = await c.post("/schemes", json=scheme_body(established_on="2023-06-01"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["imported"] is True and body["established_on"] == "2023-06-01"
    assert body["regime_rules"]["long_stop"] == "2029-02-23"
    assert body["last_usable_day"] <= "2029-02-23"
    created = (await proc.events("procurement.scheme.created"))[-1]
    assert created["established_on"] == "2023-06-01" and created["imported"] is True


# ----------------------------------------------------------- 5. extensions


async def test_extensions_are_decided_recorded_and_owe_a_period_notice(proc: Driver) -> None:
    end = today() + timedelta(days=100)
    options = [(end + timedelta(days=150 * n)).isoformat() for n in (1, 2)]
    scheme_id = await proc.scheme(term_end=end.isoformat(), extension_ends=options)
    async with proc.client() as c:
        path = f"/schemes/{scheme_id}/status"
        r = await c.post(path, json={"action": "extend", "reason": ""})
        assert r.status_code == 422 and fields(r) == {"reason"}
        for n, option in enumerate(options, start=1):
            r = await c.post(path, json={"action": "extend", "reason": f"demand {n}"})
            assert r.status_code == 200, r.text
            assert r.json()["extensions"][-1]["term_end"] == option
        r = await c.post(path, json={"action": "extend", "reason": "once more"})
        assert r.status_code == 422 and "extension_not_available" in rules(r)
    view = (await proc.get(f"/schemes/{scheme_id}")).json()
    assert [n["status"] for n in view["period_notices"]] == ["pending", "pending"]
    assert [e["reason"] for e in view["extensions"]] == ["demand 1", "demand 2"]
    events = await proc.events("procurement.scheme.extended")
    assert [(e["extension_number"], e["extensions_allowed"]) for e in events] == [(1, 2), (2, 2)]
    assert events[0]["reason"] == "demand 1" and "34(27)" in events[0]["period_notice_form"]
    assert events[1]["previous_term_end"] == options[0]
    # Each period notice is tracked like an award notice: due before the period it extends ends.
    rows = (await proc.get("/notices/tracking?kind=dps_period_change")).json()["notices"]
    assert sorted((n["due_on"], n["status"]) for n in rows) == [
        (end.isoformat(), "due"),
        (options[0], "due"),
    ]


async def test_closing_early_owes_the_termination_notice(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    async with proc.client() as c:
        r = await c.post(
            f"/schemes/{scheme_id}/status", json={"action": "close", "reason": "open framework"}
        )
    assert r.status_code == 200
    assert r.json()["period_notices"][0]["change"] == "terminated"
    closed = (await proc.events("procurement.scheme.closed"))[0]
    assert "award notice" in closed["period_notice_form"]
    [notice] = (await proc.get("/notices/tracking?kind=dps_period_change")).json()["notices"]
    assert notice["due_on"] == (today() + timedelta(days=30)).isoformat()
    assert "reg 50(1)" in notice["rule"]


# ------------------------------------------- 6. renewed self-declarations


async def test_a_renewed_self_declaration_is_requested_answered_or_overdue(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    await proc.admit(scheme_id, "p-2")
    requests: dict[str, dict[str, Any]] = {}
    async with proc.client() as c:
        for pid in ("p-1", "p-2"):
            r = await c.post(
                f"/schemes/{scheme_id}/members/{pid}/self-declarations",
                json={"reason": "annual check"},
            )
            assert r.status_code == 201, r.text
            requests[pid] = r.json()
        r = await c.post(f"/schemes/{scheme_id}/members/p-9/self-declarations", json={})
        assert r.status_code == 422 and "member_not_active" in rules(r)
    first = requests["p-1"]
    assert first["status"] == "requested" and "34(25)" in first["source"]
    requested = await proc.events("procurement.self_declaration.requested")
    assert {e["provider_id"] for e in requested} == {"p-1", "p-2"}
    assert requested[0]["due_on"] == first["due_on"]

    path = f"/self-declarations/{first['request_id']}/answer"
    async with proc.client(Role.PROVIDER, "p-2") as c:  # another provider's request
        assert (await c.post(path, json={"declaration": {"a": "b"}})).status_code == 404
        assert (await c.get(f"/self-declarations/{first['request_id']}")).status_code == 404
    async with proc.client(Role.PROVIDER, "p-1") as c:
        r = await c.post(path, json={"declaration": {"exclusion_grounds": "none apply"}})
        assert r.status_code == 200 and r.json()["status"] == "answered"
        again = await c.post(path, json={"declaration": {"exclusion_grounds": "none"}})
        assert again.status_code == 422 and "declaration_already_answered" in rules(again)
    answered = await proc.events("procurement.self_declaration.answered")
    assert answered[0]["request_id"] == first["request_id"]

    late = datetime.fromisoformat(requests["p-2"]["due_at"]) + timedelta(seconds=1)
    for request_id in (first["request_id"], requests["p-2"]["request_id"]):
        for _ in range(2):  # a retried activity alerts once
            check = DeclarationCheck(request_id=request_id, now=late)
            assert await mark_declaration_overdue(proc.runtime.db, proc.runtime.source, check)
    overdue = await proc.events("procurement.self_declaration.overdue")
    assert [e["provider_id"] for e in overdue] == ["p-2"]
    assert await proc.count(SelfDeclarationRow) == 2
    early = DeclarationCheck(request_id=requests["p-2"]["request_id"], now=datetime.now(UTC))
    assert await mark_declaration_overdue(proc.runtime.db, proc.runtime.source, early)
    view = (await proc.get(f"/self-declarations/{requests['p-2']['request_id']}")).json()
    assert view["overdue_alerted_at"] is not None


# ---------------------------------- 7. open to any provider throughout its term


async def test_a_suspended_scheme_still_receives_and_decides_applications(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    async with proc.client() as c:
        r = await c.post(
            f"/schemes/{scheme_id}/status", json={"action": "suspend", "reason": "call-off audit"}
        )
        assert r.status_code == 200
    await proc.admit(scheme_id, "p-1")
    members = (await proc.get(f"/schemes/{scheme_id}/members")).json()["members"]
    assert [m["provider_id"] for m in members] == ["p-1"]
    r = await proc.open(scheme_id)
    assert r.status_code == 422 and "scheme_not_open" in rules(r)


# ------------------------------------ 8. suspended scheme or membership: bids


async def test_a_suspended_scheme_takes_no_new_bids_and_keeps_those_received(
    proc: Driver,
) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    await proc.admit(scheme_id, "p-2")
    competition_id = (await proc.open(scheme_id)).json()["competition_id"]
    assert (await proc.bid(competition_id, "p-1")).status_code == 201
    path = f"/schemes/{scheme_id}/status"
    async with proc.client() as c:
        await c.post(path, json={"action": "suspend", "reason": "call-off audit"})
    r = await proc.bid(competition_id, "p-2")
    assert r.status_code == 422 and "scheme_suspended" in rules(r)
    async with proc.client() as c:
        await c.post(path, json={"action": "open"})
    assert (await proc.bid(competition_id, "p-2")).status_code == 201
    body = (await proc.get(f"/competitions/{competition_id}")).json()
    assert sorted(b["provider_id"] for b in body["bids"]) == ["p-1", "p-2"]
    assert body["set_aside"] == []


async def test_a_suspended_members_open_bids_are_set_aside_at_once(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    await proc.admit(scheme_id, "p-2")
    competition_id = (await proc.open(scheme_id)).json()["competition_id"]
    assert (await proc.bid(competition_id, "p-1")).status_code == 201
    assert (await proc.bid(competition_id, "p-2")).status_code == 201
    async with proc.client() as c:
        base = f"/schemes/{scheme_id}/members/p-1/status"
        r = await c.post(base, json={"action": "suspend", "reason": "safeguarding concern"})
        assert r.status_code == 200
    body = (await proc.get(f"/competitions/{competition_id}")).json()
    (aside,) = body["set_aside"]
    assert aside["provider_id"] == "p-1" and "safeguarding concern" in aside["reason"]
    refused = await proc.bid(competition_id, "p-1")
    assert refused.status_code == 422 and "member_not_active" in rules(refused)
    async with proc.client() as c:  # reinstated before the deadline: the old bid stays aside
        await c.post(base, json={"action": "reinstate", "reason": "concern closed"})
    assert await proc.close(competition_id) == "evaluation"
    body = (await proc.get(f"/competitions/{competition_id}")).json()
    assert [s["provider_id"] for s in body["set_aside"]] == ["p-1"]
    assert "safeguarding concern" in body["set_aside"][0]["reason"]
