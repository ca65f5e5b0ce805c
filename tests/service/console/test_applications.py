"""Procurement's lists for the console (worklist_api) and the console's decision form,
against the real procurement service in-process (providers arrive as providers.v1 events)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import httpx

from services.console.app import build_app
from shared.contracts.common import Role
from tests.service.console.test_console import console_settings, csrf_of
from tests.service.procurement.conftest import Driver, proc  # noqa: F401  (the fixture)


def console_over(driver: Driver, tmp_path: Path) -> httpx.AsyncClient:
    settings = console_settings(tmp_path, procurement_url="http://procurement")
    transports: dict[str, httpx.AsyncBaseTransport] = {
        "procurement": httpx.ASGITransport(app=driver.runtime.build_app())
    }
    app = build_app(settings, transports)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


def hidden_fields(html: str, action: str) -> dict[str, str]:
    """The hidden fields (CSRF token, one-time key) of the form posting to `action`."""
    start = html.index(f'action="{action}"')
    chunk = html[start : html.index("</form>", start)]
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]+)"', chunk))


async def two_applications(driver: Driver) -> tuple[str, str]:
    scheme_id = await driver.scheme()
    await driver.register("p-1")
    await driver.register("p-2")
    return await driver.apply(scheme_id, "p-1"), await driver.apply(scheme_id, "p-2")


async def test_applications_and_call_offs_are_listed_for_readers(proc: Driver) -> None:  # noqa: F811
    first, second = await two_applications(proc)
    assert (await proc.decide(first)).status_code == 200
    async with proc.client(Role.MONITORING_OFFICER) as reader:
        waiting = (await reader.get("/applications", params={"status": "submitted"})).json()
        assert [a["application_id"] for a in waiting] == [second]
        assert waiting[0]["evaluation_due_on"] and waiting[0]["decision"] is None
        decided = (await reader.get("/applications", params={"status": "decided"})).json()
        assert decided[0]["decision"]["outcome"] == "admitted"
        one = (await reader.get(f"/applications/{second}")).json()
        assert one["answers"] == {"ofsted": "Good", "quality": "See attached"}
        assert (await reader.get("/applications/nope")).status_code == 404
        assert (await reader.get("/competitions", params={"status": "open"})).json() == []
        bad = await reader.get("/competitions", params={"status": "sideways"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["field"].startswith("query")
    async with proc.client(Role.PROVIDER, "p-1") as provider:
        assert (await provider.get("/applications")).status_code == 403


async def plain_application(driver: Driver, provider_id: str) -> str:
    """An application to a scheme with no selection questions (nothing to assess)."""
    scheme_id = await driver.scheme(selection_questions=[], pass_mark="0")
    await driver.register(provider_id)
    async with driver.client(Role.PROVIDER, provider_id) as c:
        r = await c.post(
            f"/schemes/{scheme_id}/applications", json={"requested_categories": ["asd-day"]}
        )
    assert r.status_code == 201, r.text
    return str(r.json()["application_id"])


async def test_a_commissioner_decides_through_the_console(proc: Driver, tmp_path: Path) -> None:  # noqa: F811
    questioned, _ = await two_applications(proc)
    plain = await plain_application(proc, "p-3")
    async with console_over(proc, tmp_path) as client:
        csrf = csrf_of((await client.get("/sign-in")).text)
        await client.post("/sign-in/dev", data={"person": "commissioner", "csrf_token": csrf})
        listed = await client.get("/applications")
        assert (
            f"/applications/{questioned}" in listed.text and f"/applications/{plain}" in listed.text
        )

        page = await client.get(f"/applications/{questioned}")
        assert "See attached" in page.text  # the provider's answers
        csrf = csrf_of(page.text)  # signing in began a new session with a new token
        no_reason = await client.post(
            f"/applications/{questioned}/decision", data={"csrf_token": csrf, "outcome": "refuse"}
        )
        assert no_reason.status_code == 400 and 'href="#reason"' in no_reason.text
        # Every selection question needs an assessment: each missing one is named in the
        # error summary and beside its own input.
        unassessed = await client.post(
            f"/applications/{questioned}/decision", data={"csrf_token": csrf, "outcome": "admit"}
        )
        assert unassessed.status_code == 400
        assert 'class="govuk-error-summary"' in unassessed.text
        assert 'href="#assessment-1"' in unassessed.text  # ofsted: pass or fail
        assert 'href="#assessment-2"' in unassessed.text  # quality: a score
        assert "Select pass or fail for Inspection outcome" in unassessed.text
        wrong = await client.post(
            f"/applications/{questioned}/decision",
            data={
                "csrf_token": csrf,
                "outcome": "admit",
                "assessment-1": "fail",
                "assessment-2": "101",
            },
        )
        assert wrong.status_code == 400
        assert 'href="#note-1"' in wrong.text and "Enter why Inspection outcome fails" in wrong.text
        assert "Score for Quality must be a number from 0 to 100" in wrong.text
        assert 'value="101"' in wrong.text  # what was typed is kept

        page = await client.get(f"/applications/{questioned}")
        action = f"/applications/{questioned}/decision"
        fields = {
            **hidden_fields(page.text, action),
            "outcome": "admit",
            "assessment-1": "pass",
            "note-1": "Good at last inspection",
            "assessment-2": "75",
        }
        twice = [await client.post(action, data=fields) for _ in range(2)]
        assert [r.status_code for r in twice] == [303, 303]  # one key: decided once
        async with proc.client() as c:
            decision = (await c.get(f"/applications/{questioned}")).json()["decision"]
        assert decision["outcome"] == "admitted"
        assert Decimal(str(decision["quality_score"])) == 75
        passed = {c["criterion"]: c["passed"] for c in decision["criteria"]}
        assert passed["question:ofsted"] and passed["question:quality"]

        refused = await client.post(
            f"/applications/{plain}/decision",
            data={"csrf_token": csrf, "outcome": "refuse", "reason": "Not a fit for the lot"},
        )
        assert refused.status_code == 303
        async with proc.client() as c:
            decision = (await c.get(f"/applications/{plain}")).json()["decision"]
        assert decision["outcome"] == "rejected"
        assert decision["refused_categories"] == [
            {"category_code": "asd-day", "reason": "Not a fit for the lot"}
        ]

        # Deciding twice (a second tab, a double submit): procurement's 409 is shown as
        # the error summary, and nothing changes.
        again = await client.post(
            f"/applications/{plain}/decision", data={"csrf_token": csrf, "outcome": "admit"}
        )
        assert again.status_code == 400
        assert 'class="govuk-error-summary"' in again.text and "already decided" in again.text
        async with proc.client() as c:
            assert (await c.get(f"/applications/{plain}")).json()["decision"][
                "outcome"
            ] == "rejected"
