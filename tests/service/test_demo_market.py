"""The demo's Procurement Act 2023 dynamic market (dps.demo_market) established through
the real procurement service in-process, beside the demo's PCR 2015 DPS: the market under
its own regime and date, every member the plan decided admitted to its categories, and
the market's own need (OTH) called off under the market, inviting the plan's two bidders,
while a need both cover still goes to the older DPS (issue 19). The whole demo over the
running stack is tests/e2e/test_demo.py."""

from __future__ import annotations

import httpx

from dps.demo import Demo, DemoSummary
from dps.demo_market import MARKET_REGIME, establish_market, market_categories
from dps.demo_plan import MARKET_ONLY_NEED, MARKET_START, make_plan
from tests.conftest import TEST_SECRET
from tests.service.procurement.conftest import Driver, proc  # noqa: F401  (the fixture)
from tests.service.procurement.test_needs import need, raise_need


async def test_the_demo_market_is_established_beside_the_dps_with_its_members(
    proc: Driver,  # noqa: F811
) -> None:
    # The DPS as the demo sets it up: every category but the market's own.
    categories = [c for c in market_categories() if c["need_types"] != [MARKET_ONLY_NEED]]
    dps = await proc.scheme(title="The county's PCR 2015 DPS", categories=categories)
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
    assert market["light_touch"] is True
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

    # The market's own need is called off under the market, the two bidders invited.
    oth = need(primary_need=MARKET_ONLY_NEED, attendance="day")
    await raise_need(proc, oth)
    call_off = (await proc.get(f"/competitions/need-{oth.need_id}")).json()
    assert call_off["scheme_id"] == summary.market_id and call_off["regime"] == MARKET_REGIME
    invited = {i["provider_id"] for i in call_off["invitations"]}
    assert {plan.providers[i].provider_id for i in plan.market.request.bidders} <= invited
    # A need the DPS covers too still goes to the DPS (the oldest open scheme).
    bidder = plan.providers[plan.market.request.bidders[0]]
    asd = need(primary_need=bidder.needs[0], attendance="day", max_distance_km=None)
    await raise_need(proc, asd)
    other = (await proc.get(f"/competitions/need-{asd.need_id}")).json()
    assert other["scheme_id"] == dps and other["regime"] == "pcr2015_light_touch"
