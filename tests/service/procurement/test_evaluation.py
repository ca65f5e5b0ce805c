"""Evaluation by evaluator scores over HTTP: after the deadline a call-off with quality
questions waits in ``evaluation``; commissioners, each recorded as evaluator,
score every compliant bid per question; the ranking uses price relative to the lowest
compliant bid and the evaluators' moderated quality scores, ties broken by the stated
rule. Without quality questions the call-off is evaluated on price at the deadline."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from services.procurement.activities import remind_evaluators
from services.procurement.models import ApplicationRow, EvaluatorScoreRow
from services.procurement.workflow_types import ClockCheck
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.infra_models import AuditEntry, OutboxMessage
from tests.conftest import TEST_SECRET
from tests.harness import client_for
from tests.service.procurement.conftest import Driver
from tests.service.procurement.test_competitions import opened
from tests.service.procurement.test_schemes_and_applications import fields, rules


async def two_bids_in_evaluation(proc: Driver) -> tuple[str, str, str]:
    """p-1 bids 1800 + 200 support a week, p-2 1500 + 200; both compliant; closed."""
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1", score=40)
    await proc.admit(scheme_id, "p-2", score=95)
    competition_id = await opened(proc, scheme_id)
    assert (await proc.bid(competition_id, "p-1", fee="1800.00")).status_code == 201
    assert (await proc.bid(competition_id, "p-2", fee="1500.00")).status_code == 201
    assert await proc.close(competition_id) == "evaluation"
    return (
        competition_id,
        await proc.live_bid(competition_id, "p-1"),
        await proc.live_bid(competition_id, "p-2"),
    )


async def test_scores_are_refused_while_bidding_is_open(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    competition_id = await opened(proc, scheme_id)
    assert (await proc.bid(competition_id, "p-1")).status_code == 201
    bid_id = await proc.live_bid(competition_id, "p-1")
    body = (await proc.get(f"/competitions/{competition_id}")).json()
    assert body["bids"][0]["offer"] is None  # sealed until the deadline
    r = await proc.score(competition_id, bid_id, {"fit": "5"})
    assert r.status_code == 409 and "invalid_transition" in rules(r)
    assert (await proc.evaluate(competition_id)).status_code == 409
    assert await proc.count(EvaluatorScoreRow) == 0


async def test_evaluators_score_and_the_ranking_uses_their_scores(proc: Driver) -> None:
    competition_id, b1, b2 = await two_bids_in_evaluation(proc)
    body = (await proc.get(f"/competitions/{competition_id}")).json()
    assert body["status"] == "evaluation" and body["evaluation"] is None
    assert {b["offer"]["answers"]["fit"] for b in body["bids"]} == {"We meet the needs."}
    # Two evaluators; the first changes their mind (replaces, not adds).
    assert (await proc.score(competition_id, b1, {"fit": "2"}, evaluator="eve")).status_code == 201
    r = await proc.score(competition_id, b1, {"fit": "8"}, evaluator="eve", comment="strong")
    assert r.status_code == 201 and r.json()["replaced"] is True
    assert r.json()["unscored_bids"] == [b2]
    r = await proc.score(competition_id, b1, {"fit": "7"}, evaluator="ann")
    assert r.status_code == 201 and r.json()["evaluator"] == "ann"
    # Ranking cannot start while a compliant bid is unscored: the refusal names it.
    r = await proc.evaluate(competition_id)
    assert r.status_code == 422 and "assessment_missing" in rules(r) and b2 in r.text
    assert (
        await proc.score(competition_id, b2, {"fit": "5.5"}, evaluator="eve")
    ).status_code == 201
    r = await proc.evaluate(competition_id)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "evaluated"
    ranking = body["evaluation"]["ranking"]
    # p-1: quality mean(8, 7) = 7.5/10 x 60 = 45; price 1700/2000 x 40 = 34 -> 79.
    # p-2: quality 5.5/10 x 60 = 33; price 40 (lowest) -> 73.
    assert [
        (s["provider_id"], s["quality_score"], s["price_score"], s["total"]) for s in ranking
    ] == [
        ("p-1", "45.00", "34.00", "79.00"),
        ("p-2", "33.00", "40.00", "73.00"),
    ]
    assert ranking[0]["question_scores"] == {"fit": "7.50"}
    assert "evaluators" in body["evaluation"]["quality_basis"]
    assert {(s["evaluator"], s["scores"]["fit"]) for s in body["evaluator_scores"]} == {
        ("eve", "8"),
        ("ann", "7"),
        ("eve", "5.5"),
    }
    evaluated = (await proc.events("procurement.competition.evaluated"))[0]
    assert evaluated["evaluated_by"] and [s["provider_id"] for s in evaluated["ranking"]] == [
        "p-1",
        "p-2",
    ]
    assert (await proc.evaluate(competition_id)).status_code == 409  # already ranked
    r = await proc.score(competition_id, b1, {"fit": "1"})
    assert r.status_code == 409  # scores are frozen once ranked
    assert (await proc.award(competition_id)).json()["award"]["provider_id"] == "p-1"
    async with proc.runtime.db.session() as session:
        audit = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "bid.scored"))
        ).all()
    assert len(audit) == 4  # every submission, including the replaced one


async def test_tie_on_total_goes_to_the_higher_quality_score(proc: Driver) -> None:
    competition_id, b1, b2 = await two_bids_in_evaluation(proc)
    # p-1: 6/10 x 60 = 36 + 34 = 70; p-2: 5/10 x 60 = 30 + 40 = 70.
    assert (await proc.score(competition_id, b1, {"fit": 6})).status_code == 201
    assert (await proc.score(competition_id, b2, {"fit": 5})).status_code == 201
    body = (await proc.evaluate(competition_id)).json()
    ranking = body["evaluation"]["ranking"]
    assert [s["total"] for s in ranking] == ["70.00", "70.00"]
    assert [s["provider_id"] for s in ranking] == ["p-1", "p-2"]
    assert "higher quality score" in body["evaluation"]["tie_break_rule"]


async def test_bad_scores_are_refused_with_the_reason(proc: Driver) -> None:
    competition_id, b1, _ = await two_bids_in_evaluation(proc)
    before = await proc.count(OutboxMessage)
    cases = [
        ({"fit": "11"}, "scores.fit", "out_of_range"),
        ({"fit": "-1"}, "scores.fit", "out_of_range"),
        ({"fit": "5.555"}, "scores.fit", "out_of_range"),
        ({}, "scores.fit", "assessment_missing"),
        ({"fit": "5", "bogus": "1"}, "scores.bogus", "unknown"),
    ]
    for scores, field, rule in cases:
        r = await proc.score(competition_id, b1, scores)
        assert r.status_code == 422 and fields(r) == {field} and rule in rules(r), (scores, r.text)
    assert (await proc.score(competition_id, "no-such-bid", {"fit": "5"})).status_code == 404
    for role in (Role.PROVIDER, Role.MONITORING_OFFICER):
        async with proc.client(role, "p-1") as c:
            r = await c.post(
                f"/competitions/{competition_id}/bids/{b1}/scores", json={"scores": {"fit": 5}}
            )
            assert r.status_code == 403
            assert (await c.post(f"/competitions/{competition_id}/evaluation")).status_code == 403
    assert await proc.count(EvaluatorScoreRow) == 0
    assert await proc.count(OutboxMessage) == before


async def test_a_superseded_or_set_aside_bid_cannot_be_scored(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    await proc.admit(scheme_id, "p-2")
    competition_id = await opened(proc, scheme_id)
    first = (await proc.bid(competition_id, "p-1", fee="1900.00")).json()["bid_id"]
    assert (await proc.bid(competition_id, "p-1", fee="1700.00")).status_code == 201
    assert (await proc.bid(competition_id, "p-2")).status_code == 201
    await proc.set_status("p-2", "suspended")
    await proc.wait_provider("p-2", "suspended")
    assert await proc.close(competition_id) == "evaluation"
    body = (await proc.get(f"/competitions/{competition_id}")).json()
    [aside] = body["set_aside"]
    assert aside["provider_id"] == "p-2" and "suspended" in aside["reason"]
    r = await proc.score(competition_id, first, {"fit": 5})
    assert r.status_code == 422 and fields(r) == {"bid_id"}
    r = await proc.score(competition_id, aside["bid_id"], {"fit": 5})
    assert r.status_code == 422 and "bid_set_aside" in rules(r)
    live = await proc.live_bid(competition_id, "p-1")
    assert live != first
    r = await proc.score_and_evaluate(competition_id, {"p-1": 6})
    assert r.status_code == 200, r.text
    evaluation = r.json()["evaluation"]
    assert [s["provider_id"] for s in evaluation["ranking"]] == ["p-1"]
    assert evaluation["non_compliant"][0]["provider_id"] == "p-2"
    assert (await proc.award(competition_id)).status_code == 200
    # A bidder set aside is told why, with the winner's scores.
    loser = (await proc.get(f"/competitions/{competition_id}", Role.PROVIDER, "p-2")).json()
    feedback = loser["feedback"]
    assert feedback["outcome"] == "non_compliant" and "suspended" in feedback["reason"]
    assert feedback["winner_quality_score"] == "36.00" and feedback["winner_price_score"]


async def test_without_quality_questions_the_call_off_is_evaluated_on_price_at_the_deadline(
    proc: Driver,
) -> None:
    price_only = {"quality_weight": 0, "price_weight": 100, "quality_questions": []}
    scheme_id = await proc.scheme(award_criteria=price_only)  # the scheme published price only
    await proc.admit(scheme_id, "p-1", score=95)
    await proc.admit(scheme_id, "p-2", score=35)
    competition_id = await opened(
        proc, scheme_id, quality_weight=0, price_weight=100, quality_questions=[]
    )
    for provider_id, fee in (("p-1", "1800.00"), ("p-2", "1500.00")):
        r = await proc.bid(competition_id, provider_id, fee=fee, answers={})
        assert r.status_code == 201, r.text
    assert await proc.close(competition_id) == "evaluated"
    evaluation = (await proc.get(f"/competitions/{competition_id}")).json()["evaluation"]
    assert [s["provider_id"] for s in evaluation["ranking"]] == ["p-2", "p-1"]
    assert evaluation["ranking"][0]["quality_score"] == "0.00"
    assert evaluation["quality_basis"].startswith("No quality questions")
    closed = (await proc.events("procurement.competition.closed"))[0]
    assert closed["awaiting_evaluator_scores"] is False


async def test_day_7_reminder_is_an_event(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.register("p-1")
    application_id = await proc.apply(scheme_id, "p-1")
    async with proc.runtime.db.session() as session:
        row = await session.get(ApplicationRow, application_id)
        assert row is not None
    early = ClockCheck(application_id=application_id, now=row.reminder_at - timedelta(hours=1))
    state = await remind_evaluators(proc.runtime.db, proc.runtime.source, early)
    assert not state.done and await proc.events("procurement.application.reminder_due") == []
    check = ClockCheck(application_id=application_id, now=row.reminder_at + timedelta(minutes=1))
    for _ in range(2):  # a retried activity reminds once
        state = await remind_evaluators(proc.runtime.db, proc.runtime.source, check)
        assert state.done
    [event] = await proc.events("procurement.application.reminder_due")
    assert event["subject"] == application_id and event["provider_id"] == "p-1"
    assert event["evaluation_due_on"] == row.due_on.isoformat() and event["extended"] is False


async def test_who_scored_a_call_off_may_not_approve_its_award(proc: Driver) -> None:
    """Separation of duties: the evaluator's award approval is refused (409 naming the
    rule), nothing is awarded; another commissioner's approval goes through."""
    competition_id, b1, b2 = await two_bids_in_evaluation(proc)
    for bid_id in (b1, b2):
        r = await proc.score(competition_id, bid_id, {"fit": "7"}, evaluator="eve")
        assert r.status_code == 201, r.text
    assert (await proc.evaluate(competition_id)).status_code == 200
    eve = issue_token(TEST_SECRET, Role.COMMISSIONER, subject="eve")
    async with client_for(proc.runtime, eve) as client:
        refused = await client.post(
            f"/competitions/{competition_id}/award", json={"decision": "approve"}
        )
    assert refused.status_code == 409, refused.text
    assert fields(refused) == {"approved_by"} and "approver_scored_bid" in rules(refused)
    assert not await proc.events("procurement.competition.awarded")
    approved = await proc.award(competition_id)  # dev-commissioner scored nothing
    assert approved.status_code == 200, approved.text
    assert approved.json()["award"]["approved_by"] == "dev-commissioner"
