"""Issue 19: the notices a direct award under the Procurement Act 2023 (s.41, Schedule 5)
owes, from the notices table: a transparency notice (s.44) and a contract award notice
(s.50) before the contract where the ground requires them (urgency; never user choice),
and a contract details notice (s.53) within 30 days, 120 light touch, of entering into it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from services.procurement.domain.direct_awards import (
    DirectAward,
    direct_award_entered_on,
    record_direct_award,
    track_direct_award_notices,
)
from services.procurement.domain.notice_rules import (
    NOTICE_RULES,
    PA2023_DIRECT_AWARD,
    NoticeStep,
    notice_form,
)
from services.procurement.domain.notices import NoticeKind
from shared.working_days import LONDON

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=LONDON)  # a Monday


def award(**overrides: Any) -> DirectAward:
    fields: dict[str, Any] = {
        "direct_award_id": "DA1",
        "ground": "user_choice",
        "justification": "Parental preference for a named independent special school",
        "provider_id": "P1",
        "contract_value": Decimal("60000"),
        "start_date": date(2026, 9, 1),
        "end_date": None,
        "decided_by": "commissioner",
        "now": NOW,
        "need_ref": "PSN-abc",
    }
    fields.update(overrides)
    return record_direct_award(**fields)


def test_the_table_has_the_direct_award_step_with_its_sources() -> None:
    rows = [r for r in NOTICE_RULES if r.step is NoticeStep.DIRECT_AWARD_RECORDED]
    assert [(r.regime, r.kind, r.form) for r in rows] == [
        (PA2023_DIRECT_AWARD, NoticeKind.TRANSPARENCY, "UK5"),
        (PA2023_DIRECT_AWARD, NoticeKind.CONTRACT_AWARD, "UK6"),
        (PA2023_DIRECT_AWARD, NoticeKind.CONTRACT_DETAILS, "UK7"),
    ]
    assert "s.44(1)" in rows[0].source and "reg 26" in rows[0].source
    assert "s.50(6)(b)" in rows[1].source
    assert "s.53(1)" in rows[2].source
    assert notice_form(PA2023_DIRECT_AWARD, NoticeKind.TRANSPARENCY) == "UK5"


def test_user_choice_owes_only_the_contract_details_notice_120_days_light_touch() -> None:
    a = award()
    (details,) = track_direct_award_notices(a)
    assert details.kind is NoticeKind.CONTRACT_DETAILS
    assert details.notice_id == "contract-details-direct-DA1"
    assert details.competition_id == "DA1" and details.scheme_id == "DA1"  # no scheme
    # Entered into on its start date: 120 days beginning with that day.
    assert direct_award_entered_on(a) == date(2026, 9, 1)
    assert details.due_on == date(2026, 12, 29)
    assert "120 light touch" in details.rule and "s.53(1)" in details.rule


def test_a_contract_not_light_touch_owes_its_details_in_30_days() -> None:
    (details,) = track_direct_award_notices(award(light_touch=False, scheme_id="S1"))
    assert details.due_on == date(2026, 9, 30)
    assert details.scheme_id == "S1"


def test_urgency_owes_transparency_and_award_notices_before_the_contract() -> None:
    a = award(
        ground="extreme_urgency",
        start_date=date(2026, 3, 3),
        end_date=date(2026, 7, 31),
    )
    transparency, award_notice, details = track_direct_award_notices(a)
    assert transparency.kind is NoticeKind.TRANSPARENCY
    assert transparency.due_on == date(2026, 3, 3) and "s.44(1)" in transparency.rule
    assert award_notice.kind is NoticeKind.CONTRACT_AWARD
    assert award_notice.due_on == date(2026, 3, 3)
    assert "before the contract is entered into" in award_notice.rule
    assert details.due_on == date(2026, 6, 30)  # 120 days beginning with 3 March


def test_a_start_already_past_makes_the_notices_due_the_decision_day() -> None:
    a = award(ground="extreme_urgency", start_date=date(2026, 2, 20), end_date=date(2026, 5, 1))
    assert direct_award_entered_on(a) == date(2026, 3, 2)
    assert {n.due_on for n in track_direct_award_notices(a)[:2]} == {date(2026, 3, 2)}


def test_a_voluntary_standstill_puts_the_contract_after_it_and_the_award_notice_first() -> None:
    a = award(
        ground="extreme_urgency",
        start_date=date(2026, 3, 3),
        end_date=date(2026, 7, 31),
        voluntary_standstill=True,
    )
    # 8 working days beginning with Monday 2 March end on Wednesday 11 March.
    assert direct_award_entered_on(a) == date(2026, 3, 12)
    transparency, award_notice, _ = track_direct_award_notices(a)
    assert award_notice.due_on == date(2026, 3, 2)  # it starts the standstill (s.51(2))
    assert transparency.due_on == date(2026, 3, 12)
