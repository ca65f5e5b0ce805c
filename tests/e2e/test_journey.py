"""The whole journey through public contracts only (HTTP and Kafka), as a council system,
a commissioner, providers and a monitoring officer meet it, with every service its own
process: EHC placement request -> competition -> bids (one late) -> deadline ->
evaluation -> award -> active placement with its first review -> inadequate inspection
-> critical alert acknowledged and resolved -> scorecard and dashboard."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing._timeskipping import TimeSkipper

from shared.auth import issue_token
from shared.contracts.common import Role
from tests.conftest import TEST_SECRET
from tests.e2e.conftest import RunningStack
from tests.e2e.steps import ok, placement_request, send, token, wait_for
from tests.fixtures import provider_body

pytestmark = pytest.mark.e2e

CHILD = "KCC-EHC-E2E-0001"


def provider_token(provider_id: str) -> str:
    return token(Role.PROVIDER, provider_id)


def register_active_providers(stack: RunningStack, commissioner: str) -> list[str]:
    registry = stack.client("provider_registry", commissioner)
    ids = []
    for i, postcode in enumerate(["ME14 1XX", "ME15 6AA", "TN9 1PP"]):
        body = provider_body(urn=500100 + i, name=f"Journey School {i}", postcode=postcode)
        provider = ok(registry.post("/providers", json=body), 201)
        ok(
            registry.post(
                f"/providers/{provider['provider_id']}/status",
                json={"status": "active", "reason": "checks complete"},
            )
        )
        ids.append(provider["provider_id"])
    return ids


def open_scheme(stack: RunningStack, commissioner: str) -> str:
    procurement = stack.client("procurement", commissioner)
    today = date.today()
    scheme = ok(
        procurement.post(
            "/schemes",
            json={
                "reference": f"E2E-{uuid.uuid4().hex[:6]}",
                "title": "NMISS placements DPS",
                "regime": "pcr2015_light_touch",
                # a PCR 2015 DPS must predate the Procurement Act 2023 going live
                "established_on": "2024-12-02",
                "term_start": str(today - timedelta(days=30)),
                "term_end": str(today + timedelta(days=3 * 365)),
                "categories": [
                    {
                        "code": "ASD-day",
                        "name": "Autism, day",
                        "need_types": ["ASD"],
                        "attendance": ["day"],
                    }
                ],
            },
        ),
        201,
    )
    return str(scheme["scheme_id"])


def admit(stack: RunningStack, commissioner: str, scheme_id: str, provider_id: str) -> None:
    provider = stack.client("procurement", provider_token(provider_id))

    def applied() -> Any:  # procurement learns of the provider through providers.v1
        response = provider.post(
            f"/schemes/{scheme_id}/applications", json={"requested_categories": ["ASD-day"]}
        )
        return response.json() if response.status_code == 201 else None

    application = wait_for(applied)
    decision = stack.client("procurement", commissioner).post(
        f"/applications/{application['application_id']}/decision", json={}
    )
    assert ok(decision)["decision"]["outcome"] == "admitted"


async def pass_tender_deadline(stack: RunningStack, competition_id: str) -> None:
    """Move the call-off's clock past its deadline (per-workflow time skipping)."""
    client = await Client.connect(stack.plan.temporal_address)
    handle = client.get_workflow_handle(f"competition-{competition_id}")
    await TimeSkipper(client).fast_forward(handle, timedelta(days=11))


def bid(stack: RunningStack, competition_id: str, provider_id: str, fee: int) -> httpx.Response:
    return stack.client("procurement", provider_token(provider_id)).post(
        f"/competitions/{competition_id}/bids",
        json={
            "fee_basis": "weekly",
            "core_fee": str(fee),
            "weeks_per_year": 38,
            "start_date": str(date.today()),
            "answers": {"fit": "Small classes with SaLT on site"},
        },
    )


async def test_ehc_request_to_award_to_alert(running_stack: RunningStack) -> None:
    await journey(running_stack)


async def test_the_same_journey_with_every_service_on_postgresql(
    postgres_stack: RunningStack,
) -> None:
    await journey(postgres_stack)


async def journey(stack: RunningStack) -> None:
    commissioner = token(Role.COMMISSIONER)
    officer = token(Role.MONITORING_OFFICER)
    providers = register_active_providers(stack, commissioner)
    scheme_id = open_scheme(stack, commissioner)
    for provider_id in providers:
        admit(stack, commissioner, scheme_id, provider_id)

    # 1. the council's case system asks for a placement
    await send(stack.plan.kafka_bootstrap, "ehc.plans.v1", placement_request(CHILD))
    placements = stack.client("placements", commissioner)
    need = wait_for(lambda: placements.get("/needs", params={"child_ref": CHILD}).json()["items"])[
        0
    ]

    # 2. a call-off opens with every eligible member invited
    procurement = stack.client("procurement", commissioner)
    competition_id = f"need-{need['need_id']}"
    competition = wait_for(
        lambda: (
            (r := procurement.get(f"/competitions/{competition_id}")).status_code == 200
            and r.json()
        )
    )
    assert {i["provider_id"] for i in competition["invitations"]} == set(providers)

    # 3. two providers bid before the deadline; one bids after it and is refused
    ok(bid(stack, competition_id, providers[0], 4200), 201)
    ok(bid(stack, competition_id, providers[1], 3900), 201)
    await pass_tender_deadline(stack, competition_id)
    closed = wait_for(
        lambda: (
            (c := procurement.get(f"/competitions/{competition_id}").json())["status"] != "open"
            and c
        )
    )
    late = bid(stack, competition_id, providers[2], 3000)
    assert late.status_code in (409, 422), late.text

    # 4. an evaluator scores, the evaluation ranks, another commissioner approves the award
    # (who scores a call-off may not approve its award: separation of duties)
    evaluator = stack.client(
        "procurement", issue_token(TEST_SECRET, Role.COMMISSIONER, subject="evaluator")
    )
    for entry in closed["bids"]:
        ok(
            evaluator.post(
                f"/competitions/{competition_id}/bids/{entry['bid_id']}/scores",
                json={"scores": {"fit": "70"}},
            ),
            201,
        )
    ranked = ok(procurement.post(f"/competitions/{competition_id}/evaluation"))
    winner = ranked["evaluation"]["ranking"][0]["provider_id"]
    assert winner == providers[1]  # same quality, lower price
    ok(procurement.post(f"/competitions/{competition_id}/award", json={"decision": "approve"}))

    # 5. an active placement with its first review scheduled
    placement = wait_for(
        lambda: placements.get("/placements", params={"child_ref": CHILD}).json()["items"]
    )[0]
    detail = wait_for(
        lambda: (
            (p := placements.get(f"/placements/{placement['placement_id']}").json())["status"]
            == "active"
            and p
        )
    )
    assert detail["provider_id"] == winner and detail["reviews"]

    # 6. an inadequate inspection raises a critical alert the officer works to the end;
    #    the scorecard and the dashboard show it
    registry = stack.client("provider_registry", commissioner)
    ok(
        registry.post(
            f"/providers/{winner}/inspections",
            json={"inspected_on": str(date.today()), "overall": "inadequate"},
        ),
        201,
    )
    monitoring = stack.client("monitoring", officer)
    alert = wait_for(
        lambda: [
            a
            for a in monitoring.get(
                "/alerts", params={"status": "open", "severity": "critical", "provider_id": winner}
            ).json()
        ]
    )[0]
    scorecard = ok(monitoring.get(f"/providers/{winner}/scorecard"))
    assert scorecard["current_ofsted"]["judgement"] == "inadequate"
    assert scorecard["open_alerts_by_severity"].get("critical", 0) >= 1
    dashboard = ok(monitoring.get("/dashboard"))
    assert dashboard["open_alerts_by_severity"].get("critical", 0) >= 1

    ok(monitoring.post(f"/alerts/{alert['alert_id']}/acknowledge"))
    resolved = ok(
        monitoring.post(
            f"/alerts/{alert['alert_id']}/resolve",
            json={"outcome": "Improvement plan agreed; visit booked"},
        )
    )
    assert resolved["status"] == "resolved"
    after = ok(monitoring.get(f"/providers/{winner}/scorecard"))
    assert after["open_alerts_by_severity"].get("critical", 0) == (
        scorecard["open_alerts_by_severity"]["critical"] - 1
    )
