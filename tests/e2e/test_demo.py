"""`dps demo` against the whole stack as separate processes: the county it loads through
the public contracts shows on every screen at once, with spend that grows in the shape of
a large county's, and loading it again with the same seed is refused (nothing doubles)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from dps.demo import Demo, DemoAlreadyLoaded, make_plan
from services.placements.domain import financial_year_label
from shared.contracts.common import Role
from shared.settings import SERVICES
from tests.conftest import TEST_SECRET
from tests.e2e.conftest import RunningStack
from tests.e2e.steps import ok, token

pytestmark = pytest.mark.e2e

SEED, SCALE = 7, 0.05


def demo_for(stack: RunningStack) -> Demo:
    return Demo(
        SEED,
        SCALE,
        urls={name: stack.url(name) for name in SERVICES},
        kafka_bootstrap=stack.plan.kafka_bootstrap,
        secret=TEST_SECRET,
        wait_s=240,
    )


@pytest.mark.timeout(900)
async def test_demo_county_through_the_public_contracts(running_stack: RunningStack) -> None:
    stack = running_stack
    summary = await demo_for(stack).run()
    plan = make_plan(SEED, SCALE)
    assert plan.spend == make_plan(SEED, SCALE).spend  # deterministic for a seed

    # spend by financial year, from the placements ledger: exactly the plan, and within a
    # few per cent of the county's real growth (£27.9m, £34.2m, £39.8m, £49.2m, then +12%)
    placements = stack.client("placements", token(Role.COMMISSIONER))
    years = sorted(plan.targets)
    spend = {
        fy: Decimal(str(ok(placements.get("/spend", params={"financial_year": fy}))["total"]))
        for fy in years
    }
    assert spend == {fy: plan.spend[fy] for fy in years}
    assert summary.spend_by_year == {financial_year_label(fy): spend[fy] for fy in years}
    for fy in years:
        assert abs(spend[fy] / plan.targets[fy] - 1) < Decimal("0.05"), fy
    assert all(spend[a] < spend[b] for a, b in itertools.pairwise(years))
    first = ok(placements.get("/spend", params={"financial_year": years[0]}))
    last = ok(placements.get("/spend", params={"financial_year": years[-1]}))
    assert Decimal(str(first["on_contract"])) == 0  # before the DPS: all spot purchases
    assert Decimal(str(last["on_contract"])) > 0 and Decimal(str(last["off_contract"])) > 0

    # the monitoring dashboard saw the same spend (through placements.v1), the budgets,
    # the overdue reviews and the open alerts
    monitoring = stack.client("monitoring", token(Role.MONITORING_OFFICER))
    dashboard = ok(monitoring.get("/dashboard"))
    by_year = {row["financial_year"]: row for row in dashboard["spend_by_year"]}
    for fy in years:
        assert Decimal(str(by_year[fy]["spend"])) == spend[fy]
        assert Decimal(str(by_year[fy]["budget"])) == plan.budgets[fy]
    assert dashboard["reviews_overdue"] >= 1
    assert sum(dashboard["open_alerts_by_severity"].values()) >= 1
    assert ok(monitoring.get("/alerts", params={"status": "open"}))

    # open competitions with the members invited, some with bids; open applications
    procurement = stack.client("procurement", token(Role.COMMISSIONER))
    assert summary.open_competitions == len(plan.requests) >= 3
    assert summary.invitations >= summary.open_competitions and summary.bids >= 1
    needs = ok(placements.get("/needs", params={"child_ref": plan.requests[0].child_ref}))
    competition = ok(procurement.get(f"/competitions/need-{needs['items'][0]['need_id']}"))
    assert competition["status"] == "open" and competition["invitations"]
    members = ok(procurement.get(f"/schemes/{summary.scheme_id}/members"))
    assert members
    assert summary.members == sum(p.admitted for p in plan.providers) >= 1
    assert summary.applications_open == sum(p.applies and not p.admitted for p in plan.providers)

    # reviews overdue in placements too
    overdue = ok(placements.get("/placements", params={"review_due_before": str(plan.today)}))
    assert overdue["total"] >= 1

    # the same seed again is refused, and the figures stay as they were
    with pytest.raises(DemoAlreadyLoaded):
        await demo_for(stack).run()
    again = {
        fy: Decimal(str(ok(placements.get("/spend", params={"financial_year": fy}))["total"]))
        for fy in years
    }
    assert again == spend
