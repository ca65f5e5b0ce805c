"""Schemes and the application clock through the console, against the real procurement
service in-process: the list, a scheme's page (lots and thresholds, award criteria,
regime, members by lot), extending an application's evaluation with a reason, and the
applications CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.service.console.test_applications import (
    console_over,
    plain_application,
    two_applications,
)
from tests.service.console.test_calloffs import form_of
from tests.service.console.test_console import sign_in
from tests.service.procurement.conftest import TIERED, Driver, proc  # noqa: F401  (the fixture)


async def test_a_scheme_shows_its_lots_criteria_regime_and_members(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    scheme_id = await proc.scheme(**TIERED)
    await proc.admit(scheme_id, "p-1", score=80)
    async with proc.client() as c:
        listed = (await c.get("/schemes")).json()
        assert [s["scheme_id"] for s in listed] == [scheme_id]
        assert (await c.get("/schemes", params={"status": "sideways"})).status_code == 422
    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "monitoring_officer")
        assert f"/schemes/{scheme_id}" in (await client.get("/schemes")).text
        page = (await client.get(f"/schemes/{scheme_id}")).text
        assert "Lot 2" in page and "60" in page  # a lot and its minimum quality score
        assert "Fit (scored 0 to 10, weight 1)" in page  # the published award criteria
        assert "PCR 2015 light-touch regime" in page
        assert "Lot lot2" in page and "/providers/p-1" in page  # p-1 (80) in the higher lot
        assert (await client.get("/schemes/nope")).status_code == 404


async def test_a_commissioner_extends_the_evaluation_with_a_reason(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    first, _ = await two_applications(proc)
    action = f"/applications/{first}/extension"
    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "commissioner")
        page = (await client.get(f"/applications/{first}")).text
        no_reason = await client.post(action, data=form_of(page, action))
        assert no_reason.status_code == 400 and 'href="#extension_reason"' in no_reason.text
        fields = {**form_of(page, action), "extension_reason": "Site visit needed"}
        twice = [await client.post(action, data=fields) for _ in range(2)]
        assert [r.status_code for r in twice] == [303, 303]  # the same form acts once
        page = (await client.get(twice[0].headers["location"])).text
        assert "The evaluation was extended." in page and "Site visit needed" in page
        assert f'action="{action}"' not in page  # once only
        # Another form (another key): the service's 409 in an error summary.
        again = await client.post(action, data={**fields, "idempotency_key": "another"})
        assert again.status_code == 400 and "govuk-error-summary" in again.text

        download = await client.get("/applications.csv")
        rows = {r["application_id"]: r for r in csv.DictReader(io.StringIO(download.text))}
        assert rows[first]["extension_reason"] == "Site visit needed"
    async with proc.client() as c:
        assert (await c.get(f"/applications/{first}")).json()["evaluation_working_days"] == 15


async def test_a_decision_shows_each_refused_category_with_its_reason(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    plain = await plain_application(proc, "p-3")
    async with proc.client() as c:
        refused = await c.post(
            f"/applications/{plain}/decision",
            json={"refused_categories": {"asd-day": "No autism-trained staff"}},
        )
        assert refused.status_code == 200, refused.text
    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "commissioner")
        page = (await client.get(f"/applications/{plain}")).text
        assert "asd-day: No autism-trained staff" in page
        assert "Extend the evaluation" not in page  # decided: no clock to extend
