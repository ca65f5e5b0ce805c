"""Clarification questions (asked by an invited provider, answered to every invited
provider without naming who asked), bid withdrawal before the deadline, and evaluator
privacy: an evaluator sees only its own score sheet until the ranking moderates them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from services.procurement import domain as d
from services.procurement.models import BidRow, ClarificationRow, CompetitionRow
from shared import clock
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.infra_models import AuditEntry, OutboxMessage
from tests.conftest import TEST_SECRET
from tests.harness import client_for
from tests.service.procurement.conftest import Driver
from tests.service.procurement.test_competitions import opened
from tests.service.procurement.test_evaluation import two_bids_in_evaluation
from tests.service.procurement.test_schemes_and_applications import fields, rules


async def ask(
    proc: Driver, competition_id: str, provider_id: str, question: object
) -> httpx.Response:
    async with proc.client(Role.PROVIDER, provider_id) as c:
        return await c.post(
            f"/competitions/{competition_id}/clarifications", json={"question": question}
        )


async def answer(
    proc: Driver,
    competition_id: str,
    clarification_id: str,
    text: object,
    role: Role = Role.COMMISSIONER,
) -> httpx.Response:
    async with proc.client(role, "p-1" if role is Role.PROVIDER else None) as c:
        return await c.post(
            f"/competitions/{competition_id}/clarifications/{clarification_id}/answer",
            json={"answer": text},
        )


async def withdraw(proc: Driver, competition_id: str, provider_id: str) -> httpx.Response:
    async with proc.client(Role.PROVIDER, provider_id) as c:
        return await c.post(f"/competitions/{competition_id}/bids/withdrawal")


async def three_invited(proc: Driver) -> str:
    scheme_id = await proc.scheme()
    for provider_id in ("p-1", "p-2", "p-3"):
        await proc.admit(scheme_id, provider_id)
    await proc.register("p-out")  # registered, never a member: not invited
    return await opened(proc, scheme_id)


async def deadline_of(proc: Driver, competition_id: str) -> datetime:
    async with proc.runtime.db.session() as session:
        row = await session.get(CompetitionRow, competition_id)
        assert row is not None
        return row.deadline_at


def frozen_at(monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
    monkeypatch.setattr(clock, "now", lambda: at)


# ------------------------------------------------------------- clarifications


async def test_answer_goes_to_every_invited_provider_without_naming_who_asked(
    proc: Driver,
) -> None:
    competition_id = await three_invited(proc)
    r = await ask(proc, competition_id, "p-1", "  Is transport included?  ")
    assert r.status_code == 201, r.text
    asked = r.json()
    assert asked["question"] == "Is transport included?" and asked["asked_by_you"] is True
    cid = asked["clarification_id"]
    # Unanswered: the asker sees its own question; the others see nothing yet.
    own = (await proc.get(f"/competitions/{competition_id}", Role.PROVIDER, "p-1")).json()
    assert [q["clarification_id"] for q in own["clarifications"]] == [cid]
    other = (await proc.get(f"/competitions/{competition_id}", Role.PROVIDER, "p-2")).json()
    assert other["clarifications"] == []
    # The council sees who asked.
    council = (await proc.get(f"/competitions/{competition_id}")).json()
    assert council["clarifications"][0]["asked_by"] == "p-1"
    assert council["clarifications_close_at"]
    r = await answer(proc, competition_id, cid, "Yes, home to school transport is included.")
    assert r.status_code == 200, r.text
    assert r.json()["answer"].startswith("Yes") and r.json()["answered_by"]
    for provider_id in ("p-2", "p-3"):
        seen = (
            await proc.get(f"/competitions/{competition_id}", Role.PROVIDER, provider_id)
        ).json()
        [q] = seen["clarifications"]
        assert q["answer"].startswith("Yes") and q["asked_by_you"] is False
        assert "asked_by" not in q and "answered_by" not in q and "p-1" not in str(q)
    [event] = await proc.events("procurement.clarification.answered")
    assert event["subject"] == competition_id and event["clarification_id"] == cid
    assert event["invited_provider_ids"] == ["p-1", "p-2", "p-3"]
    assert "question" not in event and "p-1" not in event.get("asked_by", "")
    async with proc.runtime.db.session() as session:
        actions = (
            await session.exec(
                select(AuditEntry.action).where(AuditEntry.action.startswith("clarification."))
            )
        ).all()
    assert sorted(actions) == ["clarification.answered", "clarification.asked"]
    # Once only: a second answer is a clash with the state (409).
    r = await answer(proc, competition_id, cid, "No.")
    assert r.status_code == 409 and "clarification_already_answered" in rules(r)


async def test_bad_clarification_input_is_refused_naming_field_and_rule(proc: Driver) -> None:
    competition_id = await three_invited(proc)
    before = await proc.count(OutboxMessage)
    cases: list[tuple[object, str, str]] = [
        ("", "question", "required"),
        ("   ", "question", "required"),
        ("x" * (d.QUESTION_MAX + 1), "question", "out_of_range"),
        (None, "question", ""),
        (12, "question", ""),
    ]
    for question, field, rule in cases:
        r = await ask(proc, competition_id, "p-1", question)
        assert r.status_code == 422, (question, r.text)
        assert fields(r) == {field} and rule in rules(r), r.text
    async with proc.client(Role.PROVIDER, "p-1") as c:
        r = await c.post(f"/competitions/{competition_id}/clarifications", json={})
        assert r.status_code == 422 and fields(r) == {"question"}
        r = await c.post(f"/competitions/{competition_id}/clarifications", json={"question": ["q"]})
        assert r.status_code == 422 and fields(r) == {"question"}
        r = await c.post(f"/competitions/{competition_id}/clarifications", content=b"not json")
        assert r.status_code == 422
    # Not invited, unknown call-off: 404 (no call-off is disclosed to a stranger).
    assert (await ask(proc, competition_id, "p-out", "q")).status_code == 404
    assert (await ask(proc, "nope", "p-1", "q")).status_code == 404
    cid = (await ask(proc, competition_id, "p-1", "Q?")).json()["clarification_id"]
    for text, field, rule in [
        ("", "answer", "required"),
        ("x" * (d.ANSWER_MAX + 1), "answer", "out_of_range"),
        (None, "answer", ""),
    ]:
        r = await answer(proc, competition_id, cid, text)
        assert r.status_code == 422 and fields(r) == {field} and rule in rules(r), r.text
    assert (await answer(proc, competition_id, "nope", "A")).status_code == 404
    assert (await answer(proc, "nope", cid, "A")).status_code == 404
    # Roles: a provider cannot answer, a commissioner cannot ask, nobody anonymous.
    assert (await answer(proc, competition_id, cid, "A", Role.PROVIDER)).status_code == 403
    assert (
        await answer(proc, competition_id, cid, "A", Role.MONITORING_OFFICER)
    ).status_code == 403
    async with proc.client(Role.COMMISSIONER) as c:
        r = await c.post(f"/competitions/{competition_id}/clarifications", json={"question": "q"})
        assert r.status_code == 403
    async with proc.client(None) as c:
        r = await c.post(f"/competitions/{competition_id}/clarifications", json={"question": "q"})
        assert r.status_code == 401
    assert await proc.count(OutboxMessage) == before
    assert await proc.count(ClarificationRow) == 1


async def test_another_call_offs_clarification_id_is_404(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    first = await opened(proc, scheme_id)
    second = await opened(proc, scheme_id)
    cid = (await ask(proc, first, "p-1", "Q?")).json()["clarification_id"]
    r = await answer(proc, second, cid, "A")
    assert r.status_code == 404
    assert (await proc.get(f"/competitions/{second}", Role.PROVIDER, "p-1")).json()[
        "clarifications"
    ] == []


async def test_questions_close_two_days_before_the_deadline(
    proc: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    competition_id = await three_invited(proc)
    closes = await deadline_of(proc, competition_id) - d.CLARIFICATION_CLOSE_BEFORE_DEADLINE
    frozen_at(monkeypatch, closes - timedelta(microseconds=1))
    r = await ask(proc, competition_id, "p-1", "Just in time?")
    assert r.status_code == 201
    cid = r.json()["clarification_id"]
    frozen_at(monkeypatch, closes)
    r = await ask(proc, competition_id, "p-1", "Too late?")
    assert r.status_code == 409 and "clarifications_closed" in rules(r)
    assert fields(r) == {"question"}
    # The council may still answer until the tender deadline, not from it.
    deadline = await deadline_of(proc, competition_id)
    frozen_at(monkeypatch, deadline)
    r = await answer(proc, competition_id, cid, "Late answer")
    assert r.status_code == 409 and "answer_after_deadline" in rules(r)
    frozen_at(monkeypatch, deadline - timedelta(microseconds=1))
    assert (await answer(proc, competition_id, cid, "In time")).status_code == 200


async def test_no_questions_once_the_call_off_is_closed(proc: Driver) -> None:
    competition_id = await three_invited(proc)
    # Closed early (e.g. after a reopened round's deadline moved): status, not time, refuses.
    async with proc.runtime.db.transaction() as session:
        row = await session.get(CompetitionRow, competition_id)
        assert row is not None
        row.status = "closed"
        row.deadline_at = datetime.now(UTC) + timedelta(days=5)
        session.add(row)
    r = await ask(proc, competition_id, "p-1", "Q?")
    assert r.status_code == 409 and "competition_not_open" in rules(r)


# ------------------------------------------------------------- withdrawal


async def test_withdrawn_bid_is_not_evaluated_and_may_be_sent_again(proc: Driver) -> None:
    competition_id = await three_invited(proc)
    first = await proc.bid(competition_id, "p-1", fee="1500.00")
    assert first.status_code == 201
    assert (await proc.bid(competition_id, "p-2", fee="1600.00")).status_code == 201
    r = await withdraw(proc, competition_id, "p-1")
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert receipt["bid_id"] == first.json()["bid_id"] and receipt["withdrawn_at"]
    assert "deadline" in receipt["rule"]
    # Nothing live to withdraw now: a clash with the state, naming the rule.
    r = await withdraw(proc, competition_id, "p-1")
    assert r.status_code == 409 and "no_live_bid" in rules(r)
    async with proc.client(Role.PROVIDER, "p-1") as c:
        mine = (await c.get("/portal/invitations")).json()
    [inv] = [i for i in mine if i["competition_id"] == competition_id]
    assert inv["my_bid"] is None and inv["my_withdrawal"]["bid_id"] == receipt["bid_id"]
    # Sent again before the deadline: the version counts on.
    again = await proc.bid(competition_id, "p-1", fee="1450.00")
    assert again.status_code == 201 and again.json()["version"] == 2
    assert again.json()["replaces_bid_id"] is None
    async with proc.client(Role.PROVIDER, "p-1") as c:
        mine = (await c.get("/portal/invitations")).json()
    [inv] = [i for i in mine if i["competition_id"] == competition_id]
    assert inv["my_bid"]["version"] == 2 and inv["my_withdrawal"] is None
    # p-2 withdraws and does not come back: only p-1's second bid is evaluated.
    assert (await withdraw(proc, competition_id, "p-2")).status_code == 200
    assert await proc.close(competition_id) == "evaluation"
    bid_id = await proc.live_bid(competition_id, "p-1")
    assert bid_id == again.json()["bid_id"]
    r = await proc.score_and_evaluate(competition_id, {"p-1": "8"})
    assert r.status_code == 200, r.text
    ranking = r.json()["evaluation"]["ranking"]
    assert [s["provider_id"] for s in ranking] == ["p-1"] and ranking[0]["bid_id"] == bid_id
    bids = r.json()["bids"]
    assert sum(1 for b in bids if b["withdrawn_at"]) == 2
    async with proc.runtime.db.session() as session:
        audit = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "bid.withdrawn"))
        ).all()
    assert len(audit) == 2


async def test_withdrawal_from_the_deadline_is_refused_naming_the_rule(
    proc: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    competition_id = await three_invited(proc)
    assert (await proc.bid(competition_id, "p-1")).status_code == 201
    assert (await proc.bid(competition_id, "p-2")).status_code == 201
    deadline = await deadline_of(proc, competition_id)
    frozen_at(monkeypatch, deadline)
    r = await withdraw(proc, competition_id, "p-1")
    assert r.status_code == 409 and fields(r) == {"deadline_at"}
    assert "withdrawal_after_deadline" in rules(r) and "deadline" in r.text
    frozen_at(monkeypatch, deadline - timedelta(microseconds=1))
    assert (await withdraw(proc, competition_id, "p-2")).status_code == 200
    async with proc.runtime.db.session() as session:
        live = (
            await session.exec(select(BidRow).where(BidRow.withdrawn_at == None))  # noqa: E711
        ).all()
    assert [b.provider_id for b in live] == ["p-1"]


async def test_withdrawal_is_the_providers_own_only(proc: Driver) -> None:
    competition_id = await three_invited(proc)
    assert (await proc.bid(competition_id, "p-1")).status_code == 201
    assert (await withdraw(proc, competition_id, "p-out")).status_code == 404
    assert (await withdraw(proc, "nope", "p-1")).status_code == 404
    r = await withdraw(proc, competition_id, "p-2")  # invited, no bid: p-1's is untouched
    assert r.status_code == 409 and "no_live_bid" in rules(r)
    for role in (Role.COMMISSIONER, Role.MONITORING_OFFICER):
        async with proc.client(role) as c:
            r = await c.post(f"/competitions/{competition_id}/bids/withdrawal")
            assert r.status_code == 403
    async with proc.client(None) as c:
        assert (await c.post(f"/competitions/{competition_id}/bids/withdrawal")).status_code == 401
    assert await proc.live_bid(competition_id, "p-1")


# --------------------------------------------------------- evaluator privacy


async def test_each_evaluator_sees_only_its_own_scores_until_the_ranking(proc: Driver) -> None:
    competition_id, b1, b2 = await two_bids_in_evaluation(proc)
    for bid_id, by_eve, by_ann in ((b1, "8", "6"), (b2, "5", "7")):
        assert (
            await proc.score(competition_id, bid_id, {"fit": by_eve}, evaluator="eve")
        ).status_code == 201
        assert (
            await proc.score(competition_id, bid_id, {"fit": by_ann}, evaluator="ann")
        ).status_code == 201

    async def seen_by(subject: str) -> dict[str, Any]:
        tok = issue_token(TEST_SECRET, Role.COMMISSIONER, subject=subject)
        async with client_for(proc.runtime, tok) as c:
            body: dict[str, Any] = (await c.get(f"/competitions/{competition_id}")).json()
        return body

    eve = await seen_by("eve")
    assert eve["scores_moderated"] is False
    assert {(s["evaluator"], s["scores"]["fit"]) for s in eve["evaluator_scores"]} == {
        ("eve", "8"),
        ("eve", "5"),
    }
    ann = await seen_by("ann")
    assert {s["evaluator"] for s in ann["evaluator_scores"]} == {"ann"}
    assert (await seen_by("approver"))["evaluator_scores"] == []
    monitoring = (await proc.get(f"/competitions/{competition_id}", Role.MONITORING_OFFICER)).json()
    assert monitoring["evaluator_scores"] == []
    # Ranking moderates the scores (their mean): from then on everyone sees all.
    assert (await proc.evaluate(competition_id)).status_code == 200
    for subject in ("eve", "ann", "approver"):
        body = await seen_by(subject)
        assert body["scores_moderated"] is True and len(body["evaluator_scores"]) == 4
    monitoring = (await proc.get(f"/competitions/{competition_id}", Role.MONITORING_OFFICER)).json()
    assert len(monitoring["evaluator_scores"]) == 4
