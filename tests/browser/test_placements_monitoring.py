"""A monitoring officer's day and a commissioner's uplift decision in a real browser
(Debian's Chromium driven by Playwright) on the real stack: an inadequate inspection
recorded in the register raises a critical alert that the officer acknowledges and
resolves, the officer records a visit with the keyboard only, and the commissioner
decides a provider's uplift on the placement's page. axe-core finds no violation on any
of the new pages (placements, a placement, spend, the provider's monitoring page, the
market dashboard)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from dps import processes
from dps.stack import Stack, StackPlan
from shared.contracts.common import Role
from shared.settings import SERVICES
from tests.browser.test_console import CHROMIUM, _client, browser, no_violations, sign_in
from tests.conftest import TEST_SECRET
from tests.e2e.steps import ok, token, wait_for
from tests.fixtures import provider_body

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared from test_console
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed (apt-get install -y chromium; CI does)",
    ),
]


@dataclass
class Day:
    console: str
    stack: Stack
    provider_id: str
    alert_id: str
    placement_id: str
    uplift_id: str


def _seed(stack: Stack) -> tuple[str, str, str, str]:
    """Through the public APIs only: an active provider with a placement there, the
    provider's request for an uplift, and the provider's inadequate inspection."""
    commissioner = token(Role.COMMISSIONER)
    registry = _client(stack, "provider_registry", commissioner)
    today = date.today()
    body = provider_body(urn=600900, name="Hillside School")
    provider_id = ok(registry.post("/providers", json=body), 201)["provider_id"]
    ok(
        registry.post(
            f"/providers/{provider_id}/status", json={"status": "active", "reason": "checks"}
        )
    )
    placements = _client(stack, "placements", commissioner)
    imported = ok(
        placements.post(
            "/placements/import",
            json={
                "import_key": f"browser-{uuid.uuid4().hex[:8]}",
                "placements": [
                    {
                        "child_ref": "KCC-EHC-009001",
                        "provider_id": provider_id,
                        "primary_need": "ASD",
                        "attendance": "day",
                        "start_date": str(today - timedelta(days=60)),
                        "weekly_core_fee": "1500.00",
                        "weeks_per_year": 38,
                        "next_review_due": str(today + timedelta(days=90)),
                    }
                ],
            },
        ),
        201,
    )
    placement_id = imported["placement_ids"][0]
    as_provider = _client(stack, "placements", token(Role.PROVIDER, provider_id))
    uplift = ok(
        as_provider.post(
            f"/placements/{placement_id}/uplifts",
            json={
                "requested_percent": "2",
                "effective_from": str(today + timedelta(days=14)),
                "reason": "Staff pay award",
            },
        ),
        201,
    )
    ok(
        registry.post(
            f"/providers/{provider_id}/inspections",
            json={"inspected_on": str(today), "overall": "inadequate"},
        ),
        201,
    )
    monitoring = _client(stack, "monitoring", token(Role.MONITORING_OFFICER))
    alert = wait_for(lambda: monitoring.get("/alerts", params={"provider_id": provider_id}).json())[
        0
    ]
    return provider_id, str(alert["alert_id"]), placement_id, str(uplift["uplift_id"])


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    plan = StackPlan(
        data_dir=tmp_path_factory.mktemp("browser-day"),
        kafka_port=processes.free_port(),
        temporal_port=processes.free_port(),
        temporal_ui_port=processes.free_port(),
        service_ports={name: processes.free_port() for name in SERVICES},
        headless_temporal=True,
        console_port=processes.free_port(),
        extra_env={"DPS_JWT_SECRET": TEST_SECRET, "DPS_CONSUMER_SESSION_TIMEOUT_MS": "2000"},
    )
    stack = Stack(plan)
    try:
        stack.start()
        seeded = _seed(stack)
        yield Day(f"http://127.0.0.1:{plan.console_port}", stack, *seeded)
    finally:
        stack.stop()


def banner(page: Any) -> str:
    return str(page.locator(".govuk-notification-banner").inner_text())


def tab_to(page: Any, element_id: str, most: int = 200) -> None:
    page.locator("body").focus()
    seen = []
    for _ in range(most):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
        if seen[-1] == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with the Tab key: {seen[:80]}")


def test_a_monitoring_officers_day(day: Day, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    sign_in(page, day.console, "Demo monitoring officer", check=False)
    page.goto(f"{day.console}/alerts?severity=critical&provider_id={day.provider_id}")
    no_violations(page)
    page.locator(f'a[href="/alerts/{day.alert_id}"]').click()
    expect(page.get_by_text("Escalates")).to_be_visible()
    page.get_by_role("button", name="Acknowledge alert").click()
    assert "The alert was acknowledged." in banner(page)
    page.get_by_label("What was done").fill("Improvement plan agreed with the proprietor")
    page.get_by_role("button", name="Resolve alert").click()
    assert "The alert was resolved." in banner(page)
    monitoring = _client(day.stack, "monitoring", token(Role.MONITORING_OFFICER))
    assert ok(monitoring.get(f"/alerts/{day.alert_id}"))["status"] == "resolved"

    page.goto(f"{day.console}/market")
    no_violations(page)
    page.goto(f"{day.console}/providers/{day.provider_id}/monitoring")
    expect(page.get_by_role("heading", name="Hillside School")).to_be_visible()
    no_violations(page)
    # The visit form with the keyboard only (the date is today's by default).
    tab_to(page, "rating")
    page.keyboard.press("Space")  # 1 Outstanding
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # 3 Requires improvement
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "findings"
    page.keyboard.type("Behaviour plans now in place")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Record visit"
    page.keyboard.press("Enter")
    assert "The visit was recorded." in banner(page)
    no_violations(page)
    visits = ok(monitoring.get(f"/providers/{day.provider_id}/file"))["visits"]
    assert [(v["rating"], v["findings"]) for v in visits] == [(3, "Behaviour plans now in place")]
    page.goto(f"{day.console}/placements")
    no_violations(page)
    page.close()


def test_a_commissioner_decides_an_uplift(day: Day, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    sign_in(page, day.console, "Demo commissioner", check=False)
    page.goto(f"{day.console}/placements?provider_id={day.provider_id}")
    no_violations(page)
    page.locator(f'a[href="/placements/{day.placement_id}"]').click()
    no_violations(page)
    # Rejecting without a reason: placements' rule, shown against the field.
    page.get_by_label("Reject", exact=True).check()
    page.get_by_role("button", name="Record uplift decision").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()  # waits for the answer
    no_violations(page)
    page.get_by_label("Approve", exact=True).check()
    page.get_by_label("Reason", exact=True).fill("Within the annual cap")
    page.get_by_role("button", name="Record uplift decision").click()
    assert "The uplift decision was recorded." in banner(page)
    no_violations(page)
    placements = _client(day.stack, "placements", token(Role.COMMISSIONER))
    found = ok(placements.get(f"/placements/{day.placement_id}"))
    [uplift] = found["uplifts"]
    assert (uplift["uplift_id"], uplift["decision"]) == (day.uplift_id, "approved")
    page.goto(f"{day.console}/spend")
    no_violations(page)
    page.close()
