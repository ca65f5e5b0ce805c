"""The console's one mapping from a regime code to words (services/console/regimes.py),
and the pages that show it for every regime procurement has or will have: a legacy PCR
2015 DPS and the Procurement Act 2023's dynamic markets and open frameworks side by side
(issue 19)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.datastructures import FormData

from services.console import regimes
from services.console.render import ENV
from services.console.routes.needs import choices
from services.console.routes.scheme_form import given_of
from services.procurement import domain as d

CONTEXT: dict[str, Any] = {
    "person": None,
    "path": "/",
    "production": False,
    "training": None,
    "csrf_token": "",
    "cspNonce": None,
}
WORDS = {
    "pcr2015": "Public Contracts Regulations 2015 — dynamic purchasing system",
    "pcr2015_light_touch": (
        "Public Contracts Regulations 2015 — dynamic purchasing system, light-touch regime"
    ),
    "pa2023_dynamic_market": "Procurement Act 2023 — dynamic market",
    "pa2023_open_framework": "Procurement Act 2023 — open framework",
    "pa2023_dynamic_market_light_touch": (
        "Procurement Act 2023 — dynamic market, light-touch contracts"
    ),
}


def render(template: str, **context: Any) -> str:
    return ENV.get_template(template).render(**CONTEXT, **context)


@pytest.mark.parametrize(("code", "words"), WORDS.items())
def test_each_regime_reads_as_its_law_and_arrangement(code: str, words: str) -> None:
    assert regimes.regime_words(code) == words
    assert regimes.regime_source(code)  # where the law sets the arrangement up


def test_every_regime_procurement_knows_has_its_words() -> None:
    for code in d.RegimeCode:
        assert code.value in regimes.REGIME_WORDS


def test_a_regime_this_console_does_not_know_still_reads_as_words() -> None:
    assert regimes.regime_words("pa2023_competitive_flexible") == (
        "Procurement Act 2023 — competitive flexible"
    )
    assert regimes.regime_words("pa2023_framework_light_touch") == (
        "Procurement Act 2023 — framework, light-touch"
    )
    assert regimes.regime_words(None) == regimes.regime_words("") == "Regime not recorded"


def test_a_procurement_act_scheme_for_light_touch_services_says_so() -> None:
    assert regimes.effective_code("pa2023_open_framework", True) == (
        "pa2023_open_framework_light_touch"
    )
    assert regimes.effective_code("pcr2015_light_touch", True) == "pcr2015_light_touch"
    assert regimes.effective_code("pcr2015", True) == "pcr2015"  # PCR has its own code
    assert (
        regimes.regime_words("pa2023_dynamic_market", True)
        == (WORDS["pa2023_dynamic_market_light_touch"])
    )
    assert "s. 9" in regimes.regime_source("pa2023_open_framework", True)
    listed = regimes.regime_by_scheme(
        [
            {
                "scheme_id": "m",
                "reference": "M",
                "regime": "pa2023_dynamic_market",
                "light_touch": True,
            }
        ]
    )
    assert listed["m"] == "pa2023_dynamic_market_light_touch"


def test_the_tag_names_the_law_and_escapes() -> None:
    assert 'govuk-tag--blue">Procurement Act 2023</strong>' in regimes.regime_tag(
        "pa2023_open_framework"
    )
    assert 'govuk-tag--grey">PCR 2015</strong>' in regimes.regime_tag("pcr2015")
    odd = regimes.regime_tag("pcr2015_<script>")
    assert "<script>" not in odd and "&lt;script&gt;" in odd


def test_a_placement_says_what_it_was_let_under() -> None:
    assert regimes.contract_regime(None, None) == "Not let under a scheme"
    assert regimes.contract_regime("s-1", "pa2023_dynamic_market") == WORDS["pa2023_dynamic_market"]
    assert "not known" in regimes.contract_regime("s-1", None)
    assert regimes.contract_tag(None, None) == "Not under a scheme"
    assert regimes.contract_tag("s-1", None) == "Not known"
    assert "Procurement Act 2023" in regimes.contract_tag("s-1", "pa2023_dynamic_market")


def test_schemes_are_found_by_id_or_reference() -> None:
    found = regimes.regime_by_scheme(
        [{"scheme_id": "s-1", "reference": "DPS-1", "regime": "pcr2015"}]
    )
    assert found == {"s-1": "pcr2015", "DPS-1": "pcr2015"}


def test_the_scheme_form_offers_both_laws() -> None:
    choices = regimes.regime_choices("")
    assert [c["value"] for c in choices] == list(regimes.CHOICES)
    assert [c["value"] for c in choices if c["checked"]] == ["pcr2015_light_touch"]
    assert {c["text"] for c in choices} >= {WORDS["pa2023_dynamic_market"], WORDS["pcr2015"]}
    form = render(
        "schemes/form.html",
        errors=[],
        form={"regime": "pa2023_open_framework"} | _blank_form(),
        scheme=None,
        rows={"categories": 1, "lots": 1, "selection_questions": 1, "quality_questions": 1},
    )
    assert 'value="pa2023_open_framework" checked' in form
    assert WORDS["pa2023_dynamic_market"] in form and "s. 49" in form


def _blank_form() -> dict[str, Any]:
    given = given_of(FormData())
    given.pop("regime")
    return given


def test_the_scheme_list_shows_both_regimes_side_by_side() -> None:
    html = render(
        "schemes/list.html",
        schemes=[
            _scheme("s-1", "pcr2015_light_touch"),
            _scheme("s-2", "pa2023_dynamic_market"),
            _scheme("s-3", "pa2023_open_framework"),
        ],
    )
    for code in ("pcr2015_light_touch", "pa2023_dynamic_market", "pa2023_open_framework"):
        assert WORDS[code] in html


def test_a_call_off_page_says_its_regime() -> None:
    call_off = {
        "competition_id": "c-1",
        "scheme_id": "s-2",
        "regime": "pa2023_open_framework",
        "title": "Placement",
        "status": "open",
        "kind": "individual",
        "round": 1,
        "spec": {"filter": {"need_type": "ASD", "attendance": "day"}, "places": 1},
        "invitations": [],
        "screenings": [],
        "clarifications_close_at": None,
        "bids": [],
        "award": None,
    }
    html = render(
        "calloffs/page.html",
        call_off=call_off,
        live_bids=[],
        questions=[],
        own_sheet={},
        scores=[],
        names={},
        may_act=False,
        errors=[],
        form={},
        clarifications=[],
        done="",
        updating=None,
        placement=None,
    )
    assert WORDS["pa2023_open_framework"] in html


def _scheme(scheme_id: str, regime: str) -> dict[str, Any]:
    return {
        "scheme_id": scheme_id,
        "reference": scheme_id.upper(),
        "title": f"Scheme {scheme_id}",
        "regime": regime,
        "status": "open",
        "term_end": "2030-01-31",
    }


def test_a_call_off_by_hand_offers_each_scheme_with_its_regime() -> None:
    scheme = _scheme("s-2", "pa2023_dynamic_market") | {
        "categories": [
            {"code": "OTH-day", "name": "Other, day", "need_types": ["OTH"], "attendance": ["day"]}
        ]
    }
    offered = choices([scheme], {"primary_need": "OTH", "attendance": "day"})
    assert offered[0]["text"] == f"Scheme s-2 (S-2, {WORDS['pa2023_dynamic_market']}): Other, day"


@pytest.mark.parametrize(
    ("code", "cites_pcr"), [("pcr2015_light_touch", True), ("pa2023_open_framework", False)]
)
def test_amending_a_live_scheme_names_its_regime_and_only_its_law(
    code: str, cites_pcr: bool
) -> None:
    html = render(
        "schemes/amend.html",
        scheme=_scheme("s-1", code) | {"status": "open"},
        errors=[],
        form={"title": "T"},
        next_extension=None,
    )
    assert WORDS[code] in html
    assert ("reg 34(27)(a)" in html) is cites_pcr
