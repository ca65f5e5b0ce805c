"""The soak's end check (bench/soak/checker.py) finds lost, doubled and reordered events
on synthetic inbox data, and passes a clean run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.soak.checker import Expected, check_applied, check_counts

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


EXPECTED = [
    Expected("a0", "A", 0),
    Expected("a1", "A", 1),
    Expected("a2", "A", 2),
    Expected("b0", "B", 0),
    Expected("b1", "B", 1),
]


def test_clean_run_passes_and_a_batch_tie_is_not_a_reordering() -> None:
    applied = [("a0", at(1)), ("a1", at(2)), ("a2", at(2)), ("b0", at(0)), ("b1", at(5))]
    verdict = check_applied(EXPECTED, applied)
    assert verdict.clean
    assert verdict.expected == 5


def test_unexpected_applications_are_ignored() -> None:
    applied = [(e.event_id, at(i)) for i, e in enumerate(EXPECTED)] + [("other", at(0))]
    assert check_applied(EXPECTED, applied).clean


def test_lost_event() -> None:
    applied = [("a0", at(1)), ("a2", at(3)), ("b0", at(0)), ("b1", at(5))]
    verdict = check_applied(EXPECTED, applied)
    assert verdict.lost == ["a1"]
    assert not verdict.doubled and not verdict.reordered  # a gap is not a reordering


def test_doubled_event() -> None:
    applied = [("a0", at(1)), ("a1", at(2)), ("a1", at(9)), ("a2", at(3))]
    applied += [("b0", at(0)), ("b1", at(5))]
    verdict = check_applied(EXPECTED, applied)
    assert verdict.doubled == ["a1"]
    assert not verdict.lost and not verdict.reordered  # the first application counts


def test_reordered_events_of_one_key() -> None:
    # a2 applied before a1; b's order is fine even though B was applied before A.
    applied = [("a0", at(10)), ("a1", at(12)), ("a2", at(11)), ("b0", at(1)), ("b1", at(2))]
    verdict = check_applied(EXPECTED, applied)
    assert verdict.reordered == ["a2"]  # applied before a1, which comes first
    assert not verdict.lost and not verdict.doubled


def test_a_later_event_before_all_earlier_ones_is_caught() -> None:
    applied = [("a0", at(5)), ("a1", at(6)), ("a2", at(1)), ("b0", at(0)), ("b1", at(0))]
    verdict = check_applied(EXPECTED, applied)
    assert verdict.reordered == ["a2"]


def test_counts_once_per_key() -> None:
    verdict = check_counts({"A": 1, "B": 2, "Z": 1}, ["A", "B", "C"])
    assert verdict.lost == ["C"]
    assert verdict.doubled == ["B"]
    assert verdict.expected == 3
