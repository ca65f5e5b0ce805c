"""Issue 19 in the console, against the real procurement and placements services
in-process: the notices page (every kind in words with its form, regime, due date,
status and source; filtered by regime; recording one sent or published), the statutory
returns page (SEN2 validated with its broken rules and downloads; the Transparency Code
CSV), the scheme's OCDS release package, and a direct award with the notices and
standstill that apply. Each with its role refusals and its bad input as form errors."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tests.service.console.test_calloffs import form_of
from tests.service.console.test_console import sign_in
from tests.service.console.test_regimes import console_over
from tests.service.placements.conftest import Placements, placements  # noqa: F401
from tests.service.procurement.conftest import Driver, proc  # noqa: F401  (the fixture)
from tests.service.procurement.test_act_notices import awarded_under_the_act

PA_MARKET = "Procurement Act 2023 — dynamic market"
SUMMARY = 'class="govuk-error-summary"'


async def test_notices_show_every_kind_and_the_commissioner_records_publication(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    _, competition_id = await awarded_under_the_act(proc)
    award_id = f"contract-award-{competition_id}"
    async with console_over(proc, tmp_path) as client:
        csrf = await sign_in(client, "commissioner")
        listed = await client.get("/notices")
        assert listed.status_code == 200, listed.text
        page = listed.text
        assert "Contract award notice (UK6)" in page and "(UK7)" in page
        assert PA_MARKET in page and "s.50(1)" in page and "s.53(1)" in page
        assert 'govuk-tag govuk-tag--blue">Due</strong>' in page
        assert f'href="/notices/{award_id}/publication"' in page
        assert 'href="/notices"' in page and 'href="/returns"' in page  # the navigation

        only_act = (await client.get("/notices", params={"regime": "pa2023_dynamic_market"})).text
        assert "Contract award notice (UK6)" in only_act
        pcr = await client.get("/notices", params={"regime": "pcr2015_light_touch"})
        assert pcr.status_code == 200 and "No notice is owed under" in pcr.text
        bad = await client.get("/notices", params={"regime": "pcr1066"})
        assert bad.status_code == 400 and SUMMARY in bad.text
        assert 'href="#regime"' in bad.text

        form = (await client.get(f"/notices/{award_id}/publication")).text
        assert "Contract award notice (UK6)" in form and "s.50(1)" in form
        hidden = form_of(form, f"/notices/{award_id}/publication")
        empty = await client.post(f"/notices/{award_id}/publication", data=hidden)
        assert empty.status_code == 400 and 'href="#status"' in empty.text
        assert "Choose sent or published" in empty.text
        too_long = {**hidden, "status": "sent", "publication_ref": "x" * 201}
        refused = await client.post(f"/notices/{award_id}/publication", data=too_long)
        assert refused.status_code == 400 and 'href="#publication_ref"' in refused.text

        done = await client.post(
            f"/notices/{award_id}/publication",
            data={**hidden, "status": "published", "publication_ref": "FTS-2026-0042"},
        )
        assert done.status_code == 303, done.text
        after = (await client.get(done.headers["location"])).text
        assert "Contract award notice recorded as published." in after
        assert 'govuk-tag--green">Published</strong>' in after
        assert "Published by " in after and "reference FTS-2026-0042" in after
        assert csrf  # signed in with a session token
    [award] = [
        n
        for n in (await proc.get("/notices/tracking")).json()["notices"]
        if n["notice_id"] == award_id
    ]
    assert award["status"] == "published" and award["publication_ref"] == "FTS-2026-0042"

    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "monitoring_officer")
        page = (await client.get("/notices")).text
        assert "Contract award notice (UK6)" in page
        assert "Record sent or published" not in page
        refused_page = await client.get(f"/notices/{award_id}/publication")
        assert refused_page.status_code == 403
    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "provider:p-1")
        assert (await client.get("/notices")).status_code == 403


async def test_statutory_returns_validate_sen2_and_download_both_returns(
    placements: Placements,  # noqa: F811
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    placement = await placements.active_placement("KCC-EHC-000810")
    need_id = await placements.request_need("KCC-EHC-000812")
    year = datetime.now(UTC).year + 1  # the next January census covers it
    async with console_over(proc, tmp_path, placements) as client:
        await sign_in(client, "commissioner")
        # A need's page offers the direct award for it, named by the need's reference.
        need_page = (await client.get(f"/needs/{need_id}/call-off")).text
        assert f'href="/direct-awards/new?need_ref={need_id}"' in need_page
        empty = await client.get("/returns")
        assert empty.status_code == 200 and 'action="/returns"' in empty.text
        checked = await client.get("/returns", params={"year": str(year)})
        assert checked.status_code == 200, checked.text
        page = checked.text
        assert f"SEN2 {year}" in page and "1 rule broken" in page
        # The provider was never registered, so the placement has no establishment URN.
        assert f"/placements/{placement.placement_id}" in page
        assert ">urn</td>" in page and "SEN2" in page
        assert f'href="/returns/sen2.xml?year={year}"' in page
        assert f'href="/returns/sen2.json?year={year}"' in page

        xml = await client.get("/returns/sen2.xml", params={"year": str(year)})
        assert xml.status_code == 200 and xml.headers["content-type"] == "application/xml"
        assert "attachment" in xml.headers["content-disposition"]
        assert ET.fromstring(xml.content).findtext("Persons/Person/ChildRef") == "KCC-EHC-000810"
        got = await client.get("/returns/sen2.json", params={"year": str(year)})
        assert got.status_code == 200 and json.loads(got.content)["valid"] is False

        for wrong, says in (
            ("", "Enter the census year"),
            ("20x7", "a year in 4 digits"),
            ("1999", "between 2023 and 2100"),
        ):
            bad = await client.get("/returns", params={"year": wrong})
            assert bad.status_code == 400 and SUMMARY in bad.text and says in bad.text
            assert 'href="#year"' in bad.text
        bad = await client.get("/returns/sen2.xml", params={"year": "soon"})
        assert bad.status_code == 400 and 'href="#year"' in bad.text

        quarter = f"{date.today().year}-Q{(date.today().month - 1) // 3 + 1}"
        listed = await client.get(
            "/returns/transparency-contracts.csv", params={"quarter": quarter}
        )
        assert listed.status_code == 200, listed.text
        assert listed.headers["content-type"].startswith("text/csv")
        assert f"transparency-contracts-{quarter}.csv" in listed.headers["content-disposition"]
        assert csv.reader(io.StringIO(listed.text)).__next__()  # the Code's header row
        for wrong in ("", "2026-3", "Q3 2026"):
            bad = await client.get("/returns/transparency-contracts.csv", params={"quarter": wrong})
            assert bad.status_code == 400 and SUMMARY in bad.text
            assert 'href="#quarter"' in bad.text

    async with console_over(proc, tmp_path, placements) as client:
        await sign_in(client, "monitoring_officer")
        assert (await client.get("/returns")).status_code == 403
        assert (await client.get("/returns/sen2.xml", params={"year": year})).status_code == 403
        assert 'href="/returns"' not in (await client.get("/notices")).text


async def test_the_scheme_page_links_its_ocds_release_package(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    scheme_id = await proc.scheme(title="OCDS DPS")
    link = f'href="/schemes/{scheme_id}/ocds-releases.json"'
    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "commissioner")
        assert link in (await client.get(f"/schemes/{scheme_id}")).text
        got = await client.get(f"/schemes/{scheme_id}/ocds-releases.json")
        assert got.status_code == 200, got.text
        assert got.headers["content-type"] == "application/json"
        assert "attachment" in got.headers["content-disposition"]
        package = json.loads(got.content)
        assert package["version"] == "1.1" and package["releases"]
        assert all(r["ocid"] for r in package["releases"])
    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "monitoring_officer")
        assert link in (await client.get(f"/schemes/{scheme_id}")).text
    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "admin")
        assert link not in (await client.get(f"/schemes/{scheme_id}")).text
        assert (await client.get(f"/schemes/{scheme_id}/ocds-releases.json")).status_code == 403


def _award_form(hidden: dict[str, str], ground: str, start: date, end: date | None) -> dict:
    return {
        **hidden,
        "need_ref": "NEED-7F3A",
        "provider_id": "p-1",
        "ground": ground,
        "justification": "The parent's preference for this named school (need NEED-7F3A).",
        "contract_value": "48,000.00",
        "start_date-day": str(start.day),
        "start_date-month": str(start.month),
        "start_date-year": str(start.year),
        "end_date-day": str(end.day) if end else "",
        "end_date-month": str(end.month) if end else "",
        "end_date-year": str(end.year) if end else "",
        "light_touch": "yes",
    }


async def test_a_direct_award_shows_the_notices_and_standstill_that_apply(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    start = date.today() + timedelta(days=14)
    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "commissioner")
        form = await client.get("/direct-awards/new", params={"need_ref": "NEED-7F3A"})
        assert form.status_code == 200 and 'value="NEED-7F3A"' in form.text
        assert "Schedule 5 para 15" in form.text and "Schedule 5 para 13" in form.text
        hidden = form_of(form.text, "/direct-awards/new")

        empty = await client.post("/direct-awards/new", data=hidden)
        assert empty.status_code == 400 and SUMMARY in empty.text
        for href in ("#need_ref", "#provider_id", "#ground", "#justification"):
            assert f'href="{href}"' in empty.text
        assert 'href="#contract_value"' in empty.text and 'href="#start_date-day"' in empty.text

        unreal = {**_award_form(hidden, "user_choice", start, None), "start_date-month": "13"}
        refused = await client.post("/direct-awards/new", data=unreal)
        assert refused.status_code == 400 and "Start date must be a real date" in refused.text

        # Procurement refuses an urgent award with no end date: shown against the field.
        urgent = _award_form(hidden, "extreme_urgency", start, None)
        refused = await client.post("/direct-awards/new", data=urgent)
        assert refused.status_code == 400, refused.text
        assert 'href="#end_date-day"' in refused.text and "End date:" in refused.text
        assert "urgency strictly needs" in refused.text
        # The form shown again carries a new one-time key (the refused one is spent).
        hidden = form_of(refused.text, "/direct-awards/new")
        backwards = _award_form(hidden, "user_choice", start, start - timedelta(days=1))
        refused = await client.post("/direct-awards/new", data=backwards)
        assert refused.status_code == 400 and 'href="#end_date-day"' in refused.text

        hidden = form_of(refused.text, "/direct-awards/new")
        chosen = _award_form(hidden, "user_choice", start, start + timedelta(days=300))
        done = await client.post("/direct-awards/new", data=chosen)
        assert done.status_code == 303, done.text
        page = (await client.get(done.headers["location"])).text
        assert "The direct award was recorded." in page and "User choice contract" in page
        assert "for need NEED-7F3A" in page and "£48000.00" in page
        assert "Not required. Procurement Act 2023 s.44" in page  # no transparency notice
        assert "s.50(6)(b)" in page and "None. " in page  # no award notice, no standstill

        hidden = form_of((await client.get("/direct-awards/new")).text, "/direct-awards/new")
        urgent = _award_form(hidden, "extreme_urgency", start, start + timedelta(days=60))
        done = await client.post("/direct-awards/new", data=urgent)
        assert done.status_code == 303, done.text
        page = (await client.get(done.headers["location"])).text
        assert "Required: publish it before the award" in page and "s.51(3)" in page
        urgent_page = done.headers["location"].split("?")[0]

    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "monitoring_officer")
        assert (await client.get("/direct-awards/new")).status_code == 403
        assert "Extreme and unavoidable urgency" in (await client.get(urgent_page)).text
    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "provider:p-1")
        assert (await client.get(urgent_page)).status_code == 403
