"""Clarification questions and bid withdrawal: the deadlines are exclusive instants, an
answer is published once, and a withdrawn provider may bid again with the next version."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.procurement.domain import (
    CLARIFICATION_CLOSE_BEFORE_DEADLINE,
    QUESTION_MAX,
    Competition,
    DomainError,
    Rule,
    answer_clarification,
    ask_clarification,
    close_competition,
    open_competition,
    submit_bid,
    withdraw_bid,
)

from .builders import DEADLINE, NOW, bid, docs_for, member, offer, register, scheme, spec


def call_off(pids: tuple[str, ...] = ("P1", "P2")) -> Competition:
    return open_competition(
        scheme(),
        spec(),
        deadline_at=DEADLINE,
        memberships=[member(p) for p in pids],
        providers=register(*pids),
        documents=docs_for(pids),
        now=NOW,
    )


def refused(rule: Rule, call, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as err:
        call(*args, **kwargs)
    assert err.value.rule is rule, err.value


def test_questions_close_at_an_exclusive_instant_before_the_deadline() -> None:
    c = call_off()
    closes = DEADLINE - CLARIFICATION_CLOSE_BEFORE_DEADLINE
    ask = {"clarification_id": "q1", "provider_id": "P1", "question": " Transport? "}
    q = ask_clarification(c, **ask, now=closes - timedelta(microseconds=1))
    assert q.question == "Transport?" and q.asked_by == "P1" and q.answer is None
    refused(Rule.CLARIFICATIONS_CLOSED, ask_clarification, c, **ask, now=closes)
    refused(Rule.NOT_INVITED, ask_clarification, c, **{**ask, "provider_id": "P9"}, now=NOW)
    refused(Rule.REQUIRED, ask_clarification, c, **{**ask, "question": " "}, now=NOW)
    long = {**ask, "question": "x" * (QUESTION_MAX + 1)}
    refused(Rule.OUT_OF_RANGE, ask_clarification, c, **long, now=NOW)
    closed = close_competition(c, DEADLINE)
    refused(Rule.COMPETITION_NOT_OPEN, ask_clarification, closed, **ask, now=NOW)


def test_an_answer_is_published_once_before_the_deadline() -> None:
    c = call_off()
    q = ask_clarification(c, clarification_id="q1", provider_id="P1", question="Q", now=NOW)
    just_before = DEADLINE - timedelta(microseconds=1)
    a = answer_clarification(c, q, answer=" Yes ", by="ann", now=just_before)
    assert (a.answer, a.answered_by, a.answered_at) == ("Yes", "ann", just_before)
    refused(
        Rule.CLARIFICATION_ALREADY_ANSWERED,
        answer_clarification,
        c,
        a,
        answer="No",
        by="x",
        now=NOW,
    )
    refused(
        Rule.ANSWER_AFTER_DEADLINE, answer_clarification, c, q, answer="Y", by="x", now=DEADLINE
    )
    refused(Rule.REQUIRED, answer_clarification, c, q, answer="", by="x", now=NOW)


def test_a_bid_is_withdrawn_before_the_deadline_only_and_may_be_sent_again() -> None:
    c = call_off()
    live = bid("P1")
    assert withdraw_bid(c, live, now=DEADLINE - timedelta(microseconds=1)) == live
    refused(Rule.WITHDRAWAL_AFTER_DEADLINE, withdraw_bid, c, live, now=DEADLINE)
    refused(Rule.NO_LIVE_BID, withdraw_bid, c, None, now=NOW)
    again = submit_bid(
        c, offer("P1"), bid_id="b2", membership=member("P1"), now=NOW, earlier_versions=1
    )
    assert again.bid.version == 2 and again.bid.replaces_bid_id is None
