"""Issue 12 over HTTP: bids with weeks placements cannot contract are refused (422 naming
the field); a block award at or above the light-touch threshold is "awarded, in
standstill"; notices are tracked and recorded sent/published; losing bidders get the
reg 55/86 information; no child reference in a published notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.procurement.activities import end_standstill, mark_notice_overdue
from services.procurement.workflow_types import ClockTick
from shared.contracts.common import Role
from tests.fixtures import today
from tests.service.procurement.conftest import Driver

CHILD_TITLE = "Placement for KCC-EHC-000123"


async def awarded(proc: Driver, **competition: Any) -> tuple[str, str]:
    """Two admitted bidders, p-1 wins on quality; returns (scheme id, competition id)."""
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    await proc.admit(scheme_id, "p-2")
    r = await proc.open(scheme_id, **competition)
    assert r.status_code == 201, r.text
    competition_id = str(r.json()["competition_id"])
    assert (await proc.bid(competition_id, "p-1", fee="1800.00")).status_code == 201
    assert (await proc.bid(competition_id, "p-2", fee="1500.00")).status_code == 201
    assert await proc.close(competition_id) == "evaluation"
    r = await proc.score_and_evaluate(competition_id, {"p-1": "9", "p-2": "5"})
    assert r.status_code == 200, r.text
    r = await proc.award(competition_id)
    assert r.status_code == 200, r.text
    return scheme_id, competition_id


BLOCK = {
    "kind": "block",
    "title": "Block of ASD day places",
    "places": 10,
    "need_ref": None,
    "term_start": (today() + timedelta(days=60)).isoformat(),
    "term_end": (today() + timedelta(days=60 + 3 * 365)).isoformat(),
    "filter": {"need_type": "ASD", "attendance": "day", "min_age": 10, "max_age": 12},
}


async def test_bid_with_weeks_placements_cannot_contract_gets_422_naming_the_field(
    proc: Driver,
) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    r = await proc.open(scheme_id)
    competition_id = r.json()["competition_id"]
    for weeks in (39, 44):
        r = await proc.bid(competition_id, "p-1", weeks_per_year=weeks)
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["detail"]] == ["weeks_per_year"], r.text
        assert "weeks_not_contractable" in r.text and "38 or 52" in r.text
    assert (await proc.bid(competition_id, "p-1", weeks_per_year=52)).status_code == 201


async def test_block_award_above_threshold_is_in_standstill_until_the_clock_ends_it(
    proc: Driver,
) -> None:
    _, competition_id = await awarded(proc, **BLOCK)
    (event,) = await proc.events("procurement.competition.awarded")
    # (1800 + 200 support) x 38 weeks x 3 years x 10 places: above £663,540.
    assert event["contract_value"] == "2280000.00"
    assert event["contract_awaits_standstill"] is True and event["standstill_ends_at"]
    view = (await proc.get(f"/competitions/{competition_id}")).json()
    assert view["status"] == "awarded" and view["award_status"] == "in_standstill"

    ends_at = datetime.fromisoformat(event["standstill_ends_at"])
    db, source = proc.runtime.db, proc.runtime.source
    before = ClockTick(subject=competition_id, now=ends_at - timedelta(seconds=1))
    assert await end_standstill(db, source, before) is False
    assert await proc.events("procurement.competition.standstill_ended") == []
    at_end = ClockTick(subject=competition_id, now=ends_at)
    assert await end_standstill(db, source, at_end) is True
    assert await end_standstill(db, source, at_end) is True  # once only
    (ended,) = await proc.events("procurement.competition.standstill_ended")
    assert ended["contract_value"] == event["contract_value"] and ended["standstill_ended_at"]
    view = (await proc.get(f"/competitions/{competition_id}")).json()
    assert view["award_status"] == "contract_concluded"


async def test_individual_award_is_valued_over_the_term_and_concluded_at_once(
    proc: Driver,
) -> None:
    _, competition_id = await awarded(proc)
    (event,) = await proc.events("procurement.competition.awarded")
    assert event["contract_value"] == "228000.00"  # (1800 + 200) x 38 x 3 years
    assert event["contract_awaits_standstill"] is False
    view = (await proc.get(f"/competitions/{competition_id}")).json()
    assert view["award_status"] == "contract_concluded"


async def test_notice_is_tracked_recorded_sent_then_published_and_filtered(proc: Driver) -> None:
    scheme_id, competition_id = await awarded(proc)
    tracking = (await proc.get("/notices/tracking", Role.MONITORING_OFFICER)).json()["notices"]
    (n,) = tracking
    assert (n["kind"], n["status"], n["competition_id"]) == ("award", "due", competition_id)
    assert n["notice_id"] == f"award-{competition_id}" and "reg 75" in n["rule"]

    async with proc.client(Role.PROVIDER, "p-1") as c:
        r = await c.post(f"/notices/{n['notice_id']}/publication", json={"status": "sent"})
        assert r.status_code == 403
    async with proc.client() as c:
        r = await c.post(
            f"/notices/{n['notice_id']}/publication",
            json={"status": "sent", "publication_ref": "FTS-2026-0001"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["sent_by"] and r.json()["sent_at"] and not r.json()["late"]
        r = await c.post(f"/notices/{n['notice_id']}/publication", json={"status": "published"})
        assert r.status_code == 200 and r.json()["publication_ref"] == "FTS-2026-0001"
        r = await c.post(f"/notices/{n['notice_id']}/publication", json={"status": "sent"})
        assert r.status_code == 409
        assert (
            await c.post("/notices/nope/publication", json={"status": "sent"})
        ).status_code == 404
    sent, published = await proc.events("procurement.notice.published")
    assert (sent["status"], published["status"]) == ("sent", "published")

    async def listed(**query: str) -> list[str]:
        r = await proc.get("/notices/tracking?" + "&".join(f"{k}={v}" for k, v in query.items()))
        assert r.status_code == 200, r.text
        return [x["notice_id"] for x in r.json()["notices"]]

    assert await listed(status="published", scheme_id=scheme_id) == [n["notice_id"]]
    assert await listed(status="due") == []
    assert await listed(overdue="true") == []
    assert await listed(kind="award", competition_id=competition_id) == [n["notice_id"]]
    notices = (await proc.get("/notices")).json()
    assert notices["quarters"][0]["notices"][0]["tracking"]["status"] == "published"


async def test_unpublished_notice_raises_the_overdue_event_once(proc: Driver) -> None:
    _, competition_id = await awarded(proc)
    (n,) = (await proc.get("/notices/tracking")).json()["notices"]
    due = datetime.fromisoformat(f"{n['due_on']}T23:00:00+00:00") + timedelta(hours=2)
    db, source = proc.runtime.db, proc.runtime.source
    on_time = ClockTick(subject=n["notice_id"], now=datetime.now(UTC))
    assert await mark_notice_overdue(db, source, on_time) is False
    late = ClockTick(subject=n["notice_id"], now=due)
    assert await mark_notice_overdue(db, source, late) is True
    assert await mark_notice_overdue(db, source, late) is True
    (overdue,) = await proc.events("procurement.notice.overdue")
    assert overdue["competition_id"] == competition_id and overdue["due_on"] == n["due_on"]
    r = await proc.get("/notices/tracking?overdue=true")
    assert [x["notice_id"] for x in r.json()["notices"]] == [n["notice_id"]]


async def test_losing_bidder_gets_scores_advantages_and_the_winners_name(proc: Driver) -> None:
    _, competition_id = await awarded(proc)
    loser = (await proc.get(f"/competitions/{competition_id}", Role.PROVIDER, "p-2")).json()
    fb = loser["feedback"]
    assert fb["outcome"] == "unsuccessful" and fb["own_rank"] == 2
    assert fb["winner_name"] == "School p-1"
    assert fb["own_quality_score"] == "30.00" and fb["winner_quality_score"] == "54.00"
    assert fb["relative_advantages"] == ["Fit: the winning bid scored 9.00, yours 5.00"]
    assert "1800" not in str(fb)  # the winner's price is not disclosed


async def test_published_notice_carries_no_child_reference(proc: Driver) -> None:
    _, competition_id = await awarded(proc, title=CHILD_TITLE)
    notices = (await proc.get("/notices")).json()
    text = str(notices)
    assert competition_id in text
    assert "KCC-EHC-000123" not in text and CHILD_TITLE not in text
