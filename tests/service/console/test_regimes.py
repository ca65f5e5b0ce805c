"""Both regimes side by side in the console (issue 19), against the real procurement and
placements services in-process: every page that shows a scheme, a call-off or a contract
says in words which law it is under — the scheme list and page, the call-off list, page
and CSV, the award, the placement the award made, and the provider portal's schemes,
call-off and placement pages."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx

from services.console.app import build_app
from shared.contracts.common import Role
from tests.service.console.test_calloffs import form_of
from tests.service.console.test_console import console_settings, sign_in
from tests.service.console.test_schemes import new_scheme_form
from tests.service.placements.conftest import Placements, placements  # noqa: F401
from tests.service.procurement.conftest import Driver, proc  # noqa: F401  (the fixture)

PCR_LIGHT = "Public Contracts Regulations 2015 — dynamic purchasing system, light-touch regime"
PCR_FULL = "Public Contracts Regulations 2015 — dynamic purchasing system"
PA_MARKET = "Procurement Act 2023 — dynamic market"


def console_over(
    driver: Driver, tmp_path: Path, service: Placements | None = None
) -> httpx.AsyncClient:
    """The console with procurement (and placements, when given) in-process."""
    overrides = {"procurement_url": "http://procurement"}
    transports: dict[str, httpx.AsyncBaseTransport] = {
        "procurement": httpx.ASGITransport(app=driver.runtime.build_app())
    }
    if service is not None:
        overrides["placements_url"] = "http://placements"
        transports["placements"] = httpx.ASGITransport(app=service.runtime.build_app())
    app = build_app(console_settings(tmp_path, **overrides), transports)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


async def awarded_call_off(driver: Driver, scheme_id: str, **competition: object) -> str:
    """p-1 and p-2 admitted, both bid, the deadline passes, ranked and approved."""
    await driver.admit(scheme_id, "p-1", score=80)
    await driver.admit(scheme_id, "p-2", score=70)
    opened = await driver.open(scheme_id, **competition)
    assert opened.status_code == 201, opened.text
    competition_id = str(opened.json()["competition_id"])
    for provider_id, fee in (("p-1", "1500.00"), ("p-2", "1700.00")):
        assert (await driver.bid(competition_id, provider_id, fee=fee)).status_code == 201
    assert await driver.close(competition_id) == "evaluation"
    ranked = await driver.score_and_evaluate(competition_id, {"p-1": "8", "p-2": "6"})
    assert ranked.status_code == 200, ranked.text
    approved = await driver.award(competition_id)  # not the evaluator who scored
    assert approved.status_code == 200, approved.text
    return competition_id


async def test_a_pcr_dps_and_its_call_off_say_their_regime_on_every_page(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    light = await proc.scheme(title="Light-touch DPS")
    full = await proc.scheme(title="Full DPS", regime="pcr2015", narrowing_published=False)
    competition_id = await awarded_call_off(proc, light)

    # The API says the call-off's regime, to the council and to an invited bidder.
    council = (await proc.get(f"/competitions/{competition_id}")).json()
    bidder = (
        await proc.get(f"/competitions/{competition_id}", Role.PROVIDER, provider_id="p-2")
    ).json()
    assert council["regime"] == bidder["regime"] == "pcr2015_light_touch"

    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "monitoring_officer")
        listed = (await client.get("/schemes")).text
        assert PCR_LIGHT in listed and f'<td class="govuk-table__cell">{PCR_FULL}</td>' in listed
        page = (await client.get(f"/schemes/{light}")).text
        assert PCR_LIGHT in page and "PCR 2015 reg 34" in page
        assert "recorded with its original date" in page  # established before 24 Feb 2025
        assert 'class="govuk-tag govuk-tag--grey">PCR 2015</strong>' in page
        assert PCR_FULL in (await client.get(f"/schemes/{full}")).text

        calloffs = (await client.get("/call-offs", params={"stage": "awarded"})).text
        assert f"/call-offs/{competition_id}" in calloffs and PCR_LIGHT in calloffs
        page = (await client.get(f"/call-offs/{competition_id}")).text
        assert page.count(PCR_LIGHT) == 2  # the call-off, and the contract its award made
        assert "Contract under" in page
        download = await client.get("/call-offs.csv", params={"stage": "awarded"})
        rows = list(csv.DictReader(io.StringIO(download.text)))
        assert [r["regime"] for r in rows] == [PCR_LIGHT]

    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "provider:p-2")
        page = (await client.get(f"/portal/call-offs/{competition_id}")).text
        assert PCR_LIGHT in page
        schemes = (await client.get("/portal/schemes")).text
        assert PCR_LIGHT in schemes and PCR_FULL in schemes


async def test_a_placement_says_the_regime_of_the_scheme_it_was_let_under(
    proc: Driver,  # noqa: F811
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    scheme_id = await proc.scheme(regime="pcr2015", narrowing_published=False)
    let = await placements.active_placement(scheme_id=scheme_id)
    other = await placements.active_placement("KCC-EHC-000999", scheme_id="elsewhere")
    async with console_over(proc, tmp_path, placements) as client:
        await sign_in(client, "commissioner")
        page = (await client.get(f"/placements/{let.placement_id}")).text
        assert PCR_FULL in page
        page = (await client.get(f"/placements/{other.placement_id}")).text
        assert "Under scheme elsewhere (its regime is not known here)" in page
        listed = (await client.get("/placements")).text
        assert 'govuk-tag--grey">PCR 2015</strong>' in listed and "Not known" in listed
        download = await client.get("/placements.csv")
        regimes = {
            r["placement_id"]: r["regime"] for r in csv.DictReader(io.StringIO(download.text))
        }
        assert regimes[let.placement_id] == PCR_FULL
        assert regimes[other.placement_id].startswith("Under scheme elsewhere")
    async with console_over(proc, tmp_path, placements) as client:
        await sign_in(client, "provider:p-1")
        page = (await client.get(f"/portal/placements/{let.placement_id}")).text
        assert "Contract under" in page and PCR_FULL in page


async def test_a_dynamic_market_beside_the_dps_says_procurement_act_2023(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    dps = await proc.scheme(title="Legacy DPS")
    market = await proc.scheme(
        title="Dynamic market",
        regime="pa2023_dynamic_market",
        established_on=None,
        narrowing_published=False,
    )
    # Every member of the market's category is invited: no ad hoc age screening.
    unscreened = {"need_type": "ASD", "attendance": "day"}
    competition_id = await awarded_call_off(proc, market, filter=unscreened)
    await proc.scheme(
        title="Light touch market",
        regime="pa2023_dynamic_market",
        light_touch=True,
        established_on=None,
        narrowing_published=False,
    )
    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "commissioner")
        listed = (await client.get("/schemes")).text
        assert PA_MARKET in listed and PCR_LIGHT in listed  # side by side
        assert f"{PA_MARKET}, light-touch contracts" in listed
        page = (await client.get(f"/schemes/{market}")).text
        assert PA_MARKET in page and "ss. 34-40" in page
        assert 'class="govuk-tag govuk-tag--blue">Procurement Act 2023</strong>' in page
        assert PCR_LIGHT in (await client.get(f"/schemes/{dps}")).text
        page = (await client.get(f"/call-offs/{competition_id}")).text
        assert page.count(PA_MARKET) == 2 and PCR_LIGHT not in page


async def test_a_commissioner_sets_up_a_light_touch_dynamic_market_in_the_console(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "commissioner")
        form = (await client.get("/schemes/new")).text
        assert PA_MARKET in form and "Procurement Act 2023 — open framework" in form
        fields = new_scheme_form(
            reference="DM-CONSOLE-1",
            regime="pa2023_dynamic_market",
            light_touch="yes",
            **{"established_on-day": "", "established_on-month": "", "established_on-year": ""},
        )
        made = await client.post("/schemes/new", data={**form_of(form, "/schemes/new"), **fields})
        assert made.status_code == 303, made.text
        page = (await client.get(made.headers["location"])).text
        assert f"{PA_MARKET}, light-touch contracts" in page and "s. 9" in page
