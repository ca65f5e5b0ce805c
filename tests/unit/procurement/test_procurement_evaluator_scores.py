"""Evaluator scoring: the ``evaluation`` state, recording scores per question,
moderation of several evaluators, and assessments fed to the ranking."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.procurement.domain import (
    Competition,
    CompetitionStatus,
    DomainError,
    EvaluatorScores,
    QualityQuestion,
    Rule,
    evaluate_competition,
    evaluator_assessments,
    moderated_scores,
    needs_evaluator_scores,
    record_evaluator_scores,
    start_evaluation,
)

from .builders import DEADLINE, QUALITY, bid
from .test_procurement_evaluation import closed_call_off

AT = DEADLINE + timedelta(days=1)


def d(x: str | int) -> Decimal:
    return Decimal(x)


def in_evaluation() -> Competition:
    return start_evaluation(closed_call_off(pids=("P1", "P2")))


def entry(
    bid_id: str, evaluator: str, fit: str, transition: str, minutes: int = 0
) -> EvaluatorScores:
    return EvaluatorScores(
        bid_id,
        evaluator,
        {"fit": d(fit), "transition": d(transition)},
        AT + timedelta(minutes=minutes),
    )


def test_a_closed_call_off_with_questions_and_compliant_bids_waits_for_evaluators() -> None:
    c = closed_call_off()
    assert needs_evaluator_scores(c, compliant_bids=2)
    assert not needs_evaluator_scores(c, compliant_bids=0)  # nothing to score
    assert start_evaluation(c).status is CompetitionStatus.EVALUATION
    with pytest.raises(DomainError) as err:
        start_evaluation(start_evaluation(c))
    assert err.value.rule is Rule.INVALID_TRANSITION


def test_scores_are_recorded_per_question_and_checked() -> None:
    c = in_evaluation()
    scores = {"fit": d("7.5"), "transition": d(3)}
    e = record_evaluator_scores(
        c, bid("P1"), set_aside={}, evaluator="eve", scores=scores, comment=" ok ", now=AT
    )
    assert e == EvaluatorScores("B-P1", "eve", scores, AT, "ok")
    bad = [
        ({"fit": d(11), "transition": d(1)}, "scores.fit", Rule.OUT_OF_RANGE),
        ({"fit": d(-1), "transition": d(1)}, "scores.fit", Rule.OUT_OF_RANGE),
        ({"fit": d("1.001"), "transition": d(1)}, "scores.fit", Rule.OUT_OF_RANGE),
        ({"fit": d("NaN"), "transition": d(1)}, "scores.fit", Rule.OUT_OF_RANGE),
        ({"fit": d(1)}, "scores.transition", Rule.ASSESSMENT_MISSING),
        ({"fit": d(1), "transition": d(1), "x": d(1)}, "scores.x", Rule.UNKNOWN),
    ]
    for s, field, rule in bad:
        with pytest.raises(DomainError) as err:
            record_evaluator_scores(c, bid("P1"), set_aside={}, evaluator="eve", scores=s, now=AT)
        assert (err.value.field, err.value.rule) == (field, rule), s


def test_only_live_compliant_bids_of_the_round_in_evaluation_are_scored() -> None:
    c = in_evaluation()
    ok = {"fit": d(5), "transition": d(5)}

    def refused(**kw: object) -> DomainError:
        args: dict[str, object] = {
            "set_aside": {},
            "evaluator": "eve",
            "scores": ok,
            "now": AT,
        } | kw
        competition = args.pop("competition", c)
        b = args.pop("bid", bid("P1"))
        with pytest.raises(DomainError) as err:
            record_evaluator_scores(competition, b, **args)  # type: ignore[arg-type]
        return err.value

    assert refused(competition=closed_call_off()).rule is Rule.INVALID_TRANSITION
    assert refused(bid=None).rule is Rule.UNKNOWN
    assert refused(bid=bid("P1", round=2)).rule is Rule.UNKNOWN
    assert refused(bid=bid("P1", competition_id="C9")).rule is Rule.UNKNOWN
    assert refused(set_aside={"B-P1": "documents expired"}).rule is Rule.BID_SET_ASIDE
    assert refused(evaluator=" ").field == "evaluator"


def test_moderation_is_the_mean_of_each_evaluators_latest_scores() -> None:
    entries = [
        entry("B-P1", "eve", "2", "2"),
        entry("B-P1", "eve", "8", "6", minutes=5),  # eve's latest replaces her first
        entry("B-P1", "ann", "7", "5"),
        entry("B-P2", "ann", "3.33", "4"),
        entry("B-P2", "bob", "3.34", "4"),
    ]
    assert moderated_scores(QUALITY, entries) == {
        "B-P1": {"fit": d("7.50"), "transition": d("5.50")},
        "B-P2": {"fit": d("3.34"), "transition": d("4.00")},  # 3.335 rounds half up
    }


def test_assessments_need_every_compliant_bid_scored_and_keep_set_aside_reasons() -> None:
    c = in_evaluation()
    bids = [bid("P1", "1500.00"), bid("P2", "1200.00"), bid("P3", "1000.00")]
    aside = {"B-P3": "membership suspended at the deadline"}
    with pytest.raises(DomainError) as err:
        evaluator_assessments(c, bids, aside, [entry("B-P1", "eve", "9", "9")])
    assert err.value.rule is Rule.ASSESSMENT_MISSING and "B-P2 (P2)" in err.value.message
    entries = [entry("B-P1", "eve", "9", "9"), entry("B-P2", "eve", "5", "5")]
    assessments = evaluator_assessments(c, bids, aside, entries)
    assert not assessments["B-P3"].compliant and assessments["B-P3"].reason == aside["B-P3"]
    evaluated, result = evaluate_competition(c, bids, assessments)
    assert evaluated.status is CompetitionStatus.EVALUATED
    # The set-aside cheapest bid does not set the lowest price: P2's 45,600 does.
    assert result.lowest_price == d("45600.00")
    assert [s.provider_id for s in result.ranking] == ["P1", "P2"]
    p1 = result.ranking[0]
    assert p1.quality_score == d("54.00") and p1.price_score == d("32.00")  # 9/10x60; 0.8x40
    assert [n.provider_id for n in result.non_compliant] == ["P3"]


@given(
    st.lists(
        st.tuples(st.integers(0, 1000), st.integers(0, 1000)),
        min_size=1,
        max_size=6,
        unique_by=lambda t: t,
    )
)
def test_moderated_scores_stay_between_the_lowest_and_highest_evaluator(
    pairs: list[tuple[int, int]],
) -> None:
    questions = (QualityQuestion("fit", "Fit", 10, 1), QualityQuestion("transition", "T", 10, 1))
    entries = [
        EvaluatorScores("B", f"e{i}", {"fit": d(a) / 100, "transition": d(b) / 100}, AT)
        for i, (a, b) in enumerate(pairs)
    ]
    m = moderated_scores(questions, entries)["B"]
    for q in ("fit", "transition"):
        values = [e.scores[q] for e in entries]
        assert min(values) <= m[q] <= max(values)
        assert 0 <= m[q] <= 10
