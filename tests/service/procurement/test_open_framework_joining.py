"""Issue 19 over HTTP: an open framework takes applications to join only in the window
before a framework's award (Procurement Act 2023 s.49(1)), shows its windows in the
scheme view and the portal, and is not reopened past the one-supplier limit (s.49(6))."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from services.procurement import domain as d
from services.procurement.models import membership_row
from shared.contracts.common import Role
from tests.fixtures import today
from tests.service.procurement.conftest import Driver, scheme_body
from tests.service.procurement.test_pa2023_regimes import framework_body

DM = {"regime": "pa2023_dynamic_market", "established_on": None, "light_touch": True}


def future_framework() -> dict[str, object]:
    """An open framework whose first award is 45 days away: its first window is open."""
    start = today() + timedelta(days=45)
    return scheme_body(
        regime="pa2023_open_framework",
        established_on=None,
        term_start=start.isoformat(),
        term_end=(start + timedelta(days=6 * 365)).isoformat(),
        reopening_dates=[
            (start + timedelta(days=2 * 365)).isoformat(),
            (start + timedelta(days=5 * 365)).isoformat(),
        ],
    )


async def test_a_supplier_joins_an_open_framework_only_in_its_window(proc: Driver) -> None:
    async with proc.client() as c:
        r = await c.post("/schemes", json=future_framework())
        assert r.status_code == 201, r.text
        joining = r.json()["joining"]
        first = r.json()["scheme_id"]
        r = await c.post("/schemes", json=framework_body())  # its first award was 30 days ago
        assert r.status_code == 201, r.text
        running = r.json()
    assert joining["joins_at_any_time"] is False and joining["open_now"] is True
    window = joining["open_window"]
    assert window["framework"] == 1 and window["opens_on"] == today().isoformat()
    assert date.fromisoformat(window["closes_on"]) < date.fromisoformat(window["award_on"])
    assert joining["members_carry_over"] is True and "s.49(1)" in joining["source"]
    await proc.admit(first, "p-1")  # in the window: applies and is admitted

    # Between reopenings a new supplier is refused, naming the field, the rule and the
    # next window.
    assert running["joining"]["open_now"] is False
    upcoming = running["joining"]["next_window"]
    assert upcoming["framework"] == 2
    await proc.register("p-2")
    async with proc.client(Role.PROVIDER, "p-2") as c:
        r = await c.post(
            f"/schemes/{running['scheme_id']}/applications",
            json={"requested_categories": ["asd-day"], "answers": {"ofsted": "Good"}},
        )
        assert r.status_code == 422, r.text
        (error,) = r.json()["detail"]
        assert error["field"] == "scheme_id" and "s.49(1)" in str(error)
        assert upcoming["opens_on"] in str(error)
        # The portal lists the schemes with the same joining data.
        r = await c.get("/portal/schemes")
        assert r.status_code == 200, r.text
        shown = {s["scheme_id"]: s["joining"] for s in r.json()}
    assert shown[first]["open_now"] is True and shown[running["scheme_id"]]["open_now"] is False
    # A dynamic market admits at any time.
    market = await proc.scheme(**DM)
    assert (await proc.get(f"/schemes/{market}")).json()["joining"]["joins_at_any_time"]
    await proc.admit(market, "p-2", register=False)


async def _member(proc: Driver, scheme_id: str, provider_id: str) -> None:
    """A supplier on the first framework (admitted in its window, before the term)."""
    m = d.Membership(
        scheme_id=scheme_id,
        provider_id=provider_id,
        category_code="asd-day",
        lot_code=None,
        quality_score=Decimal(80),
        admitted_on=today() - timedelta(days=40),
        application_id=f"before-{provider_id}",
    )
    async with proc.runtime.db.session() as session:
        session.add(membership_row(m))
        await session.commit()


async def test_a_one_supplier_framework_is_not_reopened_past_four_years(proc: Driver) -> None:
    async with proc.client() as c:
        r = await c.post("/schemes", json=framework_body())  # 6-year term
        scheme_id = r.json()["scheme_id"]
        await _member(proc, scheme_id, "p-1")
        r = await c.post(f"/schemes/{scheme_id}/reopenings", json={"reason": "reopening 1"})
        assert r.status_code == 422, r.text
        (error,) = r.json()["detail"]
        assert error["field"] == "term_end" and "s.49(6)" in str(error)
        assert (await c.get(f"/schemes/{scheme_id}")).json()["framework_number"] == 1
        await _member(proc, scheme_id, "p-2")
        r = await c.post(f"/schemes/{scheme_id}/reopenings", json={"reason": "reopening 1"})
        assert r.status_code == 201, r.text
        (held,) = r.json()["reopenings"]
        assert held["suppliers"] == 2 and held["single_supplier_expires_by"] is None
        assert r.json()["single_supplier_max_years"] == 4
