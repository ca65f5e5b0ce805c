"""The whole journey of issue 15 in a real browser (Debian's Chromium, Playwright) on the
real stack with Temporal time skipping, each step where a person would take it: a new
supplier person registers a new provider in the portal, a commissioner verifies it, the
provider applies to join the DPS answering its selection questions, the commissioner
admits it with an assessment per question, a council system asks for a placement on
Kafka, the provider bids with the keyboard only, the deadline passes, a commissioner
scores and ranks, a second approves, the placement shows on both sides, and an
inadequate inspection gives the monitoring officer a critical alert to work to the end.
axe-core finds no violation on any page visited. With DPS_SCREENSHOTS=1 each main step
is saved to docs/screenshots/journey-NN-what.png for the README."""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from dps import processes
from dps.stack import Stack, StackPlan
from shared.contracts.common import Role
from shared.settings import SERVICES
from tests.browser.test_calloffs import _pass_deadline
from tests.browser.test_console import (
    CHROMIUM,
    _client,
    browser,
    no_violations,
    settled,
    tab_to,
)
from tests.browser.test_screenshots import SHOTS
from tests.conftest import TEST_SECRET
from tests.e2e.steps import ok, placement_request, send, token, wait_for
from tests.fixtures import provider_body

__all__ = ["browser"]  # the shared Chromium fixture
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]
SCHOOL = "Riverside Learning Centre"
CHILD = f"KCC-EHC-JOURNEY-{uuid.uuid4().hex[:6].upper()}"
START = date.today() + timedelta(days=30)
VIEWPORT = {"width": 1280, "height": 900}


@dataclass
class Journey:
    console: str
    stack: Stack
    scheme_id: str
    rival_id: str


def _seed(stack: Stack) -> tuple[str, str]:
    """What the council sets up beforehand, through the APIs: an open scheme with selection
    questions and an award quality question, and one other member (a competition)."""
    commissioner = token(Role.COMMISSIONER)
    registry = _client(stack, "provider_registry", commissioner)
    procurement = _client(stack, "procurement", commissioner)
    today = date.today()
    scheme_id = ok(
        procurement.post(
            "/schemes",
            json={
                "reference": f"JOURNEY-{uuid.uuid4().hex[:6]}",
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
                # The council checks documents at call-off time in this DPS (a choice
                # its published rules make); the journey is about people and clocks.
                "required_documents": [],
                "selection_questions": [
                    {"question_id": "ofsted", "text": "Inspection outcome", "kind": "pass_fail"},
                    {
                        "question_id": "quality",
                        "text": "Quality of provision",
                        "kind": "scored",
                        "max_score": 100,
                        "weight": 1,
                    },
                ],
                "pass_mark": "30",
                "award_criteria": {
                    "quality_weight": 60,
                    "price_weight": 40,
                    "quality_questions": [
                        {
                            "question_id": "fit",
                            "text": "How would you meet the needs?",
                            "max_score": 10,
                            "weight": 1,
                        }
                    ],
                },
            },
        ),
        201,
    )["scheme_id"]
    body = provider_body(urn=620100, name="Hillside School")
    rival_id = ok(registry.post("/providers", json=body), 201)["provider_id"]
    ok(
        registry.post(
            f"/providers/{rival_id}/status", json={"status": "active", "reason": "checks complete"}
        )
    )
    as_rival = _client(stack, "procurement", token(Role.PROVIDER, rival_id))

    def applied() -> Any:
        answer = as_rival.post(
            f"/schemes/{scheme_id}/applications",
            json={
                "requested_categories": ["ASD-day"],
                "answers": {"ofsted": "Good", "quality": "Specialist autism base"},
            },
        )
        return answer.json() if answer.status_code == 201 else None

    application = wait_for(applied)
    assessments = {"ofsted": {"passed": True}, "quality": {"score": "60"}}
    ok(
        procurement.post(
            f"/applications/{application['application_id']}/decision",
            json={"assessments": assessments},
        )
    )
    return scheme_id, rival_id


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    plan = StackPlan(
        data_dir=tmp_path_factory.mktemp("journey-stack"),
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
        scheme_id, rival_id = _seed(stack)
        yield Journey(f"http://127.0.0.1:{plan.console_port}", stack, scheme_id, rival_id)
    finally:
        stack.stop()


def sign_in(page: Any, console: str, who: str, *, check: bool = False) -> None:
    """test_console's sign_in, with the button's exact name: the development sign-in page
    also has "Sign in as a supplier person" (the two would match "Sign in")."""
    page.goto(f"{console}/sign-in")
    if check:
        no_violations(page)
    page.get_by_label(who).check()
    page.get_by_role("button", name="Sign in", exact=True).click()


def snap(page: Any, number: int, what: str) -> None:
    """With DPS_SCREENSHOTS=1, the page as it is now, for the README."""
    if os.environ.get("DPS_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(SHOTS / f"journey-{number:02d}-{what}.png"), full_page=True)


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to its end from the test (Playwright's sync API holds this
    thread's event loop, so asyncio.run needs a thread of its own)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def retry(submit: Callable[[], None], done: Callable[[], bool], within: float = 30.0) -> None:
    """Submit a form until it succeeds: the services learn of each other through Kafka,
    so a form sent the moment after another service changed may briefly be refused."""
    end = time.monotonic() + within
    while True:
        submit()
        if done():
            return
        if time.monotonic() > end:
            raise AssertionError("the form was refused throughout")
        time.sleep(1)


def test_a_new_provider_from_registration_to_placement_and_alert(
    journey: Journey, browser: Any
) -> None:
    from playwright.sync_api import expect

    c = journey.console
    commissioner = token(Role.COMMISSIONER)
    registry = _client(journey.stack, "provider_registry", commissioner)
    procurement = _client(journey.stack, "procurement", commissioner)
    placements = _client(journey.stack, "placements", commissioner)
    monitoring = _client(journey.stack, "monitoring", token(Role.MONITORING_OFFICER))
    supplier = browser.new_context(viewport=VIEWPORT).new_page()
    council = browser.new_context(viewport=VIEWPORT).new_page()

    # 2. A new supplier person signs in and registers a new provider.
    supplier.goto(f"{c}/sign-in")
    no_violations(supplier)
    supplier.get_by_label("Your name").fill("Priya Shah")
    supplier.get_by_label("Your email address").fill("priya.shah@riverside.example.org")
    supplier.get_by_role("button", name="Sign in as a supplier person").click()
    supplier.goto(f"{c}/portal/register")
    no_violations(supplier)
    supplier.get_by_role("link", name="Register a new provider").click()
    expect(supplier.get_by_role("heading", name="Register a new provider")).to_be_visible()
    no_violations(supplier)
    urn = str(random.randint(700000, 799999))
    form = {
        "Your work email address": "priya.shah@riverside.example.org",
        "School name": SCHOOL,
        "URN (optional)": urn,
        "Proprietor": "Riverside Education Trust",
        "Address": "2 River Walk, Maidstone",
        "Postcode": "ME14 2LL",
        "Youngest age you take": "7",
        "Oldest age you take": "16",
        "Places in total": "40",
    }
    for label, value in form.items():
        supplier.get_by_label(label, exact=True).fill(value)
    supplier.get_by_label("Independent special school").check()
    supplier.get_by_label("Day", exact=True).check()
    supplier.get_by_label("ASD", exact=True).check()
    supplier.get_by_label("SLCN", exact=True).check()
    snap(supplier, 1, "register-new-provider")
    supplier.get_by_role("button", name="Send to the council to verify").click()
    expect(supplier.locator(".govuk-notification-banner")).to_contain_text(
        "Your registration was sent to the council."
    )
    assert "awaiting the council's verification" in supplier.locator("main").inner_text()
    no_violations(supplier)

    # 3. A commissioner verifies the registration.
    sign_in(council, c, "Demo commissioner", check=False)
    council.goto(f"{c}/registrations")
    no_violations(council)
    link = council.get_by_role("link", name=SCHOOL)
    registration_id = link.get_attribute("href").rsplit("/", 1)[1]
    link.click()
    no_violations(council)
    snap(council, 2, "verify-registration")
    council.get_by_label("Verify: the person becomes the provider's administrator").check()
    council.get_by_role("button", name="Record decision").click()
    expect(council.locator(".govuk-notification-banner")).to_contain_text(
        "Your decision is recorded."
    )
    no_violations(council)
    verified = ok(registry.get(f"/registrations/{registration_id}"))
    assert verified["status"] == "verified"
    provider_id = str(verified["provider_id"])
    assert ok(registry.get(f"/providers/{provider_id}"))["status"] == "registered"
    # The council's own checks complete: the commissioner makes the provider active.
    council.goto(f"{c}/providers/{provider_id}")
    council.get_by_label("Active: may apply to the DPS, bid and be placed with").check()
    council.get_by_label("Reason").fill("Due diligence checks complete")
    council.get_by_role("button", name="Change status").click()
    expect(council.locator(".govuk-notification-banner")).to_contain_text("status was changed")
    no_violations(council)
    assert ok(registry.get(f"/providers/{provider_id}"))["status"] == "active"

    # 4. The supplier continues as its provider and applies to join the DPS.
    supplier.goto(f"{c}/portal/register/status")
    no_violations(supplier)
    supplier.get_by_role("button", name=f"Continue to {SCHOOL}").click()
    expect(supplier.get_by_role("heading", name="Your organisation's home")).to_be_visible()
    no_violations(supplier)
    supplier.get_by_role("link", name="Apply to join a DPS").click()
    no_violations(supplier)
    supplier.locator(f'a[href="/portal/schemes/{journey.scheme_id}/apply"]').click()
    no_violations(supplier)

    def apply() -> None:
        supplier.goto(f"{c}/portal/schemes/{journey.scheme_id}/apply")
        supplier.get_by_label("Autism, day").check()
        supplier.get_by_label("Inspection outcome").fill("Good, March 2025")
        supplier.get_by_label("Quality of provision").fill(
            "A specialist autism base with speech and language therapists on site"
        )
        snap(supplier, 3, "apply-to-join")
        supplier.get_by_role("button", name="Submit application").click()

    def my_application() -> Any:
        as_provider = _client(journey.stack, "procurement", token(Role.PROVIDER, provider_id))
        return as_provider.get("/portal/applications").json()

    retry(apply, lambda: bool(my_application()))
    no_violations(supplier)
    application_id = my_application()[0]["application_id"]

    # 5. The commissioner admits it, assessing each selection question.
    council.goto(f"{c}/applications/{application_id}")
    no_violations(council)
    assert "Good, March 2025" in council.locator("main").inner_text()

    def decide() -> None:
        council.goto(f"{c}/applications/{application_id}")
        council.get_by_label("Pass", exact=True).check()
        council.get_by_label("Score for quality (0 to 100)").fill("70")
        council.get_by_label("Admit to the DPS").check()
        snap(council, 4, "admit-application")
        council.get_by_role("button", name="Record decision").click()

    def admitted() -> bool:
        decision = procurement.get(f"/applications/{application_id}").json().get("decision")
        return bool(decision) and decision["outcome"] == "admitted"

    retry(decide, admitted)
    expect(council.locator(".govuk-notification-banner")).to_contain_text(
        "The decision was recorded."
    )
    no_violations(council)

    # 6. The council's SEND case system asks for a placement on Kafka.
    run(send(journey.stack.plan.kafka_bootstrap, "ehc.plans.v1", placement_request(CHILD)))
    need = wait_for(lambda: placements.get("/needs", params={"child_ref": CHILD}).json()["items"])[
        0
    ]
    competition_id = f"need-{need['need_id']}"
    competition = wait_for(
        lambda: (
            (r := procurement.get(f"/competitions/{competition_id}")).status_code == 200
            and r.json()
        )
    )
    assert {i["provider_id"] for i in competition["invitations"]} == {
        provider_id,
        journey.rival_id,
    }
    supplier.goto(f"{c}/portal")
    invitation = supplier.locator(f'a[href="/portal/call-offs/{competition_id}"]')
    expect(invitation).to_be_visible()
    assert CHILD not in supplier.locator("main").inner_text()  # never the child's reference
    no_violations(supplier)
    snap(supplier, 5, "invitation")

    # 7. The provider bids, with the keyboard only, and gets its receipt.
    invitation.click()
    expect(supplier.get_by_role("button", name="Send bid")).to_be_visible()
    no_violations(supplier)
    tab_to(supplier, "fee_basis")
    supplier.keyboard.press("Space")
    for text in (
        "1500.00",
        "38",
        str(START.day),
        str(START.month),
        str(START.year),
        "Small classes, speech and language therapy on site",
    ):
        supplier.keyboard.press("Tab")
        supplier.keyboard.type(text)
    supplier.keyboard.press("Tab")
    assert supplier.evaluate("document.activeElement.textContent").strip() == "Send bid"
    supplier.keyboard.press("Enter")
    expect(supplier.get_by_role("heading", name="Bid received")).to_be_visible()
    no_violations(supplier)
    snap(supplier, 6, "bid-receipt")
    bids = ok(procurement.get(f"/competitions/{competition_id}"))["bids"]
    mine = next(b for b in bids if b["provider_id"] == provider_id and not b["superseded"])
    assert mine["bid_id"] in supplier.locator(".govuk-panel").inner_text()
    as_rival = _client(journey.stack, "procurement", token(Role.PROVIDER, journey.rival_id))
    rival_offer = {
        "fee_basis": "weekly",
        "core_fee": "1900.00",
        "weeks_per_year": 38,
        "start_date": str(START),
        "answers": {"fit": "A place in our autism base"},
    }
    ok(as_rival.post(f"/competitions/{competition_id}/bids", json=rival_offer), 201)

    # 8. The deadline passes.
    run(_pass_deadline(journey.stack, competition_id))
    wait_for(
        lambda: procurement.get(f"/competitions/{competition_id}").json()["status"] == "evaluation"
    )

    # 9. A commissioner scores and ranks; a second approves the award.
    council.goto(f"{c}/call-offs?stage=evaluation")
    no_violations(council)
    council.locator(f'a[href="/call-offs/{competition_id}"]').first.click()
    expect(council.get_by_role("heading", name="The need")).to_be_visible()
    no_violations(council)
    forms = council.locator('form[action*="/scores"]')
    assert forms.count() == 2
    for i in range(2):
        form_i = council.locator('form[action*="/scores"]').nth(i)
        form_i.get_by_label("How would you meet the needs? (0 to 10)").fill("7")
        form_i.get_by_role("button", name="Save scores").click()
        expect(council.locator(".govuk-notification-banner")).to_contain_text(
            "Your scores were recorded."
        )
    council.get_by_role("button", name="Rank the bids").click()
    expect(council.locator(".govuk-notification-banner")).to_contain_text("The bids were ranked.")
    no_violations(council)
    snap(council, 7, "ranked")
    council.get_by_role("button", name="Approve award").click()
    expect(council.locator(".govuk-error-summary")).to_contain_text(
        "another commissioner must approve its award"
    )
    council.get_by_role("button", name="Sign out").click()
    sign_in(council, c, "Demo approving commissioner", check=False)
    council.goto(f"{c}/call-offs/{competition_id}")
    council.get_by_role("button", name="Approve award").click()
    expect(council.locator(".govuk-notification-banner--success")).to_contain_text(
        "The award was approved."
    )
    settled(council)
    no_violations(council)
    awarded = ok(procurement.get(f"/competitions/{competition_id}"))
    assert awarded["status"] == "awarded"
    assert awarded["award"]["provider_id"] == provider_id  # same quality, lower price

    # 10. The placement on both sides.
    placement = wait_for(
        lambda: placements.get("/placements", params={"child_ref": CHILD}).json()["items"]
    )[0]
    assert (placement["provider_id"], placement["status"]) == (provider_id, "pending")
    council.goto(f"{c}/placements")
    expect(council.locator("main")).to_contain_text(CHILD)
    row = council.locator("tbody tr", has_text=CHILD)
    expect(row).to_contain_text(SCHOOL)
    expect(row).to_contain_text("Pending")  # it starts on the bid's start date
    no_violations(council)
    snap(council, 8, "placements")
    supplier.goto(f"{c}/portal")
    placement_link = supplier.locator(f'a[href="/portal/placements/{placement["placement_id"]}"]')
    expect(placement_link).to_be_visible()
    no_violations(supplier)
    placement_link.click()
    no_violations(supplier)
    snap(supplier, 9, "provider-placement")

    # 11. An inadequate inspection: a critical alert the monitoring officer works to the end.
    ok(
        registry.post(
            f"/providers/{provider_id}/inspections",
            json={"inspected_on": str(date.today()), "overall": "inadequate"},
        ),
        201,
    )
    alert = wait_for(
        lambda: monitoring.get(
            "/alerts",
            params={"status": "open", "severity": "critical", "provider_id": provider_id},
        ).json()
    )[0]
    alert_id = str(alert["alert_id"])
    council.get_by_role("button", name="Sign out").click()
    sign_in(council, c, "Demo monitoring officer", check=False)
    expect(council.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    no_violations(council)
    snap(council, 10, "alerts")
    council.locator(f'a[href="/alerts/{alert_id}"]').click()
    no_violations(council)
    council.get_by_role("button", name="Acknowledge alert").click()
    expect(council.locator(".govuk-notification-banner")).to_contain_text(
        "The alert was acknowledged."
    )
    assert ok(monitoring.get(f"/alerts/{alert_id}"))["status"] == "acknowledged"
    council.get_by_label("What was done").fill("Improvement plan agreed; visit booked")
    council.get_by_role("button", name="Resolve alert").click()
    expect(council.locator(".govuk-notification-banner")).to_contain_text("The alert was resolved.")
    no_violations(council)
    snap(council, 11, "alert-resolved")
    resolved = ok(monitoring.get(f"/alerts/{alert_id}"))
    assert (resolved["status"], resolved["outcome"]) == (
        "resolved",
        "Improvement plan agreed; visit booked",
    )
    supplier.context.close()
    council.context.close()
