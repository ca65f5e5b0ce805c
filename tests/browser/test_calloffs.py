"""A call-off in a real browser (Debian's Chromium, Playwright) on the real stack with
Temporal time skipping: the deadline passes, a commissioner scores both bids on their
score sheets and ranks them, is refused approving the award they scored (the service's
409 approver_scored_bid as an error summary), and a second commissioner approves it.
axe-core finds no accessibility violation on each call-off page."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from dps import processes
from dps.stack import Stack, StackPlan
from shared.contracts.common import Role
from shared.settings import SERVICES
from tests.browser.test_console import (
    CHROMIUM,
    _client,
    browser,
    no_violations,
    settled,
    sign_in,
)
from tests.conftest import TEST_SECRET
from tests.e2e.steps import ok, token, wait_for
from tests.fixtures import provider_body

__all__ = ["browser"]  # the shared Chromium fixture
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


@dataclass
class CallOff:
    console: str
    stack: Stack
    competition_id: str


def _seed(stack: Stack) -> str:
    """Through the public APIs: two active members of a scheme with a quality question,
    a call-off, a bid from each; then its clock is moved past the deadline."""
    commissioner = token(Role.COMMISSIONER)
    registry = _client(stack, "provider_registry", commissioner)
    procurement = _client(stack, "procurement", commissioner)
    today = date.today()
    scheme = ok(
        procurement.post(
            "/schemes",
            json={
                "reference": f"CALLOFF-{uuid.uuid4().hex[:6]}",
                "title": "NMISS placements DPS",
                "regime": "pcr2015_light_touch",
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
                "award_criteria": {
                    "quality_weight": 60,
                    "price_weight": 40,
                    "quality_questions": [
                        {
                            "question_id": "fit",
                            "text": "Fit to the need",
                            "max_score": 10,
                            "weight": 1,
                        }
                    ],
                },
            },
        ),
        201,
    )
    providers = []
    for i in range(2):
        body = provider_body(urn=600200 + i, name=f"Call-off School {i}")
        provider_id = ok(registry.post("/providers", json=body), 201)["provider_id"]
        ok(
            registry.post(
                f"/providers/{provider_id}/status",
                json={"status": "active", "reason": "checks complete"},
            )
        )
        as_provider = _client(stack, "procurement", token(Role.PROVIDER, provider_id))

        def applied(client: Any = as_provider) -> Any:
            answer = client.post(
                f"/schemes/{scheme['scheme_id']}/applications",
                json={"requested_categories": ["ASD-day"]},
            )
            return answer.json() if answer.status_code == 201 else None

        application = wait_for(applied)
        ok(procurement.post(f"/applications/{application['application_id']}/decision", json={}))
        providers.append((provider_id, as_provider))
    competition = ok(
        procurement.post(
            "/competitions",
            json={
                "scheme_id": scheme["scheme_id"],
                "category_code": "ASD-day",
                "kind": "individual",
                "title": "Day placement, autism, age 10",
                "need_ref": f"need-{uuid.uuid4().hex[:6]}",
                "filter": {"need_type": "ASD", "attendance": "day"},
                "deadline_at": (datetime.now(UTC) + timedelta(days=10, minutes=5)).isoformat(),
            },
        ),
        201,
    )
    competition_id = str(competition["competition_id"])
    for (_, as_provider), fee in zip(providers, ("1800.00", "1500.00"), strict=True):
        offer = {
            "fee_basis": "weekly",
            "core_fee": fee,
            "weeks_per_year": 38,
            "start_date": str(today + timedelta(days=30)),
            "answers": {"fit": "Small classes with speech and language therapy on site"},
        }
        ok(as_provider.post(f"/competitions/{competition_id}/bids", json=offer), 201)
    asyncio.run(_pass_deadline(stack, competition_id))
    wait_for(
        lambda: procurement.get(f"/competitions/{competition_id}").json()["status"] == "evaluation"
    )
    return competition_id


async def _pass_deadline(stack: Stack, competition_id: str) -> None:
    """Move the call-off's workflow clock past its deadline (Temporal time skipping)."""
    from temporalio.client import Client
    from temporalio.testing._timeskipping import TimeSkipper

    client = await Client.connect(stack.plan.temporal_address)
    handle = client.get_workflow_handle(f"competition-{competition_id}")
    await TimeSkipper(client).fast_forward(handle, timedelta(days=11))


@pytest.fixture(scope="module")
def call_off(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CallOff]:
    plan = StackPlan(
        data_dir=tmp_path_factory.mktemp("calloff-stack"),
        kafka_port=processes.free_port(),
        temporal_port=processes.free_port(),
        temporal_ui_port=processes.free_port(),
        service_ports={name: processes.free_port() for name in SERVICES},
        headless_temporal=True,
        time_skipping=True,
        console_port=processes.free_port(),
        extra_env={"DPS_JWT_SECRET": TEST_SECRET, "DPS_CONSUMER_SESSION_TIMEOUT_MS": "2000"},
    )
    stack = Stack(plan)
    try:
        stack.start()
        competition_id = _seed(stack)
        yield CallOff(f"http://127.0.0.1:{plan.console_port}", stack, competition_id)
    finally:
        stack.stop()


def test_a_commissioner_scores_and_ranks_and_another_approves(
    call_off: CallOff, browser: Any
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    sign_in(page, call_off.console, "Demo commissioner", check=False)
    page.goto(f"{call_off.console}/call-offs?stage=evaluation")
    no_violations(page)
    page.get_by_role("link", name="Day placement, autism, age 10").click()
    expect(page.get_by_role("heading", name="The need")).to_be_visible()
    no_violations(page)

    forms = page.locator('form[action*="/scores"]')
    assert forms.count() == 2
    for i, score in enumerate(("8", "6")):
        form = page.locator('form[action*="/scores"]').nth(i)
        form.get_by_label("Fit to the need (0 to 10)").fill(score)
        form.get_by_role("button", name="Save scores").click()
        assert (
            "Your scores were recorded." in page.locator(".govuk-notification-banner").inner_text()
        )
    no_violations(page)
    page.get_by_role("button", name="Rank the bids").click()
    assert "The bids were ranked." in page.locator(".govuk-notification-banner").inner_text()
    expect(page.get_by_role("heading", name="Ranking")).to_be_visible()
    no_violations(page)

    # Who scored may not approve: the service's 409 is the page's error summary.
    page.get_by_role("button", name="Approve award").click()
    summary = page.locator(".govuk-error-summary")
    assert "another commissioner must approve its award" in summary.inner_text()
    no_violations(page)

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, call_off.console, "Demo approving commissioner", check=False)
    page.goto(f"{call_off.console}/call-offs/{call_off.competition_id}")
    page.get_by_role("button", name="Approve award").click()
    assert (
        "The award was approved."
        in page.locator(".govuk-notification-banner--success").inner_text()
    )
    settled(page)
    no_violations(page)
    procurement = _client(call_off.stack, "procurement", token(Role.COMMISSIONER))
    found = ok(procurement.get(f"/competitions/{call_off.competition_id}"))
    assert found["status"] == "awarded"
    assert found["award"]["provider_id"] == found["evaluation"]["ranking"][0]["provider_id"]
    page.goto(f"{call_off.console}/call-offs?stage=awarded")
    no_violations(page)
    page.goto(f"{call_off.console}/schemes")
    no_violations(page)
    page.get_by_role("link", name="NMISS placements DPS").click()
    expect(page.get_by_role("heading", name="Members by lot")).to_be_visible()
    no_violations(page)
    page.close()
