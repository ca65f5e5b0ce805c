"""The console against the real monitoring service in-process (its app over ASGI, events
on FastStream's test broker): sign-in, sessions, CSRF, forms, error and unavailable pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from sqlmodel import select

from services.console.app import build_app
from services.console.settings import ConsoleSettings
from services.monitoring.models import AlertRow
from shared.contracts import providers_v1
from shared.runtime import ServiceRuntime
from tests.conftest import TEST_SECRET
from tests.harness import make_runtime
from tests.service.monitoring import events

NOWHERE = "http://127.0.0.1:1"  # nothing listens: the service is "down"


def console_settings(tmp_path: Path, **overrides: object) -> ConsoleSettings:
    values: dict[str, object] = {
        "data_dir": tmp_path,
        "jwt_secret": TEST_SECRET,
        "provider_registry_url": NOWHERE,
        "procurement_url": NOWHERE,
        "placements_url": NOWHERE,
        "monitoring_url": "http://monitoring",
        "upstream_timeout_s": 2,
        **overrides,
    }
    return ConsoleSettings(**values)  # type: ignore[arg-type]


def console(
    settings: ConsoleSettings, monitoring: ServiceRuntime | None = None
) -> httpx.AsyncClient:
    transports: dict[str, httpx.AsyncBaseTransport] = {}
    if monitoring is not None:
        transports["monitoring"] = httpx.ASGITransport(app=monitoring.build_app())
    app = build_app(settings, transports)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, person: str) -> str:
    token = csrf_of((await client.get("/sign-in")).text)
    answer = await client.post("/sign-in/dev", data={"person": person, "csrf_token": token})
    assert answer.status_code == 303, answer.text
    return csrf_of((await client.get("/accessibility")).text)


@pytest.fixture
async def monitoring(tmp_path: Path) -> AsyncIterator[ServiceRuntime]:
    broker = KafkaBroker()
    url = f"sqlite+aiosqlite:///{tmp_path / 'monitoring.db'}"
    runtime = make_runtime("monitoring", url, tmp_path, shared_broker=broker)
    async with TestKafkaBroker(broker):
        await runtime.start()
        await broker.publish(
            events.inspection("p-1", "inadequate").to_bytes(), providers_v1.TOPIC, key=b"p-1"
        )
        yield runtime
        await runtime.stop()


async def alert_row(runtime: ServiceRuntime) -> AlertRow:
    async with runtime.db.session() as session:
        return (await session.exec(select(AlertRow))).one()


async def test_pages_need_a_signed_in_person(tmp_path: Path) -> None:
    async with console(console_settings(tmp_path)) as client:
        for path in ("/", "/alerts", "/applications", "/providers/p-1"):
            answer = await client.get(path)
            assert (answer.status_code, answer.headers["location"]) == (303, "/sign-in")


async def test_the_session_cookie_is_httponly_lax_and_secure_in_production(tmp_path: Path) -> None:
    async with console(console_settings(tmp_path)) as client:
        token = csrf_of((await client.get("/sign-in")).text)
        signed = await client.post("/sign-in/dev", data={"person": "admin", "csrf_token": token})
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
        assert "Signed in as Demo platform operator" in (await client.get("/")).text
    production = {  # replicas share one strong cookie key (refused without it)
        "session_secret": "q3Jx0yV7pZrT2mWc8kLbN5hGdF1sA9eU4oIiY6tR",
    }
    async with console(console_settings(tmp_path, env="production", **production)) as client:
        page = await client.get("/sign-in")
        assert "; secure" in page.headers["set-cookie"].lower()
        assert "Who are you?" not in page.text  # no development sign-in in production
        refused = await client.post("/sign-in/dev", data={"person": "admin", "csrf_token": "x"})
        assert refused.status_code == 404
        assert (await client.get("/")).headers["location"] == "/sign-in"


async def test_a_form_without_its_csrf_token_changes_nothing(
    tmp_path: Path, monitoring: ServiceRuntime
) -> None:
    async with console(console_settings(tmp_path), monitoring) as client:
        refused = await client.post("/sign-in/dev", data={"person": "commissioner"})
        assert refused.status_code == 403 and "could not be sent" in refused.text
        await sign_in(client, "monitoring_officer")
        alert = await alert_row(monitoring)
        for token in ("", "forged"):
            answer = await client.post(
                f"/alerts/{alert.alert_id}/acknowledge", data={"csrf_token": token}
            )
            assert answer.status_code == 403 and "nothing was changed" in answer.text
        assert (await alert_row(monitoring)).status == "open"


async def test_an_officer_acknowledges_and_resolves_an_alert(
    tmp_path: Path, monitoring: ServiceRuntime
) -> None:
    async with console(console_settings(tmp_path), monitoring) as client:
        csrf = await sign_in(client, "monitoring_officer")
        assert (await client.get("/")).headers["location"] == "/alerts"
        inbox = await client.get("/alerts")
        alert = await alert_row(monitoring)
        assert f"/alerts/{alert.alert_id}" in inbox.text and "Critical" in inbox.text

        done = await client.post(f"/alerts/{alert.alert_id}/acknowledge", data={"csrf_token": csrf})
        assert done.status_code == 303
        assert (await alert_row(monitoring)).acknowledged_by == "demo-officer"

        empty = await client.post(
            f"/alerts/{alert.alert_id}/resolve", data={"csrf_token": csrf, "outcome": "  "}
        )
        assert empty.status_code == 400
        assert 'class="govuk-error-summary"' in empty.text and 'href="#outcome"' in empty.text
        assert (await alert_row(monitoring)).status == "acknowledged"

        resolved = await client.post(
            f"/alerts/{alert.alert_id}/resolve",
            data={"csrf_token": csrf, "outcome": "Improvement plan agreed"},
        )
        assert resolved.status_code == 303
        row = await alert_row(monitoring)
        assert (row.status, row.outcome) == ("resolved", "Improvement plan agreed")
        shown = await client.get(resolved.headers["location"])
        assert "The alert was resolved." in shown.text


async def test_what_the_services_refuse_is_a_page_not_a_crash(
    tmp_path: Path, monitoring: ServiceRuntime
) -> None:
    async with console(console_settings(tmp_path), monitoring) as client:
        csrf = await sign_in(client, "monitoring_officer")
        missing = await client.get("/alerts/no-such-alert")
        assert missing.status_code == 404 and "Page not found" in missing.text
        # A monitoring officer may not decide applications: refused before any call.
        refused = await client.post("/applications/a-1/decision", data={"csrf_token": csrf})
        assert refused.status_code == 403 and "You cannot see this page" in refused.text


async def test_a_service_that_is_down_gets_a_page_naming_it(tmp_path: Path) -> None:
    async with console(console_settings(tmp_path)) as client:
        await sign_in(client, "commissioner")
        down = await client.get("/providers")
        assert down.status_code == 503
        assert "the provider register" in down.text and "Traceback" not in down.text
        # The home page keeps what it can and names each section it cannot show.
        home = await client.get("/")
        assert (
            home.status_code == 200 and home.text.count("cannot be reached now") == 5
        )  # suspensions too


async def test_health_metrics_and_no_caching(tmp_path: Path) -> None:
    async with console(console_settings(tmp_path)) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok", "service": "console"}
        assert (await client.get("/readyz")).status_code == 200
        page = await client.get("/accessibility")
        assert "Accessibility statement" in page.text
        assert page.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        metrics = (await client.get("/metrics")).text
        assert 'service="console"' in metrics


async def test_the_inbox_filters_shows_time_before_escalation_and_assigns(
    tmp_path: Path, monitoring: ServiceRuntime
) -> None:
    alert = await alert_row(monitoring)
    assert alert.escalation_deadline is not None  # a critical alert escalates
    async with console(console_settings(tmp_path), monitoring) as client:
        csrf = await sign_in(client, "monitoring_officer")
        inbox = await client.get("/alerts", params={"severity": "critical", "provider_id": "p-1"})
        assert f"/alerts/{alert.alert_id}" in inbox.text and "Before escalation" in inbox.text
        assert re.search(r"\d+ (days \d+ )?hours|Escalation due now", inbox.text)
        elsewhere = await client.get("/alerts", params={"provider_id": "p-2"})
        assert f"/alerts/{alert.alert_id}" not in elsewhere.text
        calm = await client.get("/alerts", params={"severity": "info"})
        assert "There are no open alerts" in calm.text

        mine = await client.post(f"/alerts/{alert.alert_id}/assign", data={"csrf_token": csrf})
        assert mine.status_code == 303
        assert (await alert_row(monitoring)).assigned_to == "demo-officer"
        theirs = await client.post(
            f"/alerts/{alert.alert_id}/assign", data={"csrf_token": csrf, "officer_id": "jo"}
        )
        assert theirs.status_code == 303 and (await alert_row(monitoring)).assigned_to == "jo"
        assert "Assigned to" in (await client.get(f"/alerts/{alert.alert_id}")).text


async def test_the_inbox_is_paginated_most_severe_first_keeping_its_filters(
    tmp_path: Path, monitoring: ServiceRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.console.routes import alerts as inbox

    critical = await alert_row(monitoring)
    async with monitoring.db.session() as session:
        warning = AlertRow.model_validate(
            {
                **critical.model_dump(),
                "alert_id": "a-warning",
                "severity": "warning",
                "dedupe_key": "other-cause",
                "open_key": "other-cause",
            }
        )
        session.add(warning)
        await session.commit()
    monkeypatch.setattr(inbox, "PER_PAGE", 1)
    async with console(console_settings(tmp_path), monitoring) as client:
        await sign_in(client, "monitoring_officer")
        first = (await client.get("/alerts", params={"provider_id": critical.provider_id})).text
        assert f"/alerts/{critical.alert_id}" in first and "/alerts/a-warning" not in first
        assert "2 open alerts" in first and 'class="govuk-pagination"' in first
        assert f"provider_id={critical.provider_id}&amp;page=2" in first  # filters kept
        second = (await client.get("/alerts", params={"page": 2})).text
        assert "/alerts/a-warning" in second and f"/alerts/{critical.alert_id}" not in second
        beyond = await client.get("/alerts", params={"page": 99})  # the last page instead
        assert beyond.status_code == 200 and "/alerts/a-warning" in beyond.text
        assert (await client.get("/alerts", params={"page": 0})).status_code in (400, 422)
