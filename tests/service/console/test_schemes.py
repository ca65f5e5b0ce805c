"""Schemes and the application clock through the console, against the real procurement
service in-process: the list, a scheme's page (lots and thresholds, award criteria,
regime, members by lot), extending an application's evaluation with a reason, and the
applications CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

from tests.fixtures import today
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
        assert "Public Contracts Regulations 2015 — dynamic purchasing system, light-touch" in page
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


def new_scheme_form(**overrides: str) -> dict[str, str]:
    """A filled-in scheme form: an imported light-touch DPS with one category, one lot,
    two selection questions and the award criteria."""
    start, end = today() - timedelta(days=30), today() + timedelta(days=365)
    extension = end + timedelta(days=365)
    fields = {
        "reference": "DPS-CONSOLE-1",
        "title": "Console DPS",
        "regime": "pcr2015_light_touch",
        "min_tender_days": "10",
        "pass_mark": "30",
        "categories-1-code": "asd-day",
        "categories-1-name": "ASD day",
        "categories-1-need_types": "ASD, SLCN",
        "categories-1-attendance": "day",
        "selection_questions-1-question_id": "Q1",
        "selection_questions-1-text": "Inspection outcome",
        "selection_questions-1-kind": "pass_fail",
        "selection_questions-2-question_id": "Q2",
        "selection_questions-2-text": "Quality of provision",
        "selection_questions-2-kind": "scored",
        "selection_questions-2-max_score": "10",
        "selection_questions-2-weight": "1",
        "lots-1-code": "lot1",
        "lots-1-name": "Lot 1",
        "lots-1-min_quality_score": "30",
        "quality_weight": "60",
        "price_weight": "40",
        "quality_questions-1-question_id": "fit",
        "quality_questions-1-text": "Fit",
        "quality_questions-1-max_score": "10",
        "quality_questions-1-weight": "1",
        "open": "no",
    }
    for name, day in (
        ("established_on", date(2024, 12, 2)),
        ("term_start", start),
        ("term_end", end),
        ("extension_1", extension),
    ):
        fields.update({f"{name}-day": str(day.day), f"{name}-month": str(day.month)})
        fields[f"{name}-year"] = str(day.year)
    fields.update(overrides)
    return fields


async def test_a_commissioner_sets_up_and_amends_a_scheme(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "commissioner")
        assert 'href="/schemes/new"' in (await client.get("/schemes")).text
        page = (await client.get("/schemes/new")).text
        hidden = form_of(page, "/schemes/new")
        # The console cannot read a date; procurement refuses weights not adding to 100
        # and a lot threshold out of 100: each in the summary, linked to its input.
        bad = await client.post(
            "/schemes/new",
            data={**hidden, **new_scheme_form(**{"term_end-month": "13", "price_weight": "50"})},
        )
        assert bad.status_code == 400 and 'href="#term_end-day"' in bad.text
        # Each page drawn carries a new one-time key (the same key with another body is
        # refused by procurement's idempotency).
        hidden = form_of(bad.text, "/schemes/new")
        bad = await client.post(
            "/schemes/new",
            data={**hidden, **new_scheme_form(**{"price_weight": "50"})},
        )
        assert bad.status_code == 400 and 'href="#price_weight"' in bad.text
        assert "weights must sum to 100" in bad.text
        hidden = form_of(bad.text, "/schemes/new")
        bad = await client.post(
            "/schemes/new",
            data={**hidden, **new_scheme_form(**{"lots-1-min_quality_score": "120"})},
        )
        assert bad.status_code == 400 and 'href="#lots-1-min_quality_score"' in bad.text
        assert 'value="120"' in bad.text  # what was typed is kept

        hidden = form_of(bad.text, "/schemes/new")
        created = await client.post("/schemes/new", data={**hidden, **new_scheme_form()})
        assert created.status_code == 303, created.text
        scheme_path = created.headers["location"].split("?")[0]
        scheme_id = scheme_path.rsplit("/", 1)[1]
        shown = (await client.get(created.headers["location"])).text
        assert "The scheme was saved." in shown and "Console DPS" in shown
        async with proc.client() as c:
            scheme = (await c.get(f"/schemes/{scheme_id}")).json()
        assert scheme["status"] == "draft" and scheme["lots"][0]["min_quality_score"] == "30"
        assert [q["kind"] for q in scheme["selection_questions"]] == ["pass_fail", "scored"]

        # A draft: the whole form, filled in; a lot threshold changes.
        edit = (await client.get(f"{scheme_path}/edit")).text
        assert 'value="Quality of provision"' in edit and 'value="lot1"' in edit
        amended = await client.post(
            f"{scheme_path}/edit",
            data={
                **form_of(edit, f"{scheme_path}/edit"),
                **new_scheme_form(**{"lots-1-min_quality_score": "40"}),
            },
        )
        assert amended.status_code == 303, amended.text
        async with proc.client() as c:
            assert (await c.get(f"/schemes/{scheme_id}")).json()["lots"][0][
                "min_quality_score"
            ] == "40"
            opened = await c.post(f"/schemes/{scheme_id}/status", json={"action": "open"})
            assert opened.status_code == 200

        # Open: only the title and the next extension, with a reason.
        edit = (await client.get(f"{scheme_path}/edit")).text
        assert "lots-1-min_quality_score" not in edit and "cannot change" in edit
        hidden = form_of(edit, f"{scheme_path}/edit")
        no_reason = await client.post(
            f"{scheme_path}/edit", data={**hidden, "title": "Console DPS 2", "extend": "yes"}
        )
        assert no_reason.status_code == 400 and 'href="#reason"' in no_reason.text
        done = await client.post(
            f"{scheme_path}/edit",
            data={**hidden, "title": "Console DPS 2", "extend": "yes", "reason": "Demand"},
        )
        assert done.status_code == 303, done.text
        async with proc.client() as c:
            scheme = (await c.get(f"/schemes/{scheme_id}")).json()
        assert scheme["title"] == "Console DPS 2" and len(scheme["extensions"]) == 1
        assert scheme["period_notices"][0]["change"] == "extended"
        edit = (await client.get(f"{scheme_path}/edit")).text
        assert "allows no further extension" in edit


async def test_only_a_commissioner_sets_up_or_amends_schemes(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    scheme_id = await proc.scheme()
    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "monitoring_officer")
        assert 'href="/schemes/new"' not in (await client.get("/schemes")).text
        assert "Amend this scheme" not in (await client.get(f"/schemes/{scheme_id}")).text
        assert (await client.get("/schemes/new")).status_code == 403
        assert (await client.get(f"/schemes/{scheme_id}/edit")).status_code == 403
