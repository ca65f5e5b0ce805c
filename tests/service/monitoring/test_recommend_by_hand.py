"""A monitoring officer recommends suspension by hand (published like the rules' one, for
the commissioner to decide at the register), and a provider reads the KPI returns it owes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from services.monitoring.models import Recommendation
from shared.auth import issue_token
from shared.contracts import providers_v1, quality_v1
from shared.contracts.common import Role
from shared.infra_models import AuditEntry
from tests.conftest import TEST_SECRET
from tests.harness import client_for
from tests.service.monitoring import events
from tests.service.monitoring.conftest import Monitoring
from tests.service.monitoring.test_api import kpi_body, seed

EVENT = quality_v1.SuspensionRecommended.TYPE
PATH = "/providers/p-1/suspension-recommendations"
BODY = {"grounds": ["safeguarding", "performance"], "reason": "Repeated restraint unrecorded."}


async def test_officer_recommends_by_hand_and_it_is_published(
    monitoring: Monitoring, tokens
) -> None:
    await seed(monitoring)
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        grounds = (await client.get("/suspension-grounds")).json()
        response = await client.post(PATH, json=BODY)
        again = await client.post(PATH, json=BODY)
        listed = (await client.get(PATH)).json()
    assert {g["code"] for g in grounds} >= {"safeguarding", "performance"}
    assert all(g["source"] for g in grounds)  # each ground cites its legal source
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["raised_by"] == "dev-monitoring_officer"
    assert made["grounds"] == ["safeguarding", "performance"]
    assert made["reasons"][-1] == "Repeated restraint unrecorded."
    # One open recommendation per provider: the commissioner is not asked twice.
    assert again.status_code == 409 and again.json()["detail"][0]["field"] == "status"
    assert [r["recommendation_id"] for r in listed] == [made["recommendation_id"]]
    [message] = await monitoring.outbox(EVENT)
    assert message.key == "p-1"
    payload = quality_v1.SuspensionRecommended.model_validate(json.loads(message.payload)["data"])
    assert payload.raised_by == made["raised_by"]
    assert payload.grounds == ["safeguarding", "performance"]
    assert await monitoring.count(Recommendation) == 1
    assert await monitoring.count(AuditEntry, AuditEntry.action == "suspension.recommended_by_hand")


async def test_recommendation_by_hand_refusals(monitoring: Monitoring, tokens) -> None:
    await seed(monitoring)
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        no_grounds = await client.post(PATH, json={"grounds": [], "reason": "x"})
        unknown = await client.post(PATH, json={"grounds": ["vibes"], "reason": "x"})
        blank = await client.post(PATH, json={"grounds": ["safeguarding"], "reason": "  "})
        named = await client.post(
            PATH, json={"grounds": ["safeguarding"], "reason": "Child's name: Jo Bloggs"}
        )
        missing = await client.post("/providers/p-404/suspension-recommendations", json=BODY)
    for refused, field in ((no_grounds, "grounds"), (unknown, "grounds"), (blank, "reason")):
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["field"].endswith(field)
    assert named.status_code == 422 and "child" in named.text
    assert missing.status_code == 404
    assert await monitoring.outbox(EVENT) == []
    # Only a monitoring officer raises one: the commissioner decides it, a provider never.
    for role in (Role.COMMISSIONER, Role.PROVIDER, Role.COUNCIL_SYSTEM):
        async with client_for(monitoring.runtime, tokens[role]) as client:
            assert (await client.post(PATH, json=BODY)).status_code == 403


async def test_provider_reads_the_kpi_returns_it_owes_and_only_its_own(
    monitoring: Monitoring, tokens
) -> None:
    await seed(monitoring)
    await monitoring.feed(providers_v1.TOPIC, events.registered("p-1"))
    async with client_for(monitoring.runtime, tokens[Role.PROVIDER]) as provider:
        before = await provider.get(
            "/providers/p-1/kpi-returns/due", params={"term": "2025-autumn"}
        )
        sent = await provider.post("/kpi-returns", json=kpi_body("pl-1"))
        after = await provider.get("/providers/p-1/kpi-returns/due", params={"term": "2025-autumn"})
        default = await provider.get("/providers/p-1/kpi-returns/due")
        other = await provider.get("/providers/p-2/kpi-returns/due")
        others_placement = await provider.post("/kpi-returns", json=kpi_body("pl-2"))
        bad_term = await provider.get("/providers/p-1/kpi-returns/due", params={"term": "soon"})
    assert before.status_code == 200, before.text
    assert [(o["placement_id"], o["state"]) for o in before.json()] == [("pl-1", "overdue")]
    assert sent.status_code == 201, sent.text
    [owed] = after.json()
    assert (owed["state"], owed["return_id"]) == ("submitted", sent.json()["id"])
    assert len({o["term"] for o in default.json()}) == 2  # the open term and the one before
    assert "child_ref" not in before.text
    assert other.status_code == 403
    assert others_placement.status_code == 403
    assert bad_term.status_code == 422
    stranger = issue_token(TEST_SECRET, Role.PROVIDER, provider_id="p-2")
    async with client_for(monitoring.runtime, stranger) as client:
        assert (await client.get("/providers/p-1/kpi-returns/due")).status_code == 403


async def test_a_rejected_recommendation_closes_and_another_can_be_raised(
    monitoring: Monitoring, tokens
) -> None:
    await seed(monitoring)
    async with client_for(monitoring.runtime, tokens[Role.MONITORING_OFFICER]) as client:
        first = (await client.post(PATH, json=BODY)).json()
        rejected = providers_v1.ProviderRecommendationRejected(
            provider_id="p-1",
            recommendation_id=first["recommendation_id"],
            rejected_by="dev-commissioner",
            rejected_at=datetime(2026, 1, 9, 10, tzinfo=UTC),
            reason="Action plan agreed with the school",
        )
        await monitoring.feed(
            providers_v1.TOPIC,
            events.envelope(
                providers_v1.TOPIC, providers_v1.PROVIDER_RECOMMENDATION_REJECTED, "p-1", rejected
            ),
        )
        [closed] = (await client.get(PATH)).json()
        assert closed["status"] == "closed"
        assert closed["decision"] == "rejected: Action plan agreed with the school"
        again = await client.post(PATH, json=BODY)
    assert again.status_code == 201, again.text
    assert len(await monitoring.outbox(EVENT)) == 2
