"""The demo county runs both regimes side by side (issue 19): its PCR 2015 DPS recorded
with its original establishment date, before the Procurement Act 2023 went live, and a
Procurement Act 2023 dynamic market established after it — and adding the market changes
none of the DPS county's figures (tests/e2e/test_demo.py checks them against the stack)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dps.demo_market import MARKET_REGIME, market_categories
from dps.demo_plan import (
    DPS_END,
    DPS_START,
    MARKET,
    MARKET_ONLY_NEED,
    MARKET_START,
    PA2023_GO_LIVE,
    make_plan,
)
from services.procurement import domain as d

TODAY = date(2026, 12, 6)


def test_the_dps_predates_the_act_and_the_market_follows_it() -> None:
    pcr = d.REGIMES[d.RegimeCode.PCR2015_LIGHT_TOUCH]
    assert PA2023_GO_LIVE == pcr.new_schemes_before  # the same date procurement enforces
    assert DPS_START < PA2023_GO_LIVE <= MARKET_START
    assert pcr.long_stop is not None and DPS_END <= pcr.long_stop
    assert d.RegimeCode(MARKET_REGIME) is d.RegimeCode.PA2023_DYNAMIC_MARKET


# (seed, scale) -> providers, placements, DPS-or-market awards, requests, DPS members,
# total committed spend: the county as it was before the market was added beside it.
BEFORE_THE_MARKET = {
    (7, 0.05): (15, 215, 35, 3, 4, Decimal("39712449.86")),
    (1, 0.02): (12, 96, 22, 3, 2, Decimal("15781130.62")),
}


@pytest.mark.parametrize(("seed", "scale"), BEFORE_THE_MARKET)
def test_the_dps_county_keeps_its_figures(seed: int, scale: float) -> None:
    plan = make_plan(seed, scale, today=TODAY)
    assert (
        len(plan.providers),
        len(plan.placements),
        sum(p.source == "dps_award" for p in plan.placements),
        len(plan.requests),
        sum(p.admitted for p in plan.providers),
        sum(plan.spend.values()),
    ) == BEFORE_THE_MARKET[(seed, scale)]


@pytest.mark.parametrize(("seed", "scale"), [(7, 0.05), (1, 0.02), (3, 0.3)])
def test_the_market_has_members_awards_and_a_call_off_of_its_own(seed: int, scale: float) -> None:
    plan = make_plan(seed, scale, today=TODAY)
    assert plan.market is not None
    market = [p for p in plan.placements if p.scheme == MARKET]
    awards_since = [
        p for p in plan.placements if p.source == "dps_award" and p.start >= MARKET_START
    ]
    # Every second award since the market opened went through it; none before it.
    assert len(market) == len(awards_since) // 2 >= 1
    assert all(p.source == "dps_award" and p.start >= MARKET_START for p in market)
    members = set(plan.market.members)
    assert {p.provider for p in market} <= members
    assert members == {p.index for p in plan.providers if p.in_market}
    # The call-off: a need the DPS has no category for, two members who offer it.
    request = plan.market.request
    assert request.need == MARKET_ONLY_NEED and request.attendance == "day"
    assert len(request.bidders) == 2 and set(request.bidders) <= members
    for index in request.bidders:
        bidder = plan.providers[index]
        assert "day" in bidder.attendance and MARKET_ONLY_NEED in bidder.body()["need_types"]
        assert f"{MARKET_ONLY_NEED}-day" in bidder.market_categories()
        assert f"{MARKET_ONLY_NEED}-day" not in bidder.categories()  # not a DPS category
    # Imported awards name the scheme they were called off under.
    item = market[0].item(plan.providers, "dps-id", "market-id")
    assert item["scheme_ref"] == "market-id"
    dps_award = next(p for p in plan.placements if p.source == "dps_award" and p.scheme != MARKET)
    assert dps_award.item(plan.providers, "dps-id", "market-id")["scheme_ref"] == "dps-id"
    assert make_plan(seed, scale, today=TODAY).market == plan.market  # deterministic


def test_the_market_covers_the_dps_categories_and_its_own() -> None:
    codes = {c["code"] for c in market_categories()}
    assert {"ASD-day", "ASD-residential", "OTH-day", "OTH-residential"} <= codes
    assert len(codes) == len(market_categories()) == 24
