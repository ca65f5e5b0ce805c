"""The condition language: what it accepts, what it refuses, how it evaluates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.monitoring.domain import (
    DomainError,
    FactType,
    parse_condition,
    render_cause,
)

TYPES = {
    "attendance_pct": FactType.NUMBER,
    "exclusions": FactType.NUMBER,
    "judgement": FactType.TEXT,
    "severity": FactType.TEXT,
    "expired": FactType.BOOL,
}


@pytest.mark.parametrize(
    ("source", "facts", "expected"),
    [
        ("attendance_pct < 80", {"attendance_pct": 79.9}, True),
        ("attendance_pct < 80", {"attendance_pct": 80}, False),
        ("80 <= attendance_pct < 90", {"attendance_pct": 80}, True),
        ("80 <= attendance_pct < 90", {"attendance_pct": 90}, False),
        ('judgement in ("inadequate",)', {"judgement": "inadequate"}, True),
        ('judgement not in ("inadequate", "requires_improvement")', {"judgement": "good"}, True),
        ('severity == "high"', {"severity": "high"}, True),
        ('severity != "high"', {"severity": "high"}, False),
        ('severity == "high" and exclusions > 0', {"severity": "high", "exclusions": 0}, False),
        ('severity == "high" or exclusions > 0', {"severity": "low", "exclusions": 2}, True),
        ("not expired", {"expired": False}, True),
        ("expired", {"expired": True}, True),
        ("exclusions > -1", {"exclusions": 0}, True),
        ("True", {}, True),
        ('"ina" in judgement', {"judgement": "inadequate"}, True),
        (
            "(attendance_pct < 50) or not (exclusions >= 3)",
            {"attendance_pct": 60, "exclusions": 1},
            True,
        ),
    ],
)
def test_accepts_and_evaluates_the_language(source: str, facts: dict, expected: bool) -> None:
    condition = parse_condition(source)
    condition.check_types(TYPES)
    assert condition.evaluate(facts) is expected


def test_missing_value_never_satisfies_an_ordering() -> None:
    assert parse_condition("attendance_pct < 80").evaluate({"attendance_pct": None}) is False
    assert parse_condition("attendance_pct >= 80").evaluate({"attendance_pct": None}) is False


def test_names_lists_the_fields_read() -> None:
    condition = parse_condition('attendance_pct < 80 and severity == "high"')
    assert condition.names == {"attendance_pct", "severity"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("attendance_pct.real < 80", "attribute access is not allowed in a condition"),
        ("len(judgement) > 3", "function calls are not allowed in a condition"),
        ("import os", "imports are not allowed"),
        ("__import__('os')", "names starting with '__' are not allowed"),
        ("judgement.__class__", "names starting with '__' are not allowed"),
        ("__builtins__ == 1", "names starting with '__' are not allowed"),
        ("judgement[0] == 'i'", "indexing is not allowed"),
        ("attendance_pct + 1 < 80", "arithmetic is not allowed"),
        ("judgement in ['a']", "lists are not allowed in a condition; use a tuple"),
        ("(lambda: 1) == 1", "lambda is not allowed"),
        ("[x for x in ()]", "comprehensions are not allowed"),
        ("(x := 1)", "assignment is not allowed"),
        ("f'{judgement}' == 'x'", "f-strings are not allowed"),
        ("1 if expired else 0", "if-else expressions are not allowed"),
        ("judgement in (severity,)", "tuples may hold only literal values"),
        ("judgement is None", "operator Is is not allowed"),
        ("b'x' == judgement", "literal b'x' is not allowed"),
        ("attendance_pct <", "invalid syntax"),
        ("   ", "must not be empty"),
        ("x == 1 or " * 60 + "x == 1", "must be at most"),
    ],
)
def test_refuses_with_a_clear_error(source: str, message: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_condition(source)
    assert caught.value.field == "condition"
    assert message in caught.value.rule


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("attendence_pct < 80", "unknown field 'attendence_pct'"),
        ('attendance_pct < "80"', "ordering needs two numbers or two texts"),
        ("judgement == 3", "cannot compare text with number"),
        ('attendance_pct in ("a", "b")', "'in' cannot look for number"),
        ('judgement in ("a", 1)', "a tuple must hold values of one type"),
        ("attendance_pct", "must be true or false"),
        ("not attendance_pct", "and/or/not need true-or-false operands"),
        ('expired and "x"', "and/or/not need true-or-false operands"),
    ],
)
def test_type_check_refuses_meaningless_conditions(source: str, message: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_condition(source).check_types(TYPES)
    assert caught.value.field == "condition"
    assert message in caught.value.rule


def test_unknown_field_error_lists_the_known_fields() -> None:
    with pytest.raises(DomainError, match="attendance_pct, exclusions"):
        parse_condition("nope == 1").check_types(TYPES)


@given(
    value=st.floats(min_value=0, max_value=100, allow_nan=False),
    threshold=st.integers(min_value=0, max_value=100),
)
def test_threshold_comparisons_match_python(value: float, threshold: int) -> None:
    facts = {"attendance_pct": value}
    assert parse_condition(f"attendance_pct < {threshold}").evaluate(facts) is (value < threshold)
    assert parse_condition(f"attendance_pct >= {threshold}").evaluate(facts) is (value >= threshold)


def test_render_cause_fills_plain_placeholders() -> None:
    assert render_cause("attendance:{term}", {"term": "2025-autumn"}) == "attendance:2025-autumn"
    assert render_cause("fixed", {}) == "fixed"
