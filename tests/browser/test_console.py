"""The console in a real browser (Debian's Chromium driven by Playwright) against the
real stack (`dps up`'s processes: Tansu, Temporal, the four services and the console):
a commissioner decides applications, a monitoring officer acknowledges an alert, axe-core
finds no accessibility violation on any page, and the same forms work without JavaScript.

Chromium comes from Debian (`apt-get install chromium`; .ci/run installs it); Playwright
never downloads a browser here."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from dps import processes
from dps.stack import Stack, StackPlan
from shared.contracts.common import Role
from shared.settings import SERVICES
from tests.conftest import TEST_SECRET
from tests.e2e.steps import ok, token, wait_for
from tests.fixtures import provider_body

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed (apt-get install -y chromium; CI does)",
    ),
]


@dataclass
class Seeded:
    console: str
    stack: Stack
    applications: list[str]
    alert_id: str


def _client(stack: Stack, service: str, role_token: str) -> Any:
    import httpx

    port = stack.plan.service_ports[service]
    return httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {role_token}"},
        timeout=15,
    )


def _seed(stack: Stack) -> tuple[list[str], str]:
    """Through the public APIs only: three active providers each asking to join an open
    scheme, and an inadequate inspection of the first (a critical alert)."""
    commissioner = token(Role.COMMISSIONER)
    registry = _client(stack, "provider_registry", commissioner)
    procurement = _client(stack, "procurement", commissioner)
    today = date.today()
    scheme = ok(
        procurement.post(
            "/schemes",
            json={
                "reference": f"BROWSER-{uuid.uuid4().hex[:6]}",
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
            },
        ),
        201,
    )
    applications = []
    providers = []
    for i in range(3):
        body = provider_body(urn=600100 + i, name=f"Browser School {i}")
        provider_id = ok(registry.post("/providers", json=body), 201)["provider_id"]
        ok(
            registry.post(
                f"/providers/{provider_id}/status",
                json={"status": "active", "reason": "checks complete"},
            )
        )
        providers.append(provider_id)
        as_provider = _client(stack, "procurement", token(Role.PROVIDER, provider_id))

        def applied(client: Any = as_provider) -> Any:
            answer = client.post(
                f"/schemes/{scheme['scheme_id']}/applications",
                json={"requested_categories": ["ASD-day"]},
            )
            return answer.json() if answer.status_code == 201 else None

        applications.append(wait_for(applied)["application_id"])
    ok(
        registry.post(
            f"/providers/{providers[0]}/inspections",
            json={"inspected_on": str(today), "overall": "inadequate"},
        ),
        201,
    )
    monitoring = _client(stack, "monitoring", token(Role.MONITORING_OFFICER))
    alert = wait_for(
        lambda: monitoring.get(
            "/alerts", params={"status": "open", "provider_id": providers[0]}
        ).json()
    )[0]
    return applications, str(alert["alert_id"])


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    plan = StackPlan(
        data_dir=tmp_path_factory.mktemp("browser-stack"),
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
        applications, alert_id = _seed(stack)
        yield Seeded(f"http://127.0.0.1:{plan.console_port}", stack, applications, alert_id)
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


def no_violations(page: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Error

    # A click may return before the page it opens has replaced this one; axe run in
    # between fails on a document that is going away ("reading 'documentElement'" of
    # null, seen on a loaded machine). Wait for the load, and run again if it moved on.
    for attempt in range(3):
        page.wait_for_load_state()
        try:
            results = Axe().run(page)
            break
        except Error:
            if attempt == 2:
                raise
            page.wait_for_timeout(200)
    assert results.violations_count == 0, f"{page.url}:\n{results.generate_report()}"


def settled(page: Any) -> None:
    """Wait until the page has stopped checking for an awaited change (services/console/
    updating.py): its script moves the page itself, and would abort a navigation the test
    starts meanwhile (net::ERR_ABORTED) when the events are slow, as on a loaded machine."""
    from playwright.sync_api import expect

    expect(page.locator("[data-updating-next]")).to_have_count(0, timeout=60_000)


def sign_in(page: Any, console: str, who: str, *, check: bool = True) -> None:
    page.goto(f"{console}/sign-in")
    if check:
        no_violations(page)
    page.get_by_label(who).check()
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_a_commissioner_and_a_monitoring_officer_work_in_the_browser(
    seeded: Seeded, browser: Any
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    sign_in(page, seeded.console, "Demo commissioner")
    expect(page.get_by_role("heading", name="What needs action today")).to_be_visible()
    no_violations(page)

    first = seeded.applications[0]
    page.locator(f'a[href="/applications/{first}"]').first.click()
    no_violations(page)
    # Refusing without a reason: the error summary names the field, and links to it.
    page.get_by_label("Refuse").check()
    page.get_by_role("button", name="Record decision").click()
    summary = page.locator(".govuk-error-summary")
    assert "Enter the reason for refusing" in summary.inner_text()
    assert summary.get_by_role("link").get_attribute("href") == "#reason"
    no_violations(page)
    page.get_by_label("Admit to the DPS").check()
    page.get_by_role("button", name="Record decision").click()
    assert "The decision was recorded." in page.locator(".govuk-notification-banner").inner_text()
    no_violations(page)
    if shots := __import__("os").environ.get("DPS_CONSOLE_SCREENSHOTS"):
        page.goto(seeded.console + "/")
        page.screenshot(path=f"{shots}/home.png", full_page=True)
        page.goto(f"{seeded.console}/applications/{first}")
    procurement = _client(seeded.stack, "procurement", token(Role.COMMISSIONER))
    assert ok(procurement.get(f"/applications/{first}"))["decision"]["outcome"] == "admitted"

    for path in ("/applications", "/providers", "/alerts", "/accessibility"):
        page.goto(seeded.console + path)
        no_violations(page)

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, seeded.console, "Demo monitoring officer", check=False)
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    page.locator(f'a[href="/alerts/{seeded.alert_id}"]').click()
    no_violations(page)
    page.get_by_role("button", name="Acknowledge alert").click()
    # expect() waits for the page the form posts to (inner_text() would read the old one).
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "The alert was acknowledged."
    )
    no_violations(page)
    monitoring = _client(seeded.stack, "monitoring", token(Role.MONITORING_OFFICER))
    assert ok(monitoring.get(f"/alerts/{seeded.alert_id}"))["status"] == "acknowledged"

    # The resolve form with the keyboard only: Tab to the field, type, Tab to the button.
    tab_to(page, "outcome")
    page.keyboard.type("Improvement plan agreed; visit booked")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Resolve alert"
    # A key press does not wait for the page it submits to load (a click does).
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The alert was resolved.")
    resolved = ok(monitoring.get(f"/alerts/{seeded.alert_id}"))
    assert (resolved["status"], resolved["outcome"]) == (
        "resolved",
        "Improvement plan agreed; visit booked",
    )
    page.close()


def tab_to(page: Any, element_id: str, most: int = 60) -> None:
    page.locator("body").focus()
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with the Tab key")


def test_the_decision_form_works_without_javascript(seeded: Seeded, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, seeded.console, "Demo commissioner", check=False)
    second = seeded.applications[1]
    page.goto(f"{seeded.console}/applications/{second}")
    page.get_by_label("Refuse").check()
    page.get_by_label("Reason").fill("Safeguarding policy out of date")
    page.get_by_role("button", name="Record decision").click()
    assert "The decision was recorded." in page.locator(".govuk-notification-banner").inner_text()
    procurement = _client(seeded.stack, "procurement", token(Role.COMMISSIONER))
    decision = ok(procurement.get(f"/applications/{second}"))["decision"]
    assert decision["outcome"] == "rejected"
    assert decision["refused_categories"][0]["reason"] == "Safeguarding policy out of date"
    context.close()
