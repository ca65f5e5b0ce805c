"""Every placements route: roles (401/403), happy paths and each bad-input rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.placements.models import PlacementRow, UpliftRow
from shared.contracts.common import Role
from shared.infra_models import OutboxMessage
from tests.fixtures import today
from tests.harness import client_for
from tests.service.placements.conftest import Placements


def rules(response: Any) -> set[str]:
    return {e["rule"] for e in response.json()["detail"]}


async def _post(p: Placements, token: str | None, path: str, body: dict[str, Any]) -> Any:
    async with client_for(p.runtime, token) as client:
        return await client.post(path, json=body)


async def _get(p: Placements, token: str | None, path: str, **params: Any) -> Any:
    async with client_for(p.runtime, token) as client:
        return await client.get(path, params=params)


ROUTES = [
    ("get", "/needs"),
    ("get", "/needs/x"),
    ("get", "/placements"),
    ("get", "/placements/x"),
    ("post", "/placements/x/reviews/r/outcome"),
    ("post", "/placements/x/uplifts"),
    ("post", "/uplifts/x/decision"),
    ("post", "/placements/x/variations"),
    ("post", "/placements/x/end"),
    ("post", "/block-contracts"),
    ("get", "/block-contracts/x"),
    ("get", "/spend?financial_year=2025"),
    ("post", "/needs/x/block-offer/decision"),
    ("post", "/placements/x/renewal"),
    ("post", "/block-contracts/x/renewal"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_route_needs_a_token(placements: Placements, method: str, path: str) -> None:
    async with client_for(placements.runtime) as client:
        assert (await client.request(method, path, json={})).status_code == 401
    async with client_for(placements.runtime, "not-a-token") as client:
        assert (await client.request(method, path, json={})).status_code == 401


FORBIDDEN = [
    (Role.MONITORING_OFFICER, "post", "/placements/x/reviews/r/outcome"),
    (Role.MONITORING_OFFICER, "post", "/placements/x/uplifts"),
    (Role.PROVIDER, "post", "/uplifts/x/decision"),
    (Role.PROVIDER, "post", "/placements/x/variations"),
    (Role.PROVIDER, "post", "/placements/x/end"),
    (Role.MONITORING_OFFICER, "post", "/block-contracts"),
    (Role.PROVIDER, "get", "/needs"),
    (Role.PROVIDER, "get", "/spend?financial_year=2025"),
    (Role.PROVIDER, "get", "/block-contracts/x"),
    (Role.COUNCIL_SYSTEM, "get", "/placements"),
    (Role.PROVIDER, "post", "/needs/x/block-offer/decision"),
    (Role.MONITORING_OFFICER, "post", "/placements/x/renewal"),
    (Role.PROVIDER, "post", "/block-contracts/x/renewal"),
]


@pytest.mark.parametrize(("role", "method", "path"), FORBIDDEN)
async def test_wrong_role_is_403(
    placements: Placements, tokens, role: Role, method: str, path: str
) -> None:
    async with client_for(placements.runtime, tokens[role]) as client:
        assert (await client.request(method, path, json={})).status_code == 403


async def test_needs_list_and_detail(placements: Placements, tokens) -> None:
    need_id = await placements.request_need("KCC-EHC-000100")
    await placements.request_need("KCC-EHC-000101")
    officer = tokens[Role.MONITORING_OFFICER]
    page = (await _get(placements, officer, "/needs", limit=1)).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    filtered = (await _get(placements, officer, "/needs", child_ref="KCC-EHC-000100")).json()
    assert [n["need_id"] for n in filtered["items"]] == [need_id]
    detail = await _get(placements, officer, f"/needs/{need_id}")
    assert detail.status_code == 200 and detail.json()["status"] == "with_procurement"
    assert (await _get(placements, officer, "/needs/nope")).status_code == 404


async def test_a_monitoring_officer_sees_no_date_of_birth_or_secondary_needs(
    placements: Placements, tokens
) -> None:
    need_id = await placements.request_need("KCC-EHC-000110")
    commissioner, officer = tokens[Role.COMMISSIONER], tokens[Role.MONITORING_OFFICER]
    full = (await _get(placements, commissioner, f"/needs/{need_id}")).json()
    assert full["date_of_birth"] == "2014-05-01" and full["secondary_needs"] == ["SLCN"]
    for view in [
        (await _get(placements, officer, f"/needs/{need_id}")).json(),
        (await _get(placements, officer, "/needs")).json()["items"][0],
    ]:
        assert view["need_id"] == need_id and view["primary_need"] == full["primary_need"]
        assert "date_of_birth" not in view and "secondary_needs" not in view


async def test_another_providers_placement_is_not_found_for_an_uplift(
    placements: Placements, tokens
) -> None:
    theirs = await placements.active_placement("KCC-EHC-000111", provider_id="p-2")
    body = {"requested_percent": "1", "effective_from": (today() + timedelta(days=10)).isoformat()}
    path = f"/placements/{theirs.placement_id}/uplifts"
    response = await _post(placements, tokens[Role.PROVIDER], path, body)  # p-1
    assert response.status_code == 404, response.text
    assert await placements.count(UpliftRow) == 0


async def test_placements_list_filters_and_provider_scope(placements: Placements, tokens) -> None:
    mine = await placements.active_placement("KCC-EHC-000102", provider_id="p-1")
    other = await placements.active_placement(
        "KCC-EHC-000103", provider_id="p-2", review_in_days=300
    )
    commissioner = tokens[Role.COMMISSIONER]
    everything = (await _get(placements, commissioner, "/placements")).json()
    assert everything["total"] == 2
    by_provider = (await _get(placements, commissioner, "/placements", provider_id="p-2")).json()
    assert [p["placement_id"] for p in by_provider["items"]] == [other.placement_id]
    due_soon = await _get(
        placements,
        commissioner,
        "/placements",
        review_due_before=(today() + timedelta(days=100)).isoformat(),
    )
    assert [p["placement_id"] for p in due_soon.json()["items"]] == [mine.placement_id]
    by_status = (await _get(placements, commissioner, "/placements", status="pending")).json()
    assert by_status["total"] == 0
    paged = (await _get(placements, commissioner, "/placements", limit=1, offset=1)).json()
    assert len(paged["items"]) == 1 and paged["total"] == 2
    bad = await _get(placements, commissioner, "/placements", status="lost")
    assert bad.status_code == 422

    provider = tokens[Role.PROVIDER]  # provider_id p-1
    own = (await _get(placements, provider, "/placements", provider_id="p-2")).json()
    assert [p["placement_id"] for p in own["items"]] == [mine.placement_id]
    assert (
        await _get(placements, provider, f"/placements/{other.placement_id}")
    ).status_code == 404
    detail = (await _get(placements, provider, f"/placements/{mine.placement_id}")).json()
    assert detail["fee"]["weekly_total"] == "1700.00"
    assert [f["kind"] for f in detail["fee_history"]] == ["award"]
    assert [s["to_status"] for s in detail["status_history"]] == ["pending", "active"]
    assert "placement.contract.created" in {e["type"] for e in detail["events"]}
    assert (await _get(placements, commissioner, "/placements/nope")).status_code == 404


async def test_review_outcome_rules(placements: Placements, tokens) -> None:
    due_soon = await placements.active_placement("KCC-EHC-000104", review_in_days=20)
    far = await placements.active_placement("KCC-EHC-000105", review_in_days=200)
    token = tokens[Role.COMMISSIONER]
    far_review = f"{far.placement_id}-R1"
    not_due = await _post(
        placements,
        token,
        f"/placements/{far.placement_id}/reviews/{far_review}/outcome",
        {"outcome": "continue"},
    )
    assert not_due.status_code == 422 and rules(not_due) == {"review_not_due"}
    unknown = await _post(
        placements,
        token,
        f"/placements/{far.placement_id}/reviews/nope/outcome",
        {"outcome": "continue"},
    )
    assert unknown.status_code == 404
    bad_outcome = await _post(
        placements,
        token,
        f"/placements/{far.placement_id}/reviews/{far_review}/outcome",
        {"outcome": "maybe"},
    )
    assert bad_outcome.status_code == 422

    path = f"/placements/{due_soon.placement_id}/reviews/{due_soon.placement_id}-R1/outcome"
    done = await _post(placements, token, path, {"outcome": "continue"})
    assert done.status_code == 200, done.text
    again = await _post(placements, token, path, {"outcome": "continue"})
    assert again.status_code == 422 and rules(again) == {"review_already_completed"}
    assert len(await placements.events("placement.review.completed")) == 1
    detail = (await _get(placements, token, f"/placements/{due_soon.placement_id}")).json()
    assert [r["outcome"] for r in detail["reviews"]] == ["continue", None]  # next one scheduled


async def test_uplift_request_and_decision(placements: Placements, tokens) -> None:
    row = await placements.active_placement("KCC-EHC-000106", provider_id="p-1")
    provider = tokens[Role.PROVIDER]
    path = f"/placements/{row.placement_id}/uplifts"
    effective = (today() + timedelta(days=10)).isoformat()
    above_cap = await _post(
        placements, provider, path, {"requested_percent": "5", "effective_from": effective}
    )
    assert above_cap.status_code == 422 and rules(above_cap) == {"reason_required_above_cap"}
    absurd = await _post(
        placements,
        provider,
        path,
        {"requested_percent": "80", "effective_from": effective, "reason": "x"},
    )
    assert absurd.status_code == 422 and rules(absurd) == {"above_limit"}
    negative = await _post(
        placements, provider, path, {"requested_percent": "-1", "effective_from": effective}
    )
    assert negative.status_code == 422
    early = await _post(
        placements,
        provider,
        path,
        {"requested_percent": "2", "effective_from": (today() - timedelta(days=5)).isoformat()},
    )
    assert early.status_code == 422 and rules(early) == {"before_start"}
    assert await placements.count(UpliftRow) == 0

    other = await placements.active_placement("KCC-EHC-000107", provider_id="p-2")
    foreign = await _post(
        placements,
        provider,
        f"/placements/{other.placement_id}/uplifts",
        {"requested_percent": "2", "effective_from": effective},
    )
    assert foreign.status_code == 404

    made = await _post(
        placements,
        provider,
        path,
        {"requested_percent": "5", "effective_from": effective, "reason": "staff costs"},
    )
    assert made.status_code == 201 and made.json()["above_cap"] is True
    uplift_id = made.json()["uplift_id"]
    commissioner = tokens[Role.COMMISSIONER]
    decide = f"/uplifts/{uplift_id}/decision"
    too_much = await _post(
        placements, commissioner, decide, {"decision": "approved", "approved_percent": "6"}
    )
    assert too_much.status_code == 422 and rules(too_much) == {"above_requested"}
    approved = await _post(
        placements, commissioner, decide, {"decision": "approved", "approved_percent": "4"}
    )
    assert approved.status_code == 200, approved.text
    twice = await _post(placements, commissioner, decide, {"decision": "rejected", "reason": "no"})
    assert twice.status_code == 409
    assert (
        await _post(placements, commissioner, "/uplifts/nope/decision", {"decision": "approved"})
    ).status_code == 404

    # 1% on top of the approved 4% within 12 months is above the cumulative cap: a reason.
    second = await _post(
        placements,
        provider,
        path,
        {"requested_percent": "1", "effective_from": effective, "reason": "second step"},
    )
    no_reason = await _post(
        placements,
        commissioner,
        f"/uplifts/{second.json()['uplift_id']}/decision",
        {"decision": "rejected"},
    )
    assert no_reason.status_code == 422 and rules(no_reason) == {"required"}
    detail = (await _get(placements, commissioner, f"/placements/{row.placement_id}")).json()
    uplift_fee = [f for f in detail["fee_history"] if f["kind"] == "uplift"]
    assert len(uplift_fee) == 1 and uplift_fee[0]["uplift_percent"] in ("4", "4.0000", 4)


async def test_variations(placements: Placements, tokens) -> None:
    row = await placements.active_placement("KCC-EHC-000108")
    token = tokens[Role.COMMISSIONER]
    path = f"/placements/{row.placement_id}/variations"
    effective = (today() + timedelta(days=7)).isoformat()
    negative = await _post(
        placements,
        token,
        path,
        {"effective_from": effective, "weekly_core_fee": "-5", "reason": "x"},
    )
    assert negative.status_code == 422 and rules(negative) == {"negative_amount"}
    absurd = await _post(
        placements,
        token,
        path,
        {"effective_from": effective, "weekly_core_fee": "50000", "reason": "x"},
    )
    assert absurd.status_code == 422 and rules(absurd) == {"above_limit"}
    nothing = await _post(placements, token, path, {"effective_from": effective, "reason": "x"})
    assert nothing.status_code == 422 and rules(nothing) == {"nothing_to_vary"}
    varied = await _post(
        placements,
        token,
        path,
        {
            "effective_from": effective,
            "weekly_core_fee": "1600.00",
            "additional_support": [{"description": "speech therapy", "weekly_amount": "150.00"}],
            "reason": "annual review: more support",
        },
    )
    assert varied.status_code == 201, varied.text
    assert varied.json()["fee"]["weekly_total"] == "1750.00"
    assert len(await placements.events("placement.contract.varied")) == 1
    missing = await _post(
        placements,
        token,
        "/placements/nope/variations",
        {"effective_from": effective, "weekly_core_fee": "1", "reason": "x"},
    )
    assert missing.status_code == 404


async def test_ending(placements: Placements, tokens) -> None:
    row = await placements.active_placement("KCC-EHC-000109")
    token = tokens[Role.COMMISSIONER]
    path = f"/placements/{row.placement_id}/end"
    no_reason = await _post(placements, token, path, {})
    assert no_reason.status_code == 422
    notice = await _post(placements, token, path, {"reason": "moving school"})
    assert notice.status_code == 200 and notice.json()["status"] == "ending"
    assert notice.json()["end_date"] == (today() + timedelta(weeks=12)).isoformat()
    again = await _post(placements, token, path, {"reason": "again"})
    assert again.status_code == 409
    terminated = await _post(placements, token, path, {"reason": "safeguarding", "terminate": True})
    assert terminated.status_code == 200 and terminated.json()["status"] == "terminated"
    closed = await _post(placements, token, path, {"reason": "once more", "terminate": True})
    assert closed.status_code == 409 and rules(closed) == {"already_terminated"}

    need_id = await placements.request_need("KCC-EHC-000110")
    env = await placements.award(need_id)
    pending = await placements.placement_for(env.data["competition_id"])
    by_provider = await _post(
        placements,
        token,
        f"/placements/{pending.placement_id}/end",
        {"by": "provider", "reason": "no place"},
    )
    assert by_provider.json()["status"] == "terminated"


async def test_block_contracts(placements: Placements, tokens) -> None:
    token = tokens[Role.COMMISSIONER]
    body = {
        "provider_id": "p-3",
        "primary_need": "SEMH",
        "attendance": "residential_52",
        "places": 4,
        "term_start": "2026-04-01",
        "term_end": "2028-03-31",
        "weekly_fee_per_place": "3000.00",
        "competition_ref": "c-block-1",
    }
    created = await _post(placements, token, "/block-contracts", body)
    assert created.status_code == 201, created.text
    view = (
        await _get(placements, token, f"/block-contracts/{created.json()['block_contract_id']}")
    ).json()
    assert view["places"] == 4 and view["places_filled"] == 0
    duplicate = await _post(placements, token, "/block-contracts", body)
    assert duplicate.status_code == 409
    bad = await _post(
        placements, token, "/block-contracts", {**body, "competition_ref": None, "places": 0}
    )
    assert bad.status_code == 422 and rules(bad) == {"places_out_of_range"}
    backwards = await _post(
        placements,
        token,
        "/block-contracts",
        {**body, "competition_ref": None, "term_end": "2026-01-01"},
    )
    assert backwards.status_code == 422 and rules(backwards) == {"term_end_not_after_start"}
    assert (await _get(placements, token, "/block-contracts/nope")).status_code == 404


async def test_spend_by_financial_year(placements: Placements, tokens) -> None:
    await placements.active_placement("KCC-EHC-000111")
    token = tokens[Role.MONITORING_OFFICER]
    fy = today().year if today().month >= 4 else today().year - 1
    spend = (await _get(placements, token, "/spend", financial_year=fy)).json()
    assert spend["label"].startswith(str(fy))
    assert spend["on_contract_share_percent"] == "100.00"
    assert set(spend["by_need_type"]) == {"ASD"}
    assert spend["by_provider"].keys() == {"p-1"}
    assert (await _get(placements, token, "/spend")).status_code == 422
    empty = (await _get(placements, token, "/spend", financial_year=2001)).json()
    assert empty["total"] == "0.00" and empty["on_contract_share_percent"] is None


async def test_refused_writes_leave_nothing_behind(placements: Placements, tokens) -> None:
    row = await placements.active_placement("KCC-EHC-000112")
    before = await placements.count(OutboxMessage)
    token = tokens[Role.COMMISSIONER]
    await _post(
        placements,
        token,
        f"/placements/{row.placement_id}/variations",
        {"effective_from": today().isoformat(), "weekly_core_fee": "-1", "reason": "x"},
    )
    await _post(
        placements,
        token,
        f"/placements/{row.placement_id}/uplifts",
        {"requested_percent": "9", "effective_from": today().isoformat()},
    )
    assert await placements.count(OutboxMessage) == before
    assert await placements.count(PlacementRow) == 1
