"""amend_scheme: the amendment rules as data (domain.AMENDMENT_RULES), without HTTP."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.procurement.domain import (
    AMENDMENT_RULES,
    DomainError,
    Rule,
    SchemeStatus,
    WhileLive,
    amend_scheme,
    changed_fields,
)

from .builders import scheme

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_nothing_changed_is_refused() -> None:
    s = scheme()
    with pytest.raises(DomainError) as caught:
        amend_scheme(s, s, by="c", reason="r", now=NOW)
    assert caught.value.rule is Rule.REQUIRED and caught.value.field == "body"


def test_an_open_scheme_keeps_what_decides_who_would_have_applied() -> None:
    s = scheme()
    for candidate, field in (
        (replace(s, pass_mark=Decimal(50)), "pass_mark"),
        (replace(s, lots=s.lots[:1]), "lots"),
        (replace(s, min_tender_days=20), "min_tender_days"),
    ):
        assert AMENDMENT_RULES[field].while_live is WhileLive.REFUSED
        with pytest.raises(DomainError) as caught:
            amend_scheme(s, candidate, by="c", reason="r", now=NOW)
        assert caught.value.rule is Rule.AMENDMENT_REFUSED and caught.value.field == field
        assert AMENDMENT_RULES[field].source in caught.value.message


def test_an_open_scheme_extends_only_to_the_next_extension_with_a_notice() -> None:
    s = scheme(term_end=date(2027, 2, 23), max_extension_end=date(2028, 2, 23))
    with pytest.raises(DomainError) as caught:
        amend_scheme(s, replace(s, term_end=date(2027, 6, 1)), by="c", reason="r", now=NOW)
    assert caught.value.rule is Rule.EXTENSION_NOT_AVAILABLE
    done = amend_scheme(s, replace(s, term_end=date(2028, 2, 23)), by="c", reason="Demand", now=NOW)
    assert done.extended and done.scheme.term_end_effective == date(2028, 2, 23)
    assert done.scheme.period_notices[-1].change == "extended"
    assert done.scheme.term_end == s.term_end  # the original term stays as published


def test_a_draft_changes_freely_but_is_validated() -> None:
    s = replace(scheme(), status=SchemeStatus.DRAFT)
    done = amend_scheme(s, replace(s, pass_mark=Decimal(50)), by="c", reason="", now=NOW)
    assert done.scheme.pass_mark == 50 and done.changed == ("pass_mark",)
    with pytest.raises(DomainError) as caught:
        amend_scheme(s, replace(s, pass_mark=Decimal(101)), by="c", reason="", now=NOW)
    assert caught.value.field == "pass_mark"


def test_a_closed_scheme_is_never_amended() -> None:
    s = replace(scheme(), status=SchemeStatus.CLOSED)
    with pytest.raises(DomainError) as caught:
        amend_scheme(s, replace(s, title="New"), by="c", reason="r", now=NOW)
    assert caught.value.rule is Rule.INVALID_TRANSITION


def test_changed_fields_compare_the_effective_term_end() -> None:
    s = scheme()
    assert changed_fields(s, replace(s, term_end=s.term_end_effective)) == ()
    assert changed_fields(s, replace(s, title="Other")) == ("title",)
