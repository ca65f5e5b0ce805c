"""Evaluation: price and quality scores, ranking, tie-breaks, properties, 200 bids."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.procurement.domain import (
    TIE_BREAK_RULE,
    AwardCriteria,
    Bid,
    BidAssessment,
    ChargeBasis,
    Competition,
    CompetitionStatus,
    DomainError,
    QualityQuestion,
    Rule,
    SupportItem,
    close_competition,
    evaluate_competition,
    open_competition,
    price_score,
    quality_score,
    score_bids,
)

from .builders import (
    DEADLINE,
    NOW,
    QUALITY,
    bid,
    docs_for,
    member,
    register,
    scheme,
    spec,
)


def closed_call_off(
    quality_weight: int = 60, pids: tuple[str, ...] = ("P1", "P2", "P3")
) -> Competition:
    c = open_competition(
        scheme(award_criteria=AwardCriteria(quality_weight, 100 - quality_weight, QUALITY)),
        spec(quality_weight=quality_weight, price_weight=100 - quality_weight),
        deadline_at=DEADLINE,
        memberships=[member(p) for p in pids],
        providers=register(*pids),
        documents=docs_for(pids),
        now=NOW,
    )
    return close_competition(c, DEADLINE)


def scores(fit: int, transition: int) -> dict[str, Decimal]:
    return {"fit": Decimal(fit), "transition": Decimal(transition)}


def test_worked_example() -> None:
    c = closed_call_off()
    bids = [
        bid("P1", "1500.00"),  # 57,000 a year
        bid("P2", "1200.00"),  # 45,600 a year: the lowest
        bid(
            "P3",
            "1000.00",
            additional_support=(SupportItem("Nursing", Decimal("100.00"), ChargeBasis.WEEKLY),),
        ),
    ]
    assessments = {
        "B-P1": BidAssessment("B-P1", scores(8, 6)),
        "B-P2": BidAssessment("B-P2", scores(6, 6)),
        "B-P3": BidAssessment("B-P3", compliant=False, reason="cannot meet medical needs"),
    }
    evaluated, result = evaluate_competition(c, bids, assessments)
    assert evaluated.status is CompetitionStatus.EVALUATED
    p1, p2 = result.ranking
    # P1: quality (0.8*70 + 0.6*30)/100*60 = 44.40; price 45600/57000*40 = 32.00.
    assert (p1.provider_id, p1.quality_score, p1.price_score, p1.total) == (
        "P1",
        Decimal("44.40"),
        Decimal("32.00"),
        Decimal("76.40"),
    )
    # P2: quality 36.00; cheapest, so the full price weight of 40.
    assert (p2.provider_id, p2.quality_score, p2.price_score, p2.total) == (
        "P2",
        Decimal("36.00"),
        Decimal("40.00"),
        Decimal("76.00"),
    )
    assert (p1.rank, p2.rank) == (1, 2)
    assert result.lowest_price == Decimal("45600.00")
    assert result.non_compliant[0].reason == "cannot meet medical needs"
    assert result.winner is p1 and not result.no_suitable_bid
    assert result.tie_break_rule == TIE_BREAK_RULE
    assert p1.question_scores == {"fit": Decimal(8), "transition": Decimal(6)}


def test_non_compliant_bids_do_not_set_the_lowest_price() -> None:
    c = closed_call_off()
    bids = [bid("P1", "1500.00"), bid("P2", "100.00")]
    assessments = {
        "B-P1": BidAssessment("B-P1", scores(5, 5)),
        "B-P2": BidAssessment("B-P2", compliant=False, reason="abnormally low"),
    }
    result = score_bids(c, bids, assessments)
    assert result.ranking[0].price_score == Decimal("40.00")


def test_zero_compliant_bids_is_no_suitable_bid() -> None:
    c = closed_call_off()
    result = score_bids(
        c, [bid("P1")], {"B-P1": BidAssessment("B-P1", compliant=False, reason="x")}
    )
    assert result.no_suitable_bid and result.winner is None and result.lowest_price is None
    assert score_bids(c, [], {}).no_suitable_bid


# ------------------------------------------------------------- tie-breaks


def tie_call_off() -> Competition:
    c = closed_call_off(quality_weight=50)
    one_question = (QualityQuestion("fit", "Fit", 10, 1),)
    return replace(c, spec=replace(c.spec, quality_questions=one_question))


def test_equal_totals_go_to_the_higher_quality_score() -> None:
    c = tie_call_off()
    bids = [bid("P1", "1000.00", answers={"fit": "a"}), bid("P2", "1250.00", answers={"fit": "b"})]
    assessments = {
        "B-P1": BidAssessment("B-P1", {"fit": Decimal(6)}),  # 30 + 50 = 80
        "B-P2": BidAssessment("B-P2", {"fit": Decimal(8)}),  # 40 + 40 = 80
    }
    ranking = score_bids(c, bids, assessments).ranking
    assert [s.total for s in ranking] == [Decimal(80), Decimal(80)]
    assert [s.provider_id for s in ranking] == ["P2", "P1"]


def test_then_the_lower_price_then_the_earlier_submission() -> None:
    c = tie_call_off()
    same = {"fit": Decimal(5)}
    bids = [
        bid("P1", "1000.10", answers={"fit": "a"}),  # price score rounds to 50.00 too
        bid("P2", "1000.00", answers={"fit": "b"}, minutes=30),
        bid("P3", "1000.00", answers={"fit": "c"}, minutes=10),
    ]
    assessments = {b.bid_id: BidAssessment(b.bid_id, same) for b in bids}
    ranking = score_bids(c, bids, assessments).ranking
    assert len({s.total for s in ranking}) == 1
    assert [s.provider_id for s in ranking] == ["P3", "P2", "P1"]


# ------------------------------------------------------------- refusals


def test_only_closed_call_offs_are_evaluated() -> None:
    c = replace(closed_call_off(), status=CompetitionStatus.OPEN)
    with pytest.raises(DomainError):
        evaluate_competition(c, [], {})


def test_every_bid_needs_an_assessment_with_every_score() -> None:
    c = closed_call_off()
    with pytest.raises(DomainError) as e:
        score_bids(c, [bid("P1")], {})
    assert e.value.rule is Rule.ASSESSMENT_MISSING
    with pytest.raises(DomainError) as e:
        score_bids(c, [bid("P1")], {"B-P1": BidAssessment("B-P1", {"fit": Decimal(5)})})
    assert e.value.field == "assessments.B-P1.transition"
    with pytest.raises(DomainError) as e:
        score_bids(c, [bid("P1")], {"B-P1": BidAssessment("B-P1", scores(11, 5))})
    assert e.value.rule is Rule.OUT_OF_RANGE
    with pytest.raises(DomainError) as e:
        score_bids(c, [bid("P1")], {"B-P1": BidAssessment("B-P1", compliant=False)})
    assert e.value.field == "assessments.B-P1.reason"


def test_one_live_bid_per_provider() -> None:
    c = closed_call_off()
    dup = [bid("P1"), replace(bid("P1"), bid_id="B-P1-2")]
    with pytest.raises(DomainError) as e:
        score_bids(c, dup, {})
    assert e.value.rule is Rule.DUPLICATE


def test_bids_of_other_rounds_or_competitions_are_ignored() -> None:
    c = closed_call_off()
    bids = [bid("P1"), bid("P2", round=2), bid("P3", competition_id="C9")]
    result = score_bids(c, bids, {"B-P1": BidAssessment("B-P1", scores(5, 5))})
    assert [s.provider_id for s in result.ranking] == ["P1"]


# ------------------------------------------------------------- properties

bid_rows = st.lists(
    st.tuples(
        st.integers(min_value=100_00, max_value=10_000_00),  # weekly fee in pence
        st.integers(0, 10),
        st.integers(0, 10),
        st.integers(0, 5),  # submission minute: ties happen
        st.booleans(),  # compliant
    ),
    min_size=1,
    max_size=25,
)


def build(
    rows: list[tuple[int, int, int, int, bool]],
) -> tuple[list[Bid], dict[str, BidAssessment]]:
    bids, assessments = [], {}
    for i, (pence, fit, transition, minute, ok) in enumerate(rows):
        pid = f"P{i:03d}"
        b = bid(pid, str(Decimal(pence) / 100), minutes=minute)
        bids.append(b)
        if ok:
            assessments[b.bid_id] = BidAssessment(b.bid_id, scores(fit, transition))
        else:
            assessments[b.bid_id] = BidAssessment(b.bid_id, compliant=False, reason="fails")
    return bids, assessments


@settings(max_examples=150, deadline=None)
@given(bid_rows, st.integers(0, 100), st.randoms(use_true_random=False))
def test_ranking_properties(
    rows: list[tuple[int, int, int, int, bool]], qw: int, rnd: random.Random
) -> None:
    c = closed_call_off()
    c = replace(c, spec=replace(c.spec, quality_weight=qw, price_weight=100 - qw))
    bids, assessments = build(rows)
    result = score_bids(c, bids, assessments)
    ranking = result.ranking
    compliant = [b for b in bids if assessments[b.bid_id].compliant]

    assert len(ranking) == len(compliant)
    assert len(result.non_compliant) == len(bids) - len(compliant)
    assert [s.rank for s in ranking] == list(range(1, len(ranking) + 1))
    for s in ranking:
        assert Decimal(0) <= s.price_score <= c.spec.price_weight
        assert Decimal(0) <= s.quality_score <= c.spec.quality_weight
        assert s.total == s.price_score + s.quality_score
        if s.price == result.lowest_price:
            assert s.price_score == c.spec.price_weight
    # Ranking is a strict total order under the stated tie-break keys.
    keys = [(-s.total, -s.quality_score, s.price, s.submitted_at, s.provider_id) for s in ranking]
    assert all(a < b for a, b in itertools.pairwise(keys))
    # Deterministic: the order bids arrive in does not matter.
    shuffled = bids[:]
    rnd.shuffle(shuffled)
    assert score_bids(c, shuffled, assessments).ranking == ranking


@given(
    st.decimals(min_value=1, max_value=1_000_000, places=2),
    st.decimals(min_value=0, max_value=1_000_000, places=2),
    st.integers(0, 100),
)
def test_price_score_is_within_the_weight(lowest: Decimal, extra: Decimal, weight: int) -> None:
    s = price_score(lowest, lowest + extra, weight)
    assert Decimal(0) <= s <= weight
    assert price_score(lowest, lowest, weight) == weight


@given(st.integers(0, 10), st.integers(0, 10), st.integers(0, 100))
def test_quality_score_is_within_the_weight(fit: int, transition: int, weight: int) -> None:
    questions = spec().quality_questions
    s = quality_score(questions, scores(fit, transition), weight)
    assert Decimal(0) <= s <= weight
    assert quality_score(questions, scores(10, 10), weight) == weight


def test_two_hundred_bids() -> None:
    rnd = random.Random(2026)
    rows = [
        (
            rnd.randint(800_00, 4_000_00),
            rnd.randint(0, 10),
            rnd.randint(0, 10),
            rnd.randint(0, 60),
            True,
        )
        for _ in range(200)
    ]
    bids, assessments = build(rows)
    pids = tuple(b.provider_id for b in bids)
    c = closed_call_off(pids=pids)
    result = score_bids(c, bids, assessments)
    assert len(result.ranking) == 200
    totals = [s.total for s in result.ranking]
    assert totals == sorted(totals, reverse=True)
    cheapest = min(bids, key=lambda b: b.offer.annual_cost)
    assert any(s.bid_id == cheapest.bid_id and s.price_score == 40 for s in result.ranking)
    assert NOW + timedelta(days=1) <= result.ranking[0].submitted_at
