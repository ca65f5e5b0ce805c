"""Schemes, requests to participate, decisions, extensions and memberships over HTTP."""

from __future__ import annotations

from datetime import timedelta

from services.procurement.models import ApplicationRow, MembershipRow, SchemeRow
from shared.contracts.common import Role
from shared.infra_models import AuditEntry, OutboxMessage
from tests.fixtures import today
from tests.service.procurement.conftest import TIERED, Driver, scheme_body


def fields(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {e["field"] for e in response.json()["detail"]}


def rules(response) -> str:  # type: ignore[no-untyped-def]
    """Every refusal's rule code and its words (``message``), as one string to search."""
    return " ".join(f"{e['rule']}: {e.get('message', '')}" for e in response.json()["detail"])


async def test_scheme_is_created_opened_read_and_audited(proc: Driver) -> None:
    scheme_id = await proc.scheme(**TIERED)
    r = await proc.get(f"/schemes/{scheme_id}", Role.PROVIDER, "p-1")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "open" and body["regime"] == "pcr2015_light_touch"
    assert [lot["code"] for lot in body["lots"]] == ["lot2", "lot1"]
    assert body["regime_rules"]["application_evaluation_working_days"] == 10
    assert [e["type"] for e in await proc.events()] == [
        "procurement.scheme.created",
        "procurement.scheme.opened",
    ]
    assert await proc.count(AuditEntry) == 1


async def test_scheme_routes_check_roles(proc: Driver) -> None:
    async with proc.client(None) as anonymous:
        assert (await anonymous.post("/schemes", json=scheme_body())).status_code == 401
        assert (await anonymous.get("/schemes/x")).status_code == 401
    for role in (Role.PROVIDER, Role.MONITORING_OFFICER, Role.COUNCIL_SYSTEM, Role.ADMIN):
        async with proc.client(role, "p-1") as c:
            assert (await c.post("/schemes", json=scheme_body())).status_code == 403
    async with proc.client(Role.COMMISSIONER) as commissioner:
        assert (await commissioner.post("/schemes", json=scheme_body())).status_code == 201


async def test_bad_scheme_is_422_naming_the_rule_and_nothing_is_written(proc: Driver) -> None:
    bad = scheme_body(
        term_end=(today() - timedelta(days=60)).isoformat(), min_tender_days=5, regime="pcr2015"
    )
    async with proc.client() as c:
        r = await c.post("/schemes", json=bad)
        assert r.status_code == 422 and fields(r) == {"term_end"}
        r = await c.post("/schemes", json=scheme_body(regime="pcr2015", min_tender_days=5))
        assert r.status_code == 422 and fields(r) == {"min_tender_days"}
        # established before the Act commenced (24 February 2025): refused
        r = await c.post("/schemes", json=scheme_body(regime="pa2023_dynamic_market"))
        assert r.status_code == 422 and fields(r) == {"established_on"}
        assert "out_of_range" in rules(r)
        r = await c.post("/schemes", json=scheme_body(categories=[]))
        assert r.status_code == 422 and fields(r) == {"categories"}
        assert (await c.get("/schemes/nope")).status_code == 404
    assert await proc.count(SchemeRow) == 0
    assert await proc.count(OutboxMessage) == 0


async def test_duplicate_reference_is_409(proc: Driver) -> None:
    async with proc.client() as c:
        assert (await c.post("/schemes", json=scheme_body(reference="R1"))).status_code == 201
        r = await c.post("/schemes", json=scheme_body(reference="R1"))
    assert r.status_code == 409 and fields(r) == {"reference"}


async def test_scheme_can_be_suspended_reopened_and_closed(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    async with proc.client() as c:
        r = await c.post(
            f"/schemes/{scheme_id}/status", json={"action": "suspend", "reason": "audit"}
        )
        assert r.json()["status"] == "suspended"
        assert (await c.post(f"/schemes/{scheme_id}/status", json={"action": "open"})).json()[
            "status"
        ] == "open"
        r = await c.post(f"/schemes/{scheme_id}/status", json={"action": "close", "reason": "end"})
        assert r.json()["status"] == "closed"
        r = await c.post(f"/schemes/{scheme_id}/status", json={"action": "open"})
        assert r.status_code == 409 and "invalid_transition" in rules(r)
    types = [e["type"] for e in await proc.events()]
    assert types[-3:] == [
        "procurement.scheme.suspended",
        "procurement.scheme.opened",
        "procurement.scheme.closed",
    ]


async def test_application_decision_admits_with_lot_and_records_who(proc: Driver) -> None:
    scheme_id = await proc.scheme(**TIERED)
    await proc.register("p-1")
    application_id = await proc.apply(scheme_id, "p-1")
    submitted = (await proc.events("procurement.application.submitted"))[0]
    assert submitted["provider_id"] == "p-1" and submitted["evaluation_due_on"]
    r = await proc.decide(application_id, score=75)
    assert r.status_code == 200, r.text
    decision = r.json()["decision"]
    assert decision["outcome"] == "admitted" and decision["lot_code"] == "lot2"
    assert decision["decided_by"] == "dev-commissioner"
    assert {c["criterion"] for c in decision["criteria"]} >= {
        "register",
        "document:insurance",
        "pass_mark",
    }
    admitted = await proc.events("procurement.membership.admitted")
    assert admitted[0]["subject"] == "p-1" and admitted[0]["lot_code"] == "lot2"
    members = (await proc.get(f"/schemes/{scheme_id}/members")).json()["members"]
    assert [(m["provider_id"], m["status"], m["lot_code"]) for m in members] == [
        ("p-1", "active", "lot2")
    ]
    again = await proc.decide(application_id)
    assert again.status_code == 409


async def test_rejection_names_each_failed_criterion(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.register("p-1")
    r = await proc.decide(await proc.apply(scheme_id, "p-1"), score=10, passed=False)
    decision = r.json()["decision"]
    assert decision["outcome"] == "rejected"
    failed = {c["criterion"]: c["reason"] for c in decision["criteria"] if not c["passed"]}
    assert set(failed) == {"question:ofsted", "pass_mark"}
    assert await proc.count(MembershipRow) == 0


async def test_application_is_for_the_providers_own_record_only(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.register("p-1")
    body = {"requested_categories": ["asd-day"], "answers": {"ofsted": "x", "quality": "y"}}
    async with proc.client(Role.COMMISSIONER) as c:
        assert (await c.post(f"/schemes/{scheme_id}/applications", json=body)).status_code == 403
    async with proc.client(None) as c:
        assert (await c.post(f"/schemes/{scheme_id}/applications", json=body)).status_code == 401
    async with proc.client(Role.PROVIDER, "p-unknown") as c:
        r = await c.post(f"/schemes/{scheme_id}/applications", json=body)
        assert r.status_code == 422 and fields(r) == {"provider_id"}
    async with proc.client(Role.PROVIDER, "p-1") as c:
        assert (await c.post("/schemes/nope/applications", json=body)).status_code == 404
        r = await c.post(
            f"/schemes/{scheme_id}/applications", json={**body, "requested_categories": ["zzz"]}
        )
        assert r.status_code == 422 and fields(r) == {"category_code"}
        r = await c.post(
            f"/schemes/{scheme_id}/applications", json={**body, "answers": {"ofsted": "x"}}
        )
        assert r.status_code == 422 and fields(r) == {"answers.quality"}
    assert await proc.count(ApplicationRow) == 0


async def test_registered_or_undocumented_provider_applies_and_is_judged_at_decision(
    proc: Driver,
) -> None:
    """Changed by issue 12 (reg 34(2)(b), (15)-(16)): a provider registered but not yet
    active, or with a document expired, may apply; its documents and register status are
    selection criteria decided within the clock. Only a suspended provider is refused."""
    scheme_id = await proc.scheme()
    expired = (today() - timedelta(days=1)).isoformat()
    docs = [
        {"kind": "insurance", "expires_on": expired},
        {"kind": "safeguarding_policy", "expires_on": "2099-01-01"},
        {"kind": "financial_check", "expires_on": "2099-01-01"},
    ]
    await proc.register("p-1", documents=docs, documents_valid=False)
    await proc.register("p-2", status="registered")
    await proc.register("p-3", status="suspended")
    body = {"requested_categories": ["asd-day"], "answers": {"ofsted": "x", "quality": "y"}}
    decided = {}
    for pid in ("p-1", "p-2"):
        async with proc.client(Role.PROVIDER, pid) as c:
            r = await c.post(f"/schemes/{scheme_id}/applications", json=body)
        assert r.status_code == 201, r.text
        d = await proc.decide(r.json()["application_id"])
        decided[pid] = {c["criterion"]: c for c in d.json()["decision"]["criteria"]}
        assert d.json()["decision"]["outcome"] == "rejected"
    assert not decided["p-1"]["document:insurance"]["passed"]
    assert "expired" in decided["p-1"]["document:insurance"]["reason"]
    assert not decided["p-2"]["register"]["passed"]
    async with proc.client(Role.PROVIDER, "p-3") as c:
        r = await c.post(f"/schemes/{scheme_id}/applications", json=body)
    assert r.status_code == 422 and "provider_not_active" in rules(r)


async def test_extension_once_with_reason_to_15_working_days(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.register("p-1")
    application_id = await proc.apply(scheme_id, "p-1")
    async with proc.client() as c:
        r = await c.post(f"/applications/{application_id}/extension", json={"reason": ""})
        assert r.status_code == 422
        r = await c.post(f"/applications/{application_id}/extension", json={"reason": "site visit"})
        assert r.status_code == 200 and r.json()["evaluation_working_days"] == 15
        again = await c.post(f"/applications/{application_id}/extension", json={"reason": "more"})
        assert again.status_code == 409 and "extension_already_used" in rules(again)
        assert (
            await c.post("/applications/nope/extension", json={"reason": "x"})
        ).status_code == 404
    async with proc.client(Role.PROVIDER, "p-1") as c:
        r = await c.post(f"/applications/{application_id}/extension", json={"reason": "x"})
        assert r.status_code == 403
        assert (
            await c.post(f"/applications/{application_id}/decision", json={})
        ).status_code == 403
    extended = await proc.events("procurement.application.extended")
    assert extended[0]["reason"] == "site visit"


async def test_register_suspension_suspends_memberships_and_reinstates(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    await proc.set_status("p-1", "suspended")
    members = (await proc.get(f"/schemes/{scheme_id}/members")).json()["members"]
    assert members[0]["status"] == "suspended" and members[0]["history"][0]["status"] == "suspended"
    assert (await proc.events("procurement.membership.suspended"))[0]["subject"] == "p-1"
    await proc.set_status("p-1", "active", previous="suspended")
    members = (await proc.get(f"/schemes/{scheme_id}/members")).json()["members"]
    assert members[0]["status"] == "active"


async def test_commissioner_suspends_and_ends_membership_with_reason(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    async with proc.client() as c:
        path = f"/schemes/{scheme_id}/members/p-1/status"
        r = await c.post(path, json={"action": "suspend", "reason": "quality recommendation"})
        assert r.status_code == 200 and r.json()["status"] == "suspended"
        r = await c.post(path, json={"action": "suspend", "reason": "again"})
        assert r.status_code == 409
        r = await c.post(path, json={"action": "end", "reason": "contract breach"})
        assert r.json()["status"] == "ended"
    async with proc.client(Role.MONITORING_OFFICER) as c:
        assert (await c.get(f"/schemes/{scheme_id}/members")).status_code == 200
        assert (await c.get("/schemes/nope/members")).status_code == 404
    async with proc.client(Role.PROVIDER, "p-1") as c:
        assert (await c.get(f"/schemes/{scheme_id}/members")).status_code == 403
