"""The demo's Procurement Act 2023 dynamic market (dps.demo_market) established through
the real procurement service in-process, beside a PCR 2015 DPS: the market under its own
regime and date, and every member the plan decided admitted to its categories (issue 19).
The whole demo over the running stack is tests/e2e/test_demo.py."""

from __future__ import annotations

import httpx
import pytest

from dps.demo import Demo, DemoSummary
from dps.demo_market import MARKET_REGIME, establish_market
from dps.demo_plan import MARKET_START, make_plan
from services.procurement import domain as d
from tests.conftest import TEST_SECRET
from tests.service.procurement.conftest import Driver, proc  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(
    not d.REGIMES[d.RegimeCode.PA2023_DYNAMIC_MARKET].supported,
    reason="Procurement Act 2023 dynamic markets are refused until supported",
)


async def test_the_demo_market_is_established_beside_the_dps_with_its_members(
    proc: Driver,  # noqa: F811
) -> None:
    dps = await proc.scheme(title="The county's PCR 2015 DPS")
    plan = make_plan(7, 0.05)
    assert plan.market is not None
    for index in plan.market.members:
        provider = plan.providers[index]
        provider.provider_id = f"p-{index}"
        need_types = sorted({*provider.needs, *provider.market_needs})
        await proc.register(provider.provider_id, need_types=need_types)
    demo = Demo(7, 0.05, urls={"procurement": "http://procurement"}, secret=TEST_SECRET)
    demo.say = lambda _line: None
    demo._clients["procurement"] = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=proc.runtime.build_app()), base_url="http://procurement"
    )
    summary = DemoSummary(seed=7, scale=0.05)
    try:
        await establish_market(demo, plan, summary)
    finally:
        await demo._clients["procurement"].aclose()

    market = (await proc.get(f"/schemes/{summary.market_id}")).json()
    assert market["regime"] == MARKET_REGIME and market["status"] == "open"
    assert market["established_on"] == MARKET_START.isoformat()
    assert (await proc.get(f"/schemes/{dps}")).json()["regime"] == "pcr2015_light_touch"
    members = (await proc.get(f"/schemes/{summary.market_id}/members")).json()["members"]
    admitted = {(m["provider_id"], m["category_code"]) for m in members if m["status"] == "active"}
    expected = {
        (plan.providers[i].provider_id, code)
        for i in plan.market.members
        for code in plan.providers[i].market_categories()
    }
    assert admitted == expected
    assert summary.market_members == len(plan.market.members) >= 2
    assert summary.market_placements == sum(p.scheme == "market" for p in plan.placements)
