"""The provider portal in a real browser (Debian's Chromium, Playwright) against the real
stack (`dps up`'s processes): a provider signs in, sees its invitation, bids with the
keyboard only and gets its receipt; another bids, and uploads a compliance document, with
JavaScript off; axe-core finds no violation on any portal page."""

from __future__ import annotations

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
from tests.browser.test_console import CHROMIUM, _client, browser, no_violations, tab_to
from tests.conftest import TEST_SECRET
from tests.e2e.steps import ok, token, wait_for
from tests.fixtures import provider_body

__all__ = ["browser"]  # the module's Chromium, shared with the console's browser tests
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]
START = date.today() + timedelta(days=40)
QUESTION = {
    "question_id": "fit",
    "text": "How would you meet the needs?",
    "max_score": 10,
    "weight": 1,
}


@dataclass
class Portal:
    console: str
    stack: Stack
    scheme_id: str
    competition_id: str
    providers: list[str]


def _seed(stack: Stack) -> tuple[str, str, list[str]]:
    """Through the public APIs: two active providers admitted to a scheme and a call-off
    inviting both (opened by the commissioner)."""
    commissioner = token(Role.COMMISSIONER)
    registry = _client(stack, "provider_registry", commissioner)
    procurement = _client(stack, "procurement", commissioner)
    today = date.today()
    scheme_id = ok(
        procurement.post(
            "/schemes",
            json={
                "reference": f"PORTAL-{uuid.uuid4().hex[:6]}",
                "title": "NMISS placements DPS",
                "regime": "pcr2015_light_touch",
                "established_on": "2024-12-02",
                "award_criteria": {
                    "quality_weight": 60,
                    "price_weight": 40,
                    "quality_questions": [QUESTION],
                },
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
    )["scheme_id"]
    providers = []
    for i in range(2):
        body = provider_body(urn=610100 + i, name=f"Portal School {i}")
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
                f"/schemes/{scheme_id}/applications", json={"requested_categories": ["ASD-day"]}
            )
            return answer.json() if answer.status_code == 201 else None

        application = wait_for(applied)["application_id"]
        ok(procurement.post(f"/applications/{application}/decision", json={}))
        providers.append(provider_id)
    competition = ok(
        procurement.post(
            "/competitions",
            json={
                "scheme_id": scheme_id,
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
    return scheme_id, competition["competition_id"], providers


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    plan = StackPlan(
        data_dir=tmp_path_factory.mktemp("portal-stack"),
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
        scheme_id, competition_id, providers = _seed(stack)
        yield Portal(
            f"http://127.0.0.1:{plan.console_port}", stack, scheme_id, competition_id, providers
        )
    finally:
        stack.stop()


def sign_in_as(page: Any, console: str, name: str) -> None:
    page.goto(f"{console}/sign-in")
    page.get_by_label(name).check()
    page.get_by_role("button", name="Sign in", exact=True).click()


def live_bid(portal: Portal, provider_id: str) -> dict[str, Any]:
    procurement = _client(portal.stack, "procurement", token(Role.COMMISSIONER))
    bids = ok(procurement.get(f"/competitions/{portal.competition_id}"))["bids"]
    return next(b for b in bids if b["provider_id"] == provider_id and not b["superseded"])


def test_a_provider_bids_with_the_keyboard_and_gets_a_receipt(portal: Portal, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    sign_in_as(page, portal.console, "Portal School 0")
    expect(page.get_by_role("heading", name="Your organisation's home")).to_be_visible()
    no_violations(page)
    page.get_by_role("link", name="Day placement, autism, age 10").click()
    expect(page.get_by_role("button", name="Send bid")).to_be_visible()
    no_violations(page)

    # Sent empty: the error summary, itself accessible.
    page.get_by_role("button", name="Send bid").click()
    assert "Enter the core fee" in page.locator(".govuk-error-summary").inner_text()
    no_violations(page)

    # The whole form with the keyboard only.
    tab_to(page, "fee_basis")
    page.keyboard.press("Space")
    for text in (
        "1650.00",
        "38",
        str(START.day),
        str(START.month),
        str(START.year),
        "Small classes, speech and language therapy on site",
    ):
        page.keyboard.press("Tab")
        page.keyboard.type(text)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Send bid"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Bid received")).to_be_visible()
    no_violations(page)
    bid = live_bid(portal, portal.providers[0])
    assert bid["bid_id"] in page.locator(".govuk-panel").inner_text()

    for path in (
        "/portal",
        f"/portal/call-offs/{portal.competition_id}",
        "/portal/schemes",
        f"/portal/schemes/{portal.scheme_id}/apply",
        "/portal/documents",
        "/accessibility",
    ):
        page.goto(portal.console + path)
        no_violations(page)
    page.close()


def test_a_provider_bids_with_javascript_off(portal: Portal, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in_as(page, portal.console, "Portal School 1")
    page.goto(f"{portal.console}/portal/call-offs/{portal.competition_id}")
    page.get_by_label("Per year", exact=True).check()
    page.get_by_label("Core fee").fill("60000")
    page.get_by_label("Weeks per year").fill("38")
    page.get_by_label("Day", exact=True).fill(str(START.day))
    page.get_by_label("Month", exact=True).fill(str(START.month))
    page.get_by_label("Year", exact=True).fill(str(START.year))
    page.get_by_label("How would you meet the needs?").fill("A place in our autism base")
    page.get_by_role("button", name="Send bid").click()
    assert "Bid received" in page.locator("h1").inner_text()
    assert live_bid(portal, portal.providers[1])["version"] == 1
    context.close()


def test_a_provider_uploads_a_document_with_javascript_off(
    portal: Portal, browser: Any, tmp_path: Any
) -> None:
    """The document form is a plain multipart form: the file reaches the register (axe
    checks the form's page in the keyboard test above)."""
    scan = tmp_path / "insurance-2027.pdf"
    scan.write_bytes(b"%PDF-1.7\n%%EOF\n")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in_as(page, portal.console, "Portal School 1")
    page.goto(f"{portal.console}/portal/documents")
    page.get_by_label("Insurance", exact=True).check()
    page.get_by_label("Day", exact=True).fill(str(START.day))
    page.get_by_label("Month", exact=True).fill(str(START.month))
    page.get_by_label("Year", exact=True).fill(str(START.year))
    page.get_by_label("Upload the document").set_input_files(str(scan))
    page.get_by_role("button", name="Send to the council").click()
    assert "sent to the council to verify" in page.content()  # axe needs JavaScript: not here
    context.close()
    registry = _client(portal.stack, "provider_registry", token(Role.COMMISSIONER))
    kept = registry.get(f"/providers/{portal.providers[1]}/documents/insurance/file")
    assert kept.status_code == 200 and kept.content.startswith(b"%PDF-")
