"""Call-off competitions over HTTP: invitations (tiers, late joiners), bids, evaluation,
award and notices; each bad-input case of issue 4 refused with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from services.procurement.models import BidRow, CompetitionRow, InvitationRow
from shared.contracts.common import Role
from shared.infra_models import OutboxMessage
from tests.service.procurement.conftest import GLASGOW, TIERED, Driver
from tests.service.procurement.test_schemes_and_applications import fields, rules


async def opened(proc: Driver, scheme_id: str, **overrides: object) -> str:
    r = await proc.open(scheme_id, **overrides)
    assert r.status_code == 201, r.text
    return str(r.json()["competition_id"])


async def test_competition_invites_all_eligible_members_and_keeps_evidence(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    await proc.admit(scheme_id, "p-2")
    await proc.register("p-far", latlon=GLASGOW)
    await proc.admit(scheme_id, "p-far", register=False)
    competition_id = await opened(
        proc,
        scheme_id,
        filter={
            "need_type": "ASD",
            "attendance": "day",
            "min_age": 10,
            "max_age": 10,
            "max_distance_km": 50,
            "origin_postcode_district": "ME14",
        },
    )
    body = (await proc.get(f"/competitions/{competition_id}")).json()
    assert [i["provider_id"] for i in body["invitations"]] == ["p-1", "p-2"]
    assert all(i["reason"] == "initial" and i["invited_at"] for i in body["invitations"])
    far = next(s for s in body["screenings"] if s["provider_id"] == "p-far")
    assert not far["eligible"] and "km away" in far["reasons"][0]
    opened_event = (await proc.events("procurement.competition.opened"))[0]
    assert opened_event["invited_count"] == 2 and opened_event["filter"]["max_distance_km"] == 50
    assert len(await proc.events("procurement.provider.invited")) == 2


async def test_competition_routes_check_roles(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    competition_id = await opened(proc, scheme_id)
    for role in (Role.PROVIDER, Role.MONITORING_OFFICER):
        async with proc.client(role, "p-1") as c:
            assert (await c.post("/competitions", json={})).status_code == 403
            r = await c.post(f"/competitions/{competition_id}/award", json={"decision": "approve"})
            assert r.status_code == 403
    async with proc.client(Role.COMMISSIONER) as c:
        r = await c.post(f"/competitions/{competition_id}/bids", json={})
        assert r.status_code == 403
    async with proc.client(Role.COUNCIL_SYSTEM) as c:
        assert (await c.get(f"/competitions/{competition_id}")).status_code == 403
    async with proc.client(None) as c:
        assert (await c.get(f"/competitions/{competition_id}")).status_code == 401
        assert (await c.get("/notices")).status_code == 401
    # A provider sees only call-offs it was invited to, and only its own part.
    assert (
        await proc.get(f"/competitions/{competition_id}", Role.PROVIDER, "p-9")
    ).status_code == 404
    own = (await proc.get(f"/competitions/{competition_id}", Role.PROVIDER, "p-1")).json()
    assert own["invited_at"] and "invitations" not in own
    assert (await proc.get("/competitions/nope")).status_code == 404


async def test_bad_competitions_are_refused_and_nothing_is_written(proc: Driver) -> None:
    scheme_id = await proc.scheme(regime="pcr2015")
    await proc.admit(scheme_id, "p-1")
    before = await proc.count(OutboxMessage)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    soon = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    cases = [
        ({"quality_weight": 50, "price_weight": 40}, "price_weight", "weights_must_sum_to_100"),
        ({"deadline_at": past}, "deadline_at", "deadline_in_past"),
        ({"deadline_at": soon}, "deadline_at", "tender_period_too_short"),
        (
            {"deadline_at": soon, "urgent_reason": "urgent"},
            "deadline_at",
            "urgent shortening is not allowed",
        ),
        (
            {"filter": {"need_type": "SEMH", "attendance": "day"}},
            "filter.need_type",
            "filter_outside_category",
        ),
        ({"category_code": "zzz"}, "category_code", "unknown"),
        (
            {"filter": {"need_type": "ASD", "attendance": "day", "max_distance_km": 10}},
            "filter.origin",
            "required",
        ),
    ]
    plain = {"filter": {"need_type": "ASD", "attendance": "day"}}  # full PCR: no ad hoc filter
    for overrides, field, rule in cases:
        r = await proc.open(scheme_id, **{**plain, **overrides})
        assert r.status_code == 422, (overrides, r.text)
        assert fields(r) == {field} and rule in rules(r), r.text
    r = await proc.open(scheme_id, deadline_at="2030-01-01T00:00:00")  # naive: no zone
    assert r.status_code == 422 and fields(r) == {"deadline_at"}
    assert (await proc.open("nope")).status_code == 404
    assert await proc.count(CompetitionRow) == 0
    assert await proc.count(OutboxMessage) == before


async def test_urgent_light_touch_call_off_may_be_shorter_with_reason(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    soon = (datetime.now(UTC) + timedelta(days=3, minutes=5)).isoformat()
    r = await proc.open(scheme_id, deadline_at=soon, urgent_reason="child out of school")
    assert r.status_code == 201 and r.json()["urgent_reason"] == "child out of school"


async def test_no_eligible_members_is_422_with_an_alert_event(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    r = await proc.open(
        scheme_id, filter={"need_type": "ASD", "attendance": "day", "min_age": 20, "max_age": 20}
    )
    assert r.status_code == 422 and fields(r) == {"category_code"}
    assert "no_eligible_members" in rules(r) and "age range" in rules(r)
    alert = (await proc.events("procurement.competition.no_eligible_members"))[0]
    assert alert["members_screened"] == 1 and "age range" in alert["reasons"][0]
    assert await proc.events("procurement.competition.opened") == []
    assert await proc.count(InvitationRow) == 0


async def test_bids_one_live_per_provider_and_each_refusal_has_a_reason(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    await proc.admit(scheme_id, "p-2")
    await proc.admit(scheme_id, "p-3")
    competition_id = await opened(proc, scheme_id)
    first = await proc.bid(competition_id, "p-1", fee="1500.00")
    assert first.status_code == 201 and first.json()["version"] == 1
    second = await proc.bid(competition_id, "p-1", fee="1400.00")
    assert (
        second.json()["version"] == 2 and second.json()["replaces_bid_id"] == first.json()["bid_id"]
    )
    async with proc.runtime.db.session() as session:
        bids = (await session.exec(select(BidRow).order_by(BidRow.version))).all()
    assert [(b.version, b.superseded) for b in bids] == [(1, True), (2, False)]
    # uninvited (never a member)
    await proc.register("p-out")
    r = await proc.bid(competition_id, "p-out")
    assert r.status_code == 422 and "not_invited" in rules(r)
    # malformed
    r = await proc.bid(competition_id, "p-2", fee="0")
    assert r.status_code == 422 and fields(r) == {"core_fee"} and "bid_malformed" in rules(r)
    r = await proc.bid(competition_id, "p-2", fee="12.345")
    assert r.status_code == 422 and "bid_malformed" in rules(r)
    r = await proc.bid(competition_id, "p-2", answers={})
    assert r.status_code == 422 and fields(r) == {"answers.fit"}
    r = await proc.bid(competition_id, "p-2", weeks_per_year="many")
    assert r.status_code == 422 and fields(r) == {"weeks_per_year"}
    # suspended in the register: memberships suspended, cannot bid
    await proc.set_status("p-2", "suspended")
    r = await proc.bid(competition_id, "p-2")
    assert r.status_code == 422 and "member_not_active" in rules(r)
    assert (await proc.bid("nope", "p-3")).status_code == 404
    # late: the deadline has passed (the workflow has not closed it yet)
    async with proc.runtime.db.transaction() as session:
        row = await session.get(CompetitionRow, competition_id)
        assert row is not None
        row.deadline_at = datetime.now(UTC) - timedelta(seconds=1)
        session.add(row)
    r = await proc.bid(competition_id, "p-3")
    assert r.status_code == 422 and "bid_late" in rules(r)
    assert len(await proc.events("procurement.bid.received")) == 2


async def test_expired_document_stops_a_bid_naming_the_document(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    competition_id = await opened(proc, scheme_id)
    docs = [
        {"kind": "insurance", "expires_on": "2099-01-01"},
        {"kind": "safeguarding_policy", "expires_on": "2000-01-01"},
        {"kind": "financial_check", "expires_on": "2099-01-01"},
    ]
    await proc.register("p-1", documents=docs, documents_valid=False)
    r = await proc.bid(competition_id, "p-1")
    assert r.status_code == 422 and fields(r) == {"documents.safeguarding_policy"}


async def test_deadline_evaluation_award_and_notice(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1", score=90)
    await proc.admit(scheme_id, "p-2", score=50)
    competition_id = await opened(proc, scheme_id)
    assert (await proc.bid(competition_id, "p-1", fee="1800.00")).status_code == 201
    assert (await proc.bid(competition_id, "p-2", fee="1500.00")).status_code == 201
    early = await proc.award(competition_id)
    assert early.status_code == 409  # not evaluated yet
    assert await proc.close(competition_id) == "evaluation"
    assert await proc.close(competition_id) == "evaluation"  # idempotent
    assert (await proc.award(competition_id)).status_code == 409  # not ranked yet
    # Evaluators score quality; admission scores (90 and 50) play no part.
    r = await proc.score_and_evaluate(competition_id, {"p-1": "9", "p-2": "5"})
    assert r.status_code == 200, r.text
    body = (await proc.get(f"/competitions/{competition_id}")).json()
    ranking = body["evaluation"]["ranking"]
    assert [r["provider_id"] for r in ranking] == ["p-1", "p-2"]
    assert ranking[1]["price_score"] == "40.00"  # cheapest gets the full price weight
    assert body["evaluation"]["tie_break_rule"].startswith("Ranked by total score")
    r = await proc.award(competition_id)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "awarded" and r.json()["award"]["provider_id"] == "p-1"
    awarded = (await proc.events("procurement.competition.awarded"))[0]
    assert awarded["weekly_core_fee"] == "1800.00" and awarded["need_ref"]
    assert awarded["additional_support"][0]["amount"] == "200.00"
    assert (await proc.award(competition_id)).status_code == 409
    loser = (await proc.get(f"/competitions/{competition_id}", Role.PROVIDER, "p-2")).json()
    assert loser["feedback"]["own_rank"] == 2 and loser["feedback"]["winner_total"]
    assert loser["feedback"]["own_quality_score"] == "30.00"  # 5/10 x 60
    assert loser["feedback"]["winner_quality_score"] == "54.00"  # 9/10 x 60
    winner = (await proc.get(f"/competitions/{competition_id}", Role.PROVIDER, "p-1")).json()
    assert winner["feedback"] == {"outcome": "awarded to you"}
    notices = (await proc.get("/notices", Role.MONITORING_OFFICER)).json()
    assert len(notices["quarters"]) == 1
    notice = notices["quarters"][0]["notices"][0]
    assert notice["provider_id"] == "p-1" and notice["competition_id"] == competition_id
    types = [e["type"] for e in await proc.events() if e["subject"] == competition_id]
    closed = (await proc.events("procurement.competition.closed"))[0]
    assert closed["awaiting_evaluator_scores"] is True
    assert types[-3:] == [
        "procurement.competition.closed",
        "procurement.competition.evaluated",
        "procurement.competition.awarded",
    ]


async def test_zero_compliant_bids_cannot_be_awarded_and_escalates(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    competition_id = await opened(proc, scheme_id)
    assert (await proc.bid(competition_id, "p-1")).status_code == 201
    await proc.set_status("p-1", "suspended")  # set aside at the deadline
    assert await proc.close(competition_id) == "evaluated"
    evaluation = (await proc.get(f"/competitions/{competition_id}")).json()["evaluation"]
    assert evaluation["ranking"] == [] and "suspended" in evaluation["non_compliant"][0]["reason"]
    r = await proc.award(competition_id)
    assert r.status_code == 422 and "no_compliant_bid" in rules(r)
    r = await proc.award(competition_id, decision="no_suitable_bid", reason="")
    assert r.status_code == 422 and fields(r) == {"reason"}
    r = await proc.award(competition_id, decision="no_suitable_bid", reason="none compliant")
    assert r.status_code == 200 and r.json()["status"] == "no_suitable_bid"
    event = (await proc.events("procurement.competition.no_suitable_bid"))[0]
    assert event["next_action"] == "escalate"
    assert (await proc.get("/notices")).json() == {"quarters": [], "individual": []}


async def test_tiered_call_off_invites_the_higher_lot_first_then_the_lower(proc: Driver) -> None:
    scheme_id = await proc.scheme(**TIERED)
    await proc.admit(scheme_id, "p-high", score=80)
    await proc.admit(scheme_id, "p-low", score=40)
    competition_id = await opened(proc, scheme_id)
    body = (await proc.get(f"/competitions/{competition_id}")).json()
    assert [i["provider_id"] for i in body["invitations"]] == ["p-high"]
    assert body["current_lot"] == "lot2"
    r = await proc.bid(competition_id, "p-low")
    assert r.status_code == 422 and "not_invited" in rules(r)
    assert await proc.close(competition_id) == "evaluated"
    r = await proc.award(competition_id, decision="no_suitable_bid", reason="no bid from lot 2")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "open" and body["round"] == 2 and body["current_lot"] == "lot1"
    assert [(i["provider_id"], i["reason"], i["round"]) for i in body["invitations"]] == [
        ("p-high", "initial", 1),
        ("p-low", "next_tier", 2),
    ]
    assert any(step["reason"] == "no bid from lot 2" for step in body["tier_steps"])
    reopened = (await proc.events("procurement.competition.reopened"))[0]
    assert reopened["lot_code"] == "lot1" and reopened["invited_count"] == 1
    assert (await proc.bid(competition_id, "p-low")).status_code == 201


async def test_late_joiner_is_invited_to_an_open_competition(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    competition_id = await opened(proc, scheme_id)
    await proc.register("p-late")
    r = await proc.decide(await proc.apply(scheme_id, "p-late"))
    assert r.json()["late_joiner_invitations"] == [competition_id]
    invitations = (await proc.get(f"/competitions/{competition_id}")).json()["invitations"]
    assert [(i["provider_id"], i["reason"]) for i in invitations] == [
        ("p-1", "initial"),
        ("p-late", "late_joiner"),
    ]
    assert invitations[1]["invited_at"] > invitations[0]["invited_at"]
    assert (await proc.bid(competition_id, "p-late")).status_code == 201
