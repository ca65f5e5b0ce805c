"""Variations (fee or support from a date) and uplifts (capped requests, commissioner decides)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.placements import domain as d
from shared.contracts.placements_v1 import UpliftDecision

from .factories import AT, OFFICER, active_placement

PROVIDER = "provider:prov-1"


def test_variation_changes_the_fee_from_its_date_and_splits_spend() -> None:
    p = active_placement(start_date=date(2026, 4, 1), term_end=date(2027, 3, 31))
    varied = d.vary_placement(
        p,
        date(2026, 10, 1),
        OFFICER,
        AT,
        "extra speech and language therapy",
        additional_support=(
            d.SupportItem("1:1 teaching assistant", Decimal("400.00")),
            d.SupportItem("SALT", Decimal("150.00")),
        ),
    )
    assert varied.fee_on(date(2026, 9, 30)).total == Decimal("1900.00")
    assert varied.fee_on(date(2026, 10, 1)).total == Decimal("2050.00")
    assert varied.fee_history[-1].kind is d.FeeChangeKind.VARIATION
    # 183 days at 1900 x 38 a year, 182 days at 2050 x 38 a year, over a 365-day year.
    expected = Decimal(72200) * 183 / 365 + Decimal(77900) * 182 / 365
    spend = d.committed_spend_by_financial_year(varied)
    assert spend == {2026: expected.quantize(d.PENNY)}


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        ({"effective_from": date(2026, 4, 19)}, "effective_from", "before_start"),
        ({"effective_from": date(2029, 4, 20)}, "effective_from", "after_end"),
        ({"weekly_core_fee": None}, "weekly_core_fee", "nothing_to_vary"),
        ({"weekly_core_fee": Decimal("-5")}, "weekly_core_fee", "negative_amount"),
        ({"reason": ""}, "reason", "required"),
    ],
)
def test_variation_rules(kwargs: dict[str, object], field: str, rule: str) -> None:
    args: dict[str, object] = {
        "effective_from": date(2026, 9, 1),
        "by": OFFICER,
        "at": AT,
        "reason": "change",
        "weekly_core_fee": Decimal("1600.00"),
    }
    args.update(kwargs)
    with pytest.raises(d.DomainError) as caught:
        d.vary_placement(active_placement(), **args)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_uplift_within_cap_needs_no_reason_and_approval_adds_fee_history() -> None:
    p = active_placement()
    uplift = d.request_uplift(p, "up-1", Decimal("3"), date(2027, 4, 1), PROVIDER, AT)
    assert not uplift.above_cap
    uplifted, decided = d.decide_uplift(p, uplift, UpliftDecision.APPROVED, OFFICER, AT)
    assert decided.decision is UpliftDecision.APPROVED
    assert decided.approved_percent == Decimal("3")
    assert uplifted.fee_on(date(2027, 3, 31)).core == Decimal("1500.00")
    assert uplifted.fee_on(date(2027, 4, 1)).core == Decimal("1545.00")
    assert uplifted.fee_on(date(2027, 4, 1)).total == Decimal("1945.00")  # support unchanged
    entry = uplifted.fee_history[-1]
    assert (entry.kind, entry.ref, entry.by) == (d.FeeChangeKind.UPLIFT, "up-1", OFFICER)


def test_uplift_above_cap_requires_a_reason() -> None:
    p = active_placement()
    with pytest.raises(d.DomainError) as caught:
        d.request_uplift(p, "up-1", Decimal("5.5"), date(2027, 4, 1), PROVIDER, AT)
    assert (caught.value.field, caught.value.rule) == ("reason", "reason_required_above_cap")
    uplift = d.request_uplift(
        p, "up-1", Decimal("5.5"), date(2027, 4, 1), PROVIDER, AT, reason="staff pay award"
    )
    assert uplift.above_cap
    assert not d.request_uplift(
        p, "up-2", Decimal("5.5"), date(2027, 4, 1), PROVIDER, AT, cap_percent=Decimal("6")
    ).above_cap


@pytest.mark.parametrize(
    ("percent", "rule"),
    [
        (Decimal("0"), "not_positive"),
        (Decimal("50.01"), "above_limit"),
        (Decimal("2.555"), "too_precise"),
    ],
)
def test_absurd_uplifts_are_refused(percent: Decimal, rule: str) -> None:
    with pytest.raises(d.DomainError) as caught:
        d.request_uplift(
            active_placement(), "up-1", percent, date(2027, 4, 1), PROVIDER, AT, reason="r"
        )
    assert (caught.value.field, caught.value.rule) == ("requested_percent", rule)


def test_rejection_needs_a_reason_and_leaves_fees_alone() -> None:
    p = active_placement()
    uplift = d.request_uplift(p, "up-1", Decimal("2"), date(2027, 4, 1), PROVIDER, AT)
    with pytest.raises(d.DomainError) as caught:
        d.decide_uplift(p, uplift, UpliftDecision.REJECTED, OFFICER, AT)
    assert caught.value.field == "reason"
    same, rejected = d.decide_uplift(
        p, uplift, UpliftDecision.REJECTED, OFFICER, AT, reason="within agreed fee"
    )
    assert same == p
    assert rejected.decision is UpliftDecision.REJECTED
    with pytest.raises(d.DomainError) as twice:
        d.decide_uplift(p, rejected, UpliftDecision.APPROVED, OFFICER, AT)
    assert twice.value.rule == "uplift_already_decided"


def test_commissioner_may_approve_less_but_not_more() -> None:
    p = active_placement()
    uplift = d.request_uplift(p, "up-1", Decimal("4"), date(2027, 4, 1), PROVIDER, AT, reason="r")
    uplifted, decided = d.decide_uplift(
        p, uplift, UpliftDecision.APPROVED, OFFICER, AT, approved_percent=Decimal("2")
    )
    assert decided.approved_percent == Decimal("2")
    assert uplifted.fee_on(date(2027, 4, 1)).core == Decimal("1530.00")
    with pytest.raises(d.DomainError) as caught:
        d.decide_uplift(
            p, uplift, UpliftDecision.APPROVED, OFFICER, AT, approved_percent=Decimal("5")
        )
    assert (caught.value.field, caught.value.rule) == ("approved_percent", "above_requested")


def test_uplift_effective_before_start_is_refused() -> None:
    with pytest.raises(d.DomainError) as caught:
        d.request_uplift(active_placement(), "up-1", Decimal("2"), date(2026, 1, 1), PROVIDER, AT)
    assert (caught.value.field, caught.value.rule) == ("effective_from", "before_start")
