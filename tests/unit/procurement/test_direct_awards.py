"""Issue 19: direct award under the Procurement Act 2023 (s.41, Schedule 5) — user choice
and urgency, the transparency notice (s.44), contract award notice (s.50), standstill (s.51)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.procurement.domain import DomainError, Rule
from services.procurement.domain.direct_awards import (
    GROUNDS,
    DirectAward,
    DirectAwardGround,
    record_direct_award,
)
from shared.working_days import LONDON

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=LONDON)


def award(**overrides: Any) -> DirectAward:
    fields: dict[str, Any] = {
        "direct_award_id": "DA1",
        "ground": "user_choice",
        "justification": "Parental preference for a named independent special school",
        "provider_id": "P1",
        "contract_value": Decimal("60000.004"),
        "start_date": date(2026, 9, 1),
        "end_date": None,
        "decided_by": "commissioner",
        "now": NOW,
        "need_ref": "PSN-abc",
    }
    fields.update(overrides)
    return record_direct_award(**fields)


def refusal(**overrides: Any) -> DomainError:
    with pytest.raises(DomainError) as e:
        award(**overrides)
    return e.value


def test_grounds_are_data_with_their_sources() -> None:
    assert set(GROUNDS) == set(DirectAwardGround)
    assert "Schedule 5 para 15" in GROUNDS[DirectAwardGround.USER_CHOICE].source
    assert "Schedule 5 para 13" in GROUNDS[DirectAwardGround.EXTREME_URGENCY].source


def test_user_choice_needs_no_transparency_notice_nor_award_notice_nor_standstill() -> None:
    a = award()
    assert a.ground is DirectAwardGround.USER_CHOICE
    assert not a.requires_transparency_notice and "s.44" in a.rule.transparency_source
    assert not a.requires_contract_award_notice and "s.50(6)(b)" in a.sources[2]
    assert not a.standstill_applies and not a.standstill_mandatory
    assert a.standstill_working_days is None
    assert a.contract_value == Decimal("60000.00")
    # no notice starts a standstill, so a voluntary one is refused
    e = refusal(voluntary_standstill=True)
    assert (e.field, e.rule) == ("voluntary_standstill", Rule.MISMATCH)


def test_urgency_needs_a_transparency_notice_first_and_no_mandatory_standstill() -> None:
    a = award(ground="extreme_urgency", end_date=date(2026, 12, 18))
    assert a.requires_transparency_notice and a.requires_contract_award_notice
    assert not a.standstill_applies and not a.standstill_mandatory
    assert "s.51(3)" in a.standstill_reason
    v = award(ground="extreme_urgency", end_date=date(2026, 12, 18), voluntary_standstill=True)
    assert v.standstill_applies and not v.standstill_mandatory
    assert v.standstill_working_days == 8


def test_urgency_is_limited_to_what_it_strictly_needs() -> None:
    e = refusal(ground="extreme_urgency", end_date=None)
    assert (e.field, e.rule) == ("end_date", Rule.REQUIRED)


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"ground": "cheapest"}, "ground", Rule.UNKNOWN),
        ({"justification": "   "}, "justification", Rule.REQUIRED),
        ({"provider_id": ""}, "provider_id", Rule.REQUIRED),
        ({"contract_value": Decimal(-1)}, "contract_value", Rule.OUT_OF_RANGE),
        ({"end_date": date(2026, 8, 31)}, "end_date", Rule.OUT_OF_RANGE),
        ({"now": datetime(2025, 2, 23, 12, tzinfo=LONDON)}, "decided_at", Rule.OUT_OF_RANGE),
    ],
)
def test_bad_direct_awards_are_refused_naming_the_field(
    overrides: dict[str, Any], field: str, rule: Rule
) -> None:
    e = refusal(**overrides)
    assert (e.field, e.rule) == (field, rule)
