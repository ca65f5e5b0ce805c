"""The demo county's second arrangement: a Procurement Act 2023 dynamic market beside its
PCR 2015 DPS (issue 19), loaded through the same public contracts as the rest of the demo.

- The market (`pa2023_dynamic_market`, Procurement Act 2023 ss. 34-40, for light touch
  contracts as placements are, s.9) is established on
  MARKET_START, after the Act's go-live, with the DPS's categories and one of its own
  (SEN2 OTH, "other difficulty or disability", which the old DPS never covered).
- Its members apply and are admitted: the providers of the call-off awards made through
  it since it opened (imported with the placements, naming the market as their scheme),
  and two DPS members offering day places.
- A placement request for the market's own need is routed by procurement to the market
  (the only open scheme with a category for it): its call-off invites the members and
  both bid. It stays open for its tender period, as the DPS's call-offs do: award
  follows its deadline (in a rehearsal, `dps clock advance` walks the days).
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from dps.demo_plan import (
    MARKET_END,
    MARKET_ONLY_NAME,
    MARKET_ONLY_NEED,
    MARKET_START,
    NEED_NAMES,
    NEEDS,
    DemoPlan,
    ProviderPlan,
    weeks_fee,
)
from shared.auth import issue_token
from shared.contracts.common import Role

if TYPE_CHECKING:
    from dps.demo import Demo, DemoSummary

MARKET_REGIME = "pa2023_dynamic_market"


def market_categories() -> list[dict[str, Any]]:
    """The DPS's categories (need type by day or residential), and the market's own."""
    names = {**NEED_NAMES, MARKET_ONLY_NEED: MARKET_ONLY_NAME}
    return [
        {
            "code": f"{need}-{kind}",
            "name": f"{names[need]}, {kind}",
            "need_types": [need],
            "attendance": ["day"] if kind == "day" else ["residential_38", "residential_52"],
        }
        for need in (*NEEDS, MARKET_ONLY_NEED)
        for kind in ("day", "residential")
    ]


async def establish_market(demo: Demo, plan: DemoPlan, summary: DemoSummary) -> None:
    """Set up the dynamic market and admit its members (after the DPS: a need either
    could take is still routed to the older DPS)."""
    market = await demo.call(
        "procurement",
        "POST",
        "/schemes",
        json={
            "reference": f"DEMO-NMISS-DM-{demo.seed}",
            "title": "Non-maintained and independent special school placements dynamic market",
            "regime": MARKET_REGIME,
            # School and residential placements are light touch services (Act s.9).
            "light_touch": True,
            "term_start": MARKET_START.isoformat(),
            "term_end": MARKET_END.isoformat(),
            "established_on": MARKET_START.isoformat(),  # after the Act's go-live
            # The Act's call-offs invite every member of the relevant part of the market.
            "narrowing_published": False,
            "categories": market_categories(),
        },
        expect=(201,),
    )
    summary.market_id = str(market["scheme_id"])
    members = [p for p in plan.providers if p.in_market]
    demo.say(f"dynamic market {summary.market_id}: {len(members)} providers join ...")

    async def join(p: ProviderPlan) -> None:
        token = issue_token(demo.secret, Role.PROVIDER, provider_id=p.provider_id)
        body = {"requested_categories": p.market_categories()}
        path = f"/schemes/{summary.market_id}/applications"

        async def submitted() -> Any:
            async with demo.limit:
                r = await demo.client("procurement").post(
                    path, json=body, headers={"Authorization": f"Bearer {token}"}
                )
            if r.status_code == 201:
                return r.json()
            if r.status_code not in (404, 409, 422):
                raise RuntimeError(f"POST {path}: {r.status_code} {r.text[:500]}")
            return None

        application = await demo.until(f"market application of {p.name}", submitted)
        await demo.call(
            "procurement",
            "POST",
            f"/applications/{application['application_id']}/decision",
            json={},
        )

    await demo.each(members, join)
    summary.market_members = len(members)
    summary.market_placements = sum(p.scheme == "market" for p in plan.placements)


async def market_call_off(demo: Demo, plan: DemoPlan, summary: DemoSummary) -> None:
    """A placement request for the market's own need; its call-off under the market and
    the two members' bids."""
    assert plan.market is not None
    r = plan.market.request
    today = plan.today
    await demo._publish([demo._placement_requested(r, today)])

    async def need() -> Any:
        found = await demo.call("placements", "GET", "/needs", params={"child_ref": r.child_ref})
        return found["items"]

    need_id = (await demo.until(f"need of {r.child_ref}", need))[0]["need_id"]

    async def competition() -> Any:
        async with demo.limit:
            got = await demo.client("procurement").get(
                f"/competitions/need-{need_id}",
                headers={"Authorization": f"Bearer {demo.commissioner}"},
            )
        return got.json() if got.status_code == 200 else None

    comp = dict(await demo.until(f"market call-off for {r.child_ref}", competition))
    if comp.get("scheme_id") != summary.market_id:
        raise RuntimeError(f"the market's need was called off under {comp.get('scheme_id')}")
    summary.market_call_offs = 1
    invited = {i["provider_id"] for i in comp.get("invitations", [])}
    published = (comp.get("spec") or {}).get("quality_questions") or []
    questions = [q["question_id"] for q in published if q.get("question_id")] or ["fit"]
    for index in r.bidders:
        provider_id = plan.providers[index].provider_id
        if provider_id not in invited:
            demo.say(f"  market member {plan.providers[index].name} was not invited")
            continue
        weeks, fee = weeks_fee(r.attendance, today.year, random.Random(f"{r.child_ref}{index}"))
        try:
            await demo.call(
                "procurement",
                "POST",
                f"/competitions/{comp['competition_id']}/bids",
                token=issue_token(demo.secret, Role.PROVIDER, provider_id=provider_id),
                json={
                    "fee_basis": "weekly",
                    "core_fee": str(fee),
                    "weeks_per_year": weeks,
                    "start_date": (today + timedelta(days=60)).isoformat(),
                    "answers": {q: "Small classes, on-site therapy team" for q in questions},
                },
                expect=(201,),
            )
        except RuntimeError as refused:  # as the DPS's call-offs: said, and the load goes on
            demo.say(f"  market bid refused: {refused}")
            continue
        summary.market_bids += 1
