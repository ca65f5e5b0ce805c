"""Every page the console serves, in a real browser (Debian's Chromium, Playwright) on
the real stack, checked by axe-core: one stack seeded through the public APIs so that
each page has something on it, then each role in turn (a commissioner, a monitoring
officer, a provider's organisation administrator, another provider, a new supplier
person) visits every GET page it may see, and each form sent empty renders its GOV.UK
error summary (links to field ids that exist), checked by axe too.

PAGES below is the list, as data; `test_every_get_route_is_visited_or_excluded` walks the
console app's routes so that a page added later without an axe check fails here."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from dps import processes
from dps.stack import Stack, StackPlan
from services.console.routes.signin import supplier_subject
from shared.contracts.common import Role
from shared.settings import SERVICES
from shared.tokens import issue_token
from tests.browser.test_console import CHROMIUM, _client, browser, no_violations
from tests.conftest import TEST_SECRET
from tests.e2e.steps import ok, placement_request, send, token, wait_for
from tests.fixtures import provider_body

__all__ = ["browser"]  # the shared Chromium fixture
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]

ADMIN_EMAIL = "head@everypage-school.org.uk"
PENDING_EMAIL = "bursar@newschool.org.uk"
NEWCOMER_EMAIL = "someone@unknown-school.org.uk"

# Who visits what: (who, the route's path as app.py declares it). Placeholders are filled
# from the seeded ids. "anonymous" is signed out; "admin" is Everypage School 0's
# organisation administrator (a supplier person whose claim the council verified);
# "provider1" is Everypage School 1 by the development sign-in; "supplier" a new
# supplier person with no registration.
PAGES: list[tuple[str, str]] = [
    ("anonymous", "/sign-in"),
    ("anonymous", "/accessibility"),
    ("commissioner", "/"),
    ("commissioner", "/applications"),
    ("commissioner", "/applications/{application_id}"),
    ("commissioner", "/providers"),
    ("commissioner", "/providers/{provider_id}"),
    ("commissioner", "/providers/{provider_id}/monitoring"),
    ("commissioner", "/alerts"),
    ("commissioner", "/alerts/{alert_id}"),
    ("commissioner", "/schemes"),
    ("commissioner", "/schemes/new"),
    ("commissioner", "/schemes/{scheme_id}"),
    ("commissioner", "/schemes/{scheme_id}/edit"),
    ("commissioner", "/call-offs"),
    ("commissioner", "/call-offs/{competition_id}"),
    ("commissioner", "/needs"),
    ("commissioner", "/needs/{need_id}/call-off"),
    ("commissioner", "/block-contracts"),
    ("commissioner", "/block-contracts/new"),
    ("commissioner", "/block-contracts/{block_id}"),
    ("commissioner", "/placements"),
    ("commissioner", "/placements/{placement_id}"),
    ("commissioner", "/registrations"),
    ("commissioner", "/registrations/{registration_id}"),
    ("commissioner", "/spend"),
    ("commissioner", "/notices"),
    ("commissioner", "/returns"),
    ("commissioner", "/direct-awards/new"),
    ("commissioner", "/market"),
    ("commissioner", "/training"),  # see NOT_FOUND
    ("commissioner", "/accessibility"),
    ("monitoring_officer", "/"),
    ("monitoring_officer", "/alerts"),
    ("monitoring_officer", "/alerts/{alert_id}"),
    ("monitoring_officer", "/providers"),
    ("monitoring_officer", "/providers/{provider_id}"),
    ("monitoring_officer", "/providers/{provider_id}/monitoring"),
    ("monitoring_officer", "/market"),
    ("monitoring_officer", "/placements"),
    ("monitoring_officer", "/block-contracts"),
    ("monitoring_officer", "/block-contracts/{block_id}"),
    ("monitoring_officer", "/needs"),
    ("monitoring_officer", "/notices"),
    ("admin", "/"),
    ("admin", "/portal"),
    ("admin", "/portal/schemes"),
    ("admin", "/portal/schemes/{scheme_id}/apply"),
    ("admin", "/portal/call-offs/{competition_id}"),
    ("admin", "/portal/call-offs/{competition_id}/receipt"),
    ("admin", "/portal/call-offs/{competition_id}/withdraw"),
    ("admin", "/portal/self-declarations/{request_id}"),
    ("admin", "/portal/clarification-requests/{clarification_request_id}"),
    ("admin", "/portal/documents"),
    ("admin", "/portal/placements/{placement_id}"),
    ("admin", "/portal/kpi-returns"),
    ("admin", "/portal/notifications"),
    ("admin", "/portal/block-offers"),
    ("admin", "/portal/block-offers/{offer_id}"),
    ("admin", "/portal/people"),
    ("admin", "/portal/people/{subject}/{change}"),
    ("admin", "/portal/people/leave"),
    ("admin", "/portal/register/status"),
    ("admin", "/accessibility"),
    ("provider1", "/portal/call-offs/{competition_id}/withdrawal"),
    ("supplier", "/"),
    ("supplier", "/portal/register"),
    ("supplier", "/portal/register/new"),
    ("supplier", "/portal/register/status"),
    ("supplier", "/portal/join"),
]

# "/" is each role's home: where a role other than a commissioner lands (visited above).
LANDS_ON: dict[tuple[str, str], str] = {
    ("monitoring_officer", "/"): "/alerts",
    ("admin", "/"): "/portal",
    ("supplier", "/"): "/portal/register",
}
# The training clock's page is "not found" unless the stack runs `dps up --training`; that
# 404 page is checked here, the clock's own page in test_training_clock.py.
NOT_FOUND = {("commissioner", "/training")}

# What some pages must show, so that a page checked empty does not pass unnoticed.
SHOWS: dict[tuple[str, str], str] = {
    ("commissioner", "/registrations"): "Brand New School",
    ("commissioner", "/registrations/{registration_id}"): "Bea Bursar",
    ("commissioner", "/call-offs/{competition_id}"): "Is transport included in the fee?",
    ("commissioner", "/needs"): "/needs/{need_id}/call-off",
    ("commissioner", "/block-contracts/{block_id}"): "Offered, awaiting the provider",
    ("commissioner", "/applications"): "Everypage School 2",
    ("monitoring_officer", "/providers/{provider_id}/monitoring"): "Restraint used twice",
    ("monitoring_officer", "/alerts"): "/alerts/{alert_id}",
    ("admin", "/portal/people"): "Hana Head",
    ("admin", "/portal/people/{subject}/{change}"): "Make Hana Head a member?",
    ("admin", "/portal/call-offs/{competition_id}"): "No: the council arranges transport.",
    ("admin", "/portal/block-offers"): "/portal/block-offers/{offer_id}",
    ("admin", "/portal/kpi-returns"): "{placement_id}",
    ("admin", "/portal/documents"): "POL-2031-77",
    ("admin", "/portal"): "/portal/clarification-requests/{clarification_request_id}",
    (
        "admin",
        "/portal/clarification-requests/{clarification_request_id}",
    ): "Please send the latest inspection letter.",
}

# Forms sent empty: (who, page's path, the form's action). Each must answer with a GOV.UK
# error summary whose links point at fields on the page.
EMPTY_FORMS: list[tuple[str, str, str]] = [
    ("commissioner", "/schemes/new", "/schemes/new"),
    (
        "commissioner",
        "/providers/{provider_id}",
        "/providers/{provider_id}/documents/verification",
    ),
    ("commissioner", "/providers/{provider_id}", "/providers/{provider_id}/status"),
    ("commissioner", "/needs/{need_id}/call-off", "/needs/{need_id}/call-off"),
    ("commissioner", "/block-contracts/new", "/block-contracts"),
    (
        "commissioner",
        "/block-contracts/{block_id}",
        "/block-contracts/{block_id}/renewal",
    ),
    ("commissioner", "/placements/{placement_id}", "/placements/{placement_id}/end"),
    ("commissioner", "/registrations/{registration_id}", "/registrations/{registration_id}"),
    (
        "monitoring_officer",
        "/providers/{provider_id}/monitoring",
        "/providers/{provider_id}/suspension-recommendations",
    ),
    ("monitoring_officer", "/alerts/{alert_id}", "/alerts/{alert_id}/resolve"),
    (
        "monitoring_officer",
        "/providers/{provider_id}/monitoring",
        "/providers/{provider_id}/visits",
    ),
    (
        "monitoring_officer",
        "/providers/{provider_id}/monitoring",
        "/providers/{provider_id}/incidents",
    ),
    ("admin", "/portal/call-offs/{competition_id}", "/portal/call-offs/{competition_id}/bid"),
    ("admin", "/portal/people", "/portal/people/invitations"),
    (
        "admin",
        "/portal/clarification-requests/{clarification_request_id}",
        "/portal/clarification-requests/{clarification_request_id}",
    ),
    (
        "commissioner",
        "/applications/{application_id}",
        "/applications/{application_id}/clarification-requests",
    ),
    (
        "admin",
        "/portal/self-declarations/{request_id}",
        "/portal/self-declarations/{request_id}",
    ),
    (
        "admin",
        "/portal/placements/{placement_id}",
        "/portal/placements/{placement_id}/uplift",
    ),
    ("admin", "/portal/kpi-returns", "/portal/kpi-returns"),
    ("admin", "/portal/documents", "/portal/documents"),
    ("admin", "/portal/block-offers/{offer_id}", "/portal/block-offers/{offer_id}/decision"),
    (
        "admin",
        "/portal/call-offs/{competition_id}",
        "/portal/call-offs/{competition_id}/clarifications",
    ),
    ("supplier", "/portal/register", "/portal/register/claim"),
    ("supplier", "/portal/register/new", "/portal/register/new"),
    ("supplier", "/portal/join", "/portal/join"),
    ("commissioner", "/direct-awards/new", "/direct-awards/new"),
    ("commissioner", "/returns", "/returns"),
    ("commissioner", "/returns", "/returns/transparency-contracts.csv"),
]

# GET routes no one visits here, each with why.
EXCLUDED: dict[str, str] = {
    # CSV downloads: no HTML to check (their contents have their own service tests).
    "/applications.csv": "CSV download",
    "/block-contracts.csv": "CSV download",
    "/call-offs.csv": "CSV download",
    "/placements.csv": "CSV download",
    "/spend.csv": "CSV download",
    "/returns/transparency-contracts.csv": "CSV download (its bad quarter: EMPTY_FORMS)",
    # Statutory return and OCDS files (JSON, XML): tests/service/console.
    "/returns/sen2.{format}": "file download",
    "/schemes/{scheme_id}/ocds-releases.json": "file download",
    # Pages for a record the seed does not make (a notice owed under the Act, a direct
    # award): their content and refusals are in tests/service/console/test_notices_returns.
    "/notices/{notice_id}/publication": "no seeded Act notice",
    "/direct-awards/{direct_award_id}": "no seeded direct award",
    # A file download (the uploaded document's bytes), not a page.
    "/providers/{provider_id}/documents/{kind}/file": "file download",
    # The OpenID Connect callback: production sign-in only, redirects, renders nothing.
    "/sign-in/callback": "sign-in callback",
    # Operations' probes and Prometheus metrics: plain text or JSON for machines.
    "/healthz": "liveness probe",
    "/readyz": "readiness probe",
    "/metrics": "Prometheus metrics",
}


@dataclass
class Everything:
    console: str
    stack: Stack
    ids: dict[str, str] = field(default_factory=dict)


def _scheme_body() -> dict[str, Any]:
    today = date.today()
    return {
        "reference": f"EVERY-{uuid.uuid4().hex[:6]}",
        "title": "NMISS placements DPS",
        "regime": "pcr2015_light_touch",
        "established_on": "2024-12-02",
        "term_start": str(today - timedelta(days=30)),
        "term_end": str(today + timedelta(days=3 * 365)),
        "categories": [
            {"code": "ASD-day", "name": "Autism, day", "need_types": ["ASD"], "attendance": ["day"]}
        ],
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
                {"question_id": "fit", "text": "Fit to the need", "max_score": 10, "weight": 1}
            ],
        },
    }


def _supplier(stack: Stack, service: str, email: str) -> Any:
    subject = supplier_subject(email)
    return _client(stack, service, issue_token(TEST_SECRET, Role.SUPPLIER, subject=subject))


def _providers(stack: Stack, scheme_id: str) -> tuple[list[str], str, str]:
    """Two active providers, admitted to the scheme (the first asked to clarify before its
    decision, unanswered); a third applying (its application undecided)."""
    commissioner = token(Role.COMMISSIONER)
    registry = _client(stack, "provider_registry", commissioner)
    procurement = _client(stack, "procurement", commissioner)
    providers, applications = [], []
    for i in range(3):
        body = provider_body(urn=620100 + i, name=f"Everypage School {i}")
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
                f"/schemes/{scheme_id}/applications",
                json={
                    "requested_categories": ["ASD-day"],
                    "answers": {"ofsted": "Good", "quality": "Small classes, therapy on site"},
                },
            )
            return answer.json() if answer.status_code == 201 else None

        applications.append(wait_for(applied)["application_id"])
        providers.append(provider_id)
    asked = ok(
        procurement.post(
            f"/applications/{applications[0]}/clarification-requests",
            json={
                "question": "Please send the latest inspection letter.",
                "reply_by_on": str(date.today() + timedelta(days=30)),
            },
        ),
        201,
    )["request_id"]
    for application in applications[:2]:
        ok(
            procurement.post(
                f"/applications/{application}/decision",
                json={
                    "assessments": {
                        "ofsted": {"passed": True, "note": "checked"},
                        "quality": {"score": 80},
                    }
                },
            )
        )
    return providers, applications[2], str(asked)


def _call_off(stack: Stack, scheme_id: str, providers: list[str]) -> str:
    """A call-off inviting both members: a clarification asked and answered, a bid from
    each, the second withdrawn."""
    procurement = _client(stack, "procurement", token(Role.COMMISSIONER))
    competition_id = ok(
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
    )["competition_id"]
    first, second = (_client(stack, "procurement", token(Role.PROVIDER, p)) for p in providers[:2])
    asked = ok(
        first.post(
            f"/competitions/{competition_id}/clarifications",
            json={"question": "Is transport included in the fee?"},
        ),
        201,
    )
    ok(
        procurement.post(
            f"/competitions/{competition_id}/clarifications/{asked['clarification_id']}/answer",
            json={"answer": "No: the council arranges transport."},
        )
    )
    offer = {
        "fee_basis": "weekly",
        "core_fee": "1650.00",
        "weeks_per_year": 38,
        "start_date": str(date.today() + timedelta(days=40)),
        "answers": {"fit": "Small classes with speech and language therapy on site"},
    }
    for client in (first, second):
        ok(client.post(f"/competitions/{competition_id}/bids", json=offer), 201)
    ok(second.post(f"/competitions/{competition_id}/bids/withdrawal"))
    return str(competition_id)


def _casework(stack: Stack, provider_id: str) -> dict[str, str]:
    """A block contract for the provider with a need offered to it, a need for a call-off,
    an existing placement there, and the KPI returns it owes."""
    commissioner = token(Role.COMMISSIONER)
    placements = _client(stack, "placements", commissioner)
    today = date.today()
    block_id = ok(
        placements.post(
            "/block-contracts",
            json={
                "provider_id": provider_id,
                "primary_need": "SEMH",
                "attendance": "day",
                "places": 2,
                "term_start": str(today - timedelta(days=10)),
                "term_end": str(today + timedelta(days=700)),
                "weekly_fee_per_place": "1800.00",
            },
        ),
        201,
    )["block_contract_id"]
    semh = placement_request("KCC-EHC-071001")
    semh.data["primary_need"] = "SEMH"
    semh.data["secondary_needs"] = []
    asd = placement_request("KCC-EHC-071002")
    asyncio.run(send(stack.plan.kafka_bootstrap, "ehc.plans.v1", semh, asd))
    as_provider = _client(stack, "placements", token(Role.PROVIDER, provider_id))
    offer = wait_for(lambda: as_provider.get("/block-offers", params={"limit": 10}).json()["items"])
    needs = wait_for(
        lambda: [
            n
            for n in placements.get("/needs", params={"limit": 50}).json()["items"]
            if n.get("child_ref") == "KCC-EHC-071002"
        ]
    )
    imported = ok(
        placements.post(
            "/placements/import",
            json={
                "import_key": f"every-{uuid.uuid4().hex[:8]}",
                "placements": [
                    {
                        "child_ref": "KCC-EHC-071003",
                        "provider_id": provider_id,
                        "primary_need": "ASD",
                        "attendance": "day",
                        "start_date": str(today - timedelta(days=200)),
                        "weekly_core_fee": "1500.00",
                        "weeks_per_year": 38,
                        "next_review_due": str(today + timedelta(days=90)),
                    }
                ],
            },
        ),
        201,
    )
    monitoring = _client(stack, "monitoring", token(Role.MONITORING_OFFICER))
    wait_for(lambda: monitoring.get(f"/providers/{provider_id}/kpi-returns/due").json())
    return {
        "block_id": str(block_id),
        "offer_id": str(offer[0]["offer_id"]),
        "need_id": str(needs[0]["need_id"]),
        "placement_id": str(imported["placement_ids"][0]),
    }


def _people(stack: Stack, provider_id: str) -> str:
    """The provider's administrator (a supplier person whose claim by URN the council
    verified) and another supplier's registration of a new school, pending."""
    registry = _client(stack, "provider_registry", token(Role.COMMISSIONER))
    claim = ok(
        _supplier(stack, "provider_registry", ADMIN_EMAIL).post(
            "/registrations",
            json={
                "kind": "claim",
                "person_name": "Hana Head",
                "person_email": ADMIN_EMAIL,
                "urn": 620100,
            },
        ),
        201,
    )
    ok(
        registry.post(
            f"/registrations/{claim['registration_id']}/decision", json={"decision": "verify"}
        )
    )
    pending = ok(
        _supplier(stack, "provider_registry", PENDING_EMAIL).post(
            "/registrations",
            json={
                "kind": "new",
                "person_name": "Bea Bursar",
                "person_email": PENDING_EMAIL,
                "provider": {
                    k: v
                    for k, v in provider_body(urn=620199, name="Brand New School").items()
                    if k not in ("documents", "latitude", "longitude", "places_in_use")
                },
            },
        ),
        201,
    )
    assert provider_id  # the claim is of Everypage School 0's URN
    return str(pending["registration_id"])


def _monitoring(stack: Stack, provider_id: str) -> str:
    """An inadequate inspection (a critical alert), a suspension recommendation raised
    by hand, and an uploaded document."""
    registry = _client(stack, "provider_registry", token(Role.COMMISSIONER))
    ok(
        registry.post(
            f"/providers/{provider_id}/inspections",
            json={"inspected_on": str(date.today()), "overall": "inadequate"},
        ),
        201,
    )
    officer = _client(stack, "monitoring", token(Role.MONITORING_OFFICER))
    alert = wait_for(lambda: officer.get("/alerts", params={"provider_id": provider_id}).json())[0]
    ok(
        officer.post(
            f"/providers/{provider_id}/suspension-recommendations",
            json={"grounds": ["safeguarding"], "reason": "Restraint used twice without a record."},
        ),
        201,
    )
    return str(alert["alert_id"])


def _seed(stack: Stack) -> dict[str, str]:
    procurement = _client(stack, "procurement", token(Role.COMMISSIONER))
    scheme_id = ok(procurement.post("/schemes", json=_scheme_body()), 201)["scheme_id"]
    providers, application_id, clarification_request_id = _providers(stack, scheme_id)
    competition_id = _call_off(stack, scheme_id, providers)
    request_id = ok(
        procurement.post(
            f"/schemes/{scheme_id}/members/{providers[0]}/self-declarations", json={"reason": ""}
        ),
        201,
    )["request_id"]
    uploaded = _client(stack, "provider_registry", token(Role.PROVIDER, providers[0])).post(
        f"/providers/{providers[0]}/documents/insurance/file",
        files={"file": ("insurance.pdf", io.BytesIO(b"%PDF-1.7\n%%EOF\n"), "application/pdf")},
    )
    assert uploaded.status_code in (200, 201), uploaded.text
    # As the portal's document form does: the file, then the proposal for an officer.
    renewed = {"kind": "insurance", "expires_on": "2031-03-31", "reference": "POL-2031-77"}
    for provider_id in providers[:2]:  # the second's for the officer's verification form
        ok(
            _client(stack, "provider_registry", token(Role.PROVIDER, provider_id)).patch(
                f"/providers/{provider_id}", json={"documents": [renewed]}
            )
        )
    return {
        "scheme_id": str(scheme_id),
        "application_id": str(application_id),
        "competition_id": competition_id,
        "request_id": str(request_id),
        "clarification_request_id": clarification_request_id,
        "provider_id": providers[1],
        "provider0": providers[0],
        "provider1": providers[1],
        "registration_id": _people(stack, providers[0]),
        # The administrator's own row on the people page: the step-down question.
        "subject": supplier_subject(ADMIN_EMAIL),
        "change": "member",
        "alert_id": _monitoring(stack, providers[1]),
        **_casework(stack, providers[0]),
    }


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Everything]:
    plan = StackPlan(
        data_dir=tmp_path_factory.mktemp("every-page-stack"),
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
        yield Everything(f"http://127.0.0.1:{plan.console_port}", stack, _seed(stack))
    finally:
        stack.stop()


def _sign_in(page: Any, console: str, who: str, ids: dict[str, str]) -> None:
    page.goto(f"{console}/sign-in")
    if who == "anonymous":
        return
    if who in ("supplier", "admin"):
        name, email = {
            "supplier": ("Sam Newcomer", NEWCOMER_EMAIL),
            "admin": ("Hana Head", ADMIN_EMAIL),
        }[who]
        page.get_by_label("Your name").fill(name)
        page.get_by_label("Your email address").fill(email)
        page.get_by_role("button", name="Sign in as a supplier person").click()
        return
    value = {
        "commissioner": "commissioner",
        "monitoring_officer": "monitoring_officer",
        "provider1": f"provider:{ids['provider1']}",
    }[who]
    page.locator(f'input[name="person"][value="{value}"]').check()
    page.get_by_role("button", name="Sign in", exact=True).click()


def _roles() -> list[str]:
    return list(dict.fromkeys(who for who, _ in PAGES))


def _error_summary_links_fields(page: Any) -> None:
    summary = page.locator(".govuk-error-summary")
    assert summary.count() == 1, f"{page.url}: no error summary"
    hrefs = [a.get_attribute("href") for a in summary.get_by_role("link").all()]
    assert hrefs, f"{page.url}: the error summary links to nothing"
    for href in hrefs:
        assert href and href.startswith("#"), f"{page.url}: {href}"
        target = page.locator(f"[id='{href[1:]}']")
        assert target.count() == 1, f"{page.url}: no field {href}"
        # GOV.UK: the link moves focus to the field itself (the first of a group).
        tag = target.evaluate("e => e.tagName.toLowerCase()")
        assert tag in ("input", "select", "textarea"), f"{page.url}: {href} is a <{tag}>"


@pytest.mark.parametrize("who", _roles())
def test_every_page_has_no_accessibility_violation(
    everything: Everything, browser: Any, who: str
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    _sign_in(page, everything.console, who, everything.ids)
    problems = []
    ids = everything.ids
    for role, path in PAGES:
        if role != who:
            continue
        url = everything.console + path.format(**ids)
        answer = page.goto(url)
        lands_on = everything.console + LANDS_ON[(who, path)] if (who, path) in LANDS_ON else url
        expected = 404 if (who, path) in NOT_FOUND else 200
        if answer is None or answer.status != expected or page.url != lands_on:
            problems.append(f"{path}: {answer.status if answer else '-'} at {page.url}")
            continue
        if (shown := SHOWS.get((who, path))) and shown.format(**ids) not in page.content():
            problems.append(f"{path} does not show {shown}")
        try:
            no_violations(page)
        except AssertionError as violation:
            problems.append(str(violation))
    for role, path, action in EMPTY_FORMS:
        if role != who:
            continue
        page.goto(everything.console + path.format(**everything.ids))
        form = page.locator(f'form[action="{action.format(**everything.ids)}"]')
        form.locator('button:not([type]), button[type="submit"]').first.click()
        page.wait_for_load_state()
        try:
            _error_summary_links_fields(page)
            no_violations(page)
        except AssertionError as violation:
            problems.append(f"{action} sent empty: {violation}")
    context.close()
    assert not problems, "\n\n".join(problems)


def get_paths(routes: list[Any], prefix: str = "") -> set[str]:
    """Every GET route's path, walking included routers (FastAPI keeps an included router
    as one entry holding the original, from 0.165)."""
    from fastapi.routing import APIRoute

    found: set[str] = set()
    for route in routes:
        if isinstance(route, APIRoute) and "GET" in (route.methods or ()):
            found.add(prefix + route.path)
        elif (included := getattr(route, "original_router", None)) is not None:
            found |= get_paths(included.routes, prefix + route.include_context.prefix)
    return found


def test_every_get_route_is_visited_or_excluded(tmp_path: Any) -> None:
    """A page added to the console without an axe check here fails this test."""
    from services.console.app import build_app
    from tests.service.console.test_console import console_settings

    served = get_paths(build_app(console_settings(tmp_path)).routes)
    visited = {path for _, path in PAGES}
    assert served - visited - set(EXCLUDED) == set(), "pages with no axe check"
    assert set(EXCLUDED) & visited == set()
    assert (visited | set(EXCLUDED)) - served == set(), "listed paths the console no longer has"
    assert set(SHOWS) | set(LANDS_ON) | NOT_FOUND <= set(PAGES)
    assert {(who, path) for who, path, _ in EMPTY_FORMS} <= set(PAGES)
