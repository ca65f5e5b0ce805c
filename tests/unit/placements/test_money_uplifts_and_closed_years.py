"""Issue 12, money: the uplift cap is cumulative over 12 months, and a back-dated change
never rewrites a closed financial year (it posts an adjustment in the current one)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from services.placements import domain as d
from services.placements.events import spend_committed_events
from shared.contracts.placements_v1 import UpliftDecision

from .factories import AT, OFFICER, active_placement

PROVIDER = "provider:prov-1"
CAP = d.UPLIFT_CAP_PERCENT
START = date(2026, 4, 20)  # the factories' placement runs 20 Apr 2026 - 19 Apr 2029


def _approved(p: d.Placement, uplift_id: str, percent: Decimal, on: date) -> d.Placement:
    asked = d.request_uplift(p, uplift_id, percent, on, PROVIDER, AT, reason="pay award")
    uplifted, _ = d.decide_uplift(p, asked, UpliftDecision.APPROVED, OFFICER, AT)
    return uplifted


def test_two_uplifts_within_the_cap_each_but_not_together_need_a_reason() -> None:
    p = _approved(active_placement(), "up-1", Decimal("2"), date(2026, 9, 1))
    with pytest.raises(d.DomainError) as caught:
        d.request_uplift(p, "up-2", Decimal("2"), date(2027, 4, 1), PROVIDER, AT)
    assert (caught.value.field, caught.value.rule) == ("reason", "reason_required_above_cap")
    asked = d.request_uplift(p, "up-2", Decimal("2"), date(2027, 4, 1), PROVIDER, AT, "pay")
    assert asked.above_cap and asked.cumulative_percent == Decimal("4.0400")


def test_compounding_counts_even_when_the_simple_sum_is_at_the_cap() -> None:
    # 1.5% then 1.5% is 3.0225% compounded: above a 3% cap.
    p = _approved(active_placement(), "up-1", Decimal("1.5"), date(2026, 9, 1))
    with pytest.raises(d.DomainError):
        d.request_uplift(p, "up-2", Decimal("1.5"), date(2026, 12, 1), PROVIDER, AT)


def test_uplifts_twelve_months_apart_do_not_add_up() -> None:
    p = _approved(active_placement(), "up-1", Decimal("3"), date(2026, 9, 1))
    asked = d.request_uplift(p, "up-2", Decimal("3"), date(2027, 9, 1), PROVIDER, AT)
    assert not asked.above_cap
    with pytest.raises(d.DomainError):  # one day inside the 12 months
        d.request_uplift(p, "up-3", Decimal("3"), date(2027, 8, 31), PROVIDER, AT)


def test_a_back_dated_uplift_counts_with_a_later_one_in_its_window() -> None:
    p = _approved(active_placement(), "up-1", Decimal("2"), date(2027, 4, 1))
    with pytest.raises(d.DomainError):
        d.request_uplift(p, "up-2", Decimal("2"), date(2026, 6, 1), PROVIDER, AT)


def test_pending_requests_count_and_rejected_ones_do_not() -> None:
    p = active_placement()
    first = d.request_uplift(p, "up-1", Decimal("2"), date(2026, 9, 1), PROVIDER, AT)
    with pytest.raises(d.DomainError):
        d.request_uplift(p, "up-2", Decimal("2"), date(2026, 10, 1), PROVIDER, AT, others=[first])
    _, rejected = d.decide_uplift(p, first, UpliftDecision.REJECTED, OFFICER, AT, "no")
    ok = d.request_uplift(
        p, "up-2", Decimal("2"), date(2026, 10, 1), PROVIDER, AT, others=[rejected]
    )
    assert not ok.above_cap


percents = st.decimals(min_value=Decimal("0.01"), max_value=CAP, places=2)


@settings(max_examples=150, deadline=None)
@given(
    parts=st.lists(percents, min_size=2, max_size=5),
    gaps=st.lists(st.integers(min_value=0, max_value=70), min_size=5, max_size=5),
)
def test_however_an_increase_is_split_within_12_months_the_cap_holds(
    parts: list[Decimal], gaps: list[int]
) -> None:
    """Split into several uplifts within 12 months (each at most the cap), the last one
    needs a reason exactly when the compounded total exceeds the cap."""
    factor = Decimal(1)
    for part in parts:
        factor *= (100 + part) / 100
    compounded = (factor - 1) * 100
    p = active_placement()
    on = date(2026, 5, 1)
    for index, part in enumerate(parts[:-1]):
        p = _approved(p, f"up-{index}", part, on)
        on += timedelta(days=gaps[index])
    assume((on - date(2026, 5, 1)).days < 365)
    last = parts[-1]
    if compounded > CAP:
        with pytest.raises(d.DomainError):
            d.request_uplift(p, "up-last", last, on, PROVIDER, AT)
    else:
        assert not d.request_uplift(p, "up-last", last, on, PROVIDER, AT).above_cap


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.dates(date(2026, 1, 1), date(2028, 12, 31)), percents),
        max_size=6,
    ),
    st.dates(date(2026, 1, 1), date(2028, 12, 31)),
    percents,
)
def test_cumulative_is_at_least_the_uplift_and_at_most_everything_compounded(
    uplifts: list[tuple[date, Decimal]], on: date, percent: Decimal
) -> None:
    cumulative = d.cumulative_uplift_percent(uplifts, on, percent)
    everything = Decimal(1) * (100 + percent) / 100
    for _, p in uplifts:
        everything *= (100 + p) / 100
    assert percent <= cumulative <= (everything - 1) * 100


# --- closed financial years ---------------------------------------------------------------


def test_back_dated_uplift_posts_an_adjustment_in_the_current_year() -> None:
    p = d.start_placement(
        d.create_placement(
            replace(_award_from(date(2025, 4, 1)), term_end=date(2028, 3, 31)),
            "pl-1",
            OFFICER,
            AT,
        ),
        date(2025, 4, 1),
        PROVIDER,
        AT,
    )
    today = date(2026, 6, 1)  # financial year 2026-27: 2025-26 is closed
    held = {e.financial_year: e.amount for e in spend_committed_events(p, (), today)}
    uplifted = _approved(p, "up-1", Decimal("2"), date(2025, 10, 1))
    posted = {e.financial_year: e for e in spend_committed_events(uplifted, held, today)}
    recomputed = d.committed_spend_by_financial_year(uplifted)
    assert posted[2025].amount == held[2025]  # the closed year is not rewritten
    correction = recomputed[2025] - held[2025]
    assert correction > 0
    assert posted[2026].amount == recomputed[2026] + correction
    assert posted[2026].adjustment == correction
    assert posted[2027].amount == recomputed[2027] and posted[2027].adjustment is None
    # Posting again (held = what was posted) changes nothing: the rule is idempotent.
    again = {
        e.financial_year: e.amount
        for e in spend_committed_events(uplifted, {fy: e.amount for fy, e in posted.items()}, today)
    }
    assert again == {fy: e.amount for fy, e in posted.items()}


def _award_from(start: date) -> d.Award:
    from .factories import award

    return award(awarded_on=start - timedelta(days=30), start_date=start)


money = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("500000.00"), places=2)
ledgers = st.dictionaries(st.integers(2023, 2029), money, max_size=7)


@settings(max_examples=200, deadline=None)
@given(ledgers, ledgers, st.dates(date(2023, 4, 1), date(2030, 3, 31)))
def test_closed_years_are_kept_and_nothing_is_lost(
    computed: dict[int, Decimal], held: dict[int, Decimal], today: date
) -> None:
    current = d.financial_year_of(today)
    posting = d.post_to_ledger(computed, held, today)
    for fy, amount in held.items():
        if fy < current:
            assert posting.amounts[fy] == amount
    assert all(amount >= 0 for amount in posting.amounts.values())
    # Conservation: unless a credit had to be carried forward (line floored at 0), the
    # ledger adds up to the recomputed commitment.
    if current not in posting.amounts or posting.amounts[current] > 0:
        assert sum(posting.amounts.values()) == sum(computed.values())
    # Idempotent: posting the same commitment again over what was posted changes nothing.
    assert d.post_to_ledger(computed, posting.amounts, today).amounts == posting.amounts


def test_a_credit_larger_than_the_current_year_is_carried_forward() -> None:
    held = {2024: Decimal("1000.00")}
    computed = {2024: Decimal("200.00"), 2025: Decimal("300.00"), 2026: Decimal("900.00")}
    first = d.post_to_ledger(computed, held, date(2025, 6, 1))
    assert first.amounts == {
        2024: Decimal("1000.00"),
        2025: Decimal("0.00"),
        2026: Decimal("900.00"),
    }
    assert first.adjustment == Decimal("-300.00")
    next_year = d.post_to_ledger(computed, first.amounts, date(2026, 6, 1))
    assert next_year.amounts[2026] == Decimal("400.00")  # 900 - the 500 still owed
    assert sum(next_year.amounts.values()) == sum(computed.values())
