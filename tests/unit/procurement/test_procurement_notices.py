"""Issue 12 part 3: standstill, whole-term value, notice tracking, tenderers' information,
contractable weeks and no child data in published text."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from services.procurement.domain import (
    LIGHT_TOUCH_THRESHOLDS,
    BidAssessment,
    ChargeBasis,
    Competition,
    CompetitionKind,
    DomainError,
    NoticeKind,
    NoticeStatus,
    Rule,
    SupportItem,
    TrackedNotice,
    award_notice,
    contract_value,
    light_touch_threshold,
    losing_bidder_feedback,
    mark_notice_overdue,
    notice_late,
    open_competition,
    record_notice,
    standstill_decision,
    submit_bid,
    term_years,
    track_award_notice,
)
from shared.contracts import procurement_v1
from shared.working_days import LONDON

from .builders import DEADLINE, NOW, block_spec, docs_for, member, offer, register, scheme, spec
from .test_procurement_award import AWARD_AT, MEMBERS, PIDS, approve, evaluated

THRESHOLD = Decimal("663540")

# ------------------------------------------------------------------ standstill


@pytest.mark.parametrize(
    ("on", "value"),
    [
        (date(2018, 6, 1), Decimal("615278")),
        (date(2019, 12, 31), Decimal("615278")),
        (date(2020, 1, 1), Decimal("663540")),
        (date(2023, 12, 31), Decimal("663540")),
        (date(2024, 1, 1), Decimal("663540")),
        (date(2026, 3, 20), Decimal("663540")),
    ],
)
def test_light_touch_threshold_in_force_on_a_date(on: date, value: Decimal) -> None:
    t = light_touch_threshold(on)
    assert t.value == value and t.effective_from <= on and t.source


def test_thresholds_are_dated_data_with_sources() -> None:
    assert [t.effective_from for t in LIGHT_TOUCH_THRESHOLDS] == sorted(
        t.effective_from for t in LIGHT_TOUCH_THRESHOLDS
    )
    assert (date(2024, 1, 1), THRESHOLD) in {
        (t.effective_from, t.value) for t in LIGHT_TOUCH_THRESHOLDS
    }
    with pytest.raises(DomainError):
        light_touch_threshold(date(2010, 1, 1))


@pytest.mark.parametrize(
    ("kind", "value", "on", "opts", "applies"),
    [
        (CompetitionKind.BLOCK, THRESHOLD, date(2026, 3, 20), {}, True),  # equal or greater
        (CompetitionKind.BLOCK, THRESHOLD - 1, date(2026, 3, 20), {}, False),
        (CompetitionKind.BLOCK, Decimal("640000"), date(2019, 6, 1), {}, True),  # £615,278
        (CompetitionKind.BLOCK, Decimal("640000"), date(2024, 1, 1), {}, False),  # £663,540
        (CompetitionKind.INDIVIDUAL, Decimal("900000"), date(2026, 3, 20), {}, False),
        (
            CompetitionKind.BLOCK,
            Decimal("900000"),
            date(2026, 3, 20),
            {"standstill_blocks_above_threshold": False},
            False,
        ),
        (
            CompetitionKind.INDIVIDUAL,
            Decimal("1000"),
            date(2026, 3, 20),
            {"voluntary_standstill": True},
            True,
        ),
    ],
)
def test_standstill_decision_per_kind_threshold_date_and_scheme(
    kind: CompetitionKind, value: Decimal, on: date, opts: dict[str, bool], applies: bool
) -> None:
    decision = standstill_decision(scheme(**opts), kind, value, on)
    assert decision.applies is applies and decision.reason


def test_block_award_above_threshold_is_awarded_in_standstill() -> None:
    _, award = approve(spec=block_spec())
    assert award.contract_value >= THRESHOLD
    assert award.contract_awaits_standstill
    # 10 calendar days from Friday 20 March 2026 (reg 87): to the end of Monday 30 March.
    assert award.standstill_ends_at == datetime(2026, 3, 31, 0, 0, tzinfo=LONDON)
    assert "663540" in award.standstill_reason


def test_individual_award_below_threshold_makes_its_contract_at_once() -> None:
    _, award = approve()
    assert not award.contract_awaits_standstill and award.standstill_ends_at is None


# --------------------------------------------------------------- whole-term value


def test_individual_award_is_valued_over_its_whole_term() -> None:
    # (1500 core + 300 weekly support) x 38 weeks x 3 years (the individual term).
    _, award = approve()
    assert award.contract_value == Decimal("1800") * 38 * 3


def test_one_off_support_counts_once_over_the_term() -> None:
    o = offer(
        "P1",
        "1000.00",
        additional_support=(
            SupportItem("therapy", Decimal("100.00"), ChargeBasis.WEEKLY),
            SupportItem("equipment", Decimal("5000.00"), ChargeBasis.ONE_OFF),
            SupportItem("review", Decimal("600.00"), ChargeBasis.ANNUAL),
        ),
    )
    value = contract_value(o, 2, date(2026, 9, 1), date(2029, 8, 31))
    assert value == ((Decimal(1100) * 38 + 600) * 3 + 5000) * 2


def test_term_years_counts_whole_years_and_the_part_year() -> None:
    assert term_years(date(2024, 2, 29), date(2027, 2, 27)) == 3
    assert term_years(date(2026, 9, 1), date(2027, 2, 28)) == Decimal(181) / 365


def test_award_notice_states_the_whole_term_value_and_end() -> None:
    c, award = approve()
    notice = award_notice(award, scheme(), c)
    assert notice.value == Decimal("205200.00")
    assert notice.contract_end == date(2029, 4, 19)


# -------------------------------------------------------------- notice tracking


def tracked() -> TrackedNotice:
    c, award = approve(scheme=scheme(group_notices_quarterly=False))
    return track_award_notice(award_notice(award, scheme(), c), scheme())


def test_award_notice_is_tracked_from_award_with_its_due_date_and_rule() -> None:
    n = tracked()
    assert n.kind is NoticeKind.AWARD and n.status is NoticeStatus.DUE
    assert n.due_on == date(2026, 4, 19)
    assert "reg 75" in n.rule


def test_notice_is_overdue_after_its_due_day_once() -> None:
    n = tracked()
    on_due_day = datetime(2026, 4, 19, 23, 0, tzinfo=LONDON)
    assert mark_notice_overdue(n, on_due_day) is None
    overdue = mark_notice_overdue(n, on_due_day + timedelta(hours=2))
    assert overdue is not None and overdue.overdue_at is not None
    assert mark_notice_overdue(overdue, on_due_day + timedelta(days=3)) is None


def test_sent_or_published_notice_is_never_overdue() -> None:
    n = tracked()
    sent = record_notice(n, NoticeStatus.SENT, by="c1", at=AWARD_AT, publication_ref="FTS-1")
    assert (sent.sent_by, sent.sent_at, sent.publication_ref) == ("c1", AWARD_AT, "FTS-1")
    assert mark_notice_overdue(sent, AWARD_AT + timedelta(days=90)) is None
    later = AWARD_AT + timedelta(days=60)
    published = record_notice(sent, NoticeStatus.PUBLISHED, by="c2", at=later)
    assert (published.published_by, published.publication_ref) == ("c2", "FTS-1")
    assert not notice_late(published)  # sent on time, published later
    with pytest.raises(DomainError) as e:
        record_notice(published, NoticeStatus.SENT, by="c3", at=later)
    assert e.value.rule is Rule.INVALID_TRANSITION


def test_late_publication_is_recorded_as_late() -> None:
    n = tracked()
    late = record_notice(
        n, NoticeStatus.PUBLISHED, by="c1", at=datetime(2026, 4, 20, 9, tzinfo=LONDON)
    )
    assert notice_late(late)


# ------------------------------------------------------- tenderers' information


def test_unsuccessful_bidder_gets_scores_relative_advantages_and_winner_name() -> None:
    c, result, _ = evaluated()
    _, award = approve()
    (fb,) = losing_bidder_feedback(
        result, award, winner_name="School P1", questions=c.spec.quality_questions
    )
    assert fb.winner_name == "School P1"  # admissible tender: reg 55(2)(c)
    assert fb.own_total == result.ranking[1].total and fb.winner_total == result.ranking[0].total
    joined = " ".join(fb.relative_advantages)
    assert "How will you meet the child's needs?: the winning bid scored 9, yours 5" in joined
    assert "Transition plan: the winning bid scored 8, yours 5" in joined
    assert "price" not in joined  # P2 was cheaper: no price advantage to the winner


def test_non_compliant_bidder_is_told_the_winner_only_under_standstill() -> None:
    not_ok = BidAssessment("B-P2", compliant=False, reason="no OT provision")
    assessments = {
        "B-P1": BidAssessment("B-P1", {"fit": Decimal(9), "transition": Decimal(8)}),
        "B-P2": not_ok,
    }
    _, result, _ = evaluated(assessments=assessments)
    _, award = approve(assessments=assessments)
    (fb,) = losing_bidder_feedback(result, award, winner_name="School P1")
    assert fb.winner_name is None and fb.relative_advantages == ()
    in_standstill = replace(
        award, contract_awaits_standstill=True, standstill_ends_at=AWARD_AT + timedelta(days=11)
    )
    (fb,) = losing_bidder_feedback(result, in_standstill, winner_name="School P1")
    assert fb.winner_name == "School P1"  # reg 86(2): every tenderer concerned
    assert fb.standstill_ends_at == in_standstill.standstill_ends_at


# ------------------------------------------------------------- contractable weeks


def opened(**spec_overrides: object) -> Competition:
    return open_competition(
        scheme(),
        spec(**spec_overrides),
        deadline_at=DEADLINE,
        memberships=MEMBERS,
        providers=register(*PIDS),
        documents=docs_for(PIDS),
        now=NOW,
    )


@pytest.mark.parametrize("weeks", [39, 44, 50, 1])
def test_bid_with_weeks_placements_cannot_contract_is_refused(weeks: int) -> None:
    with pytest.raises(DomainError) as e:
        submit_bid(
            opened(),
            offer("P1", weeks=weeks),
            bid_id="b",
            membership=member("P1", "lot2"),
            now=NOW,
        )
    assert (e.value.field, e.value.rule) == ("weeks_per_year", Rule.WEEKS_NOT_CONTRACTABLE)


@pytest.mark.parametrize("weeks", procurement_v1.CONTRACTABLE_WEEKS_PER_YEAR)
def test_contractable_weeks_are_accepted(weeks: int) -> None:
    receipt = submit_bid(
        opened(),
        offer("P1", weeks=weeks),
        bid_id="b",
        membership=member("P1", "lot2"),
        now=NOW,
    )
    assert receipt.bid.offer.weeks_per_year == weeks


# ------------------------------------------------------------ no child data published


def test_award_notice_never_copies_a_title_carrying_a_child_reference() -> None:
    title = "Placement for KCC-EHC-000123 (dob 2014-05-01, ASD)"
    c, award = approve(spec=spec(title=title))
    notice = award_notice(award, scheme(), c)
    for leak in ("KCC-EHC-000123", "2014-05-01", "ASD", "NEED-1", title):
        assert leak not in notice.description
    assert notice.description == (
        "individual call-off under KCC-NMISS-DPS: 1 place(s), category asd-day, lot lot2"
    )


def test_residential_call_off_takes_only_its_own_weeks() -> None:
    from services.procurement.domain import FilterCriteria
    from shared.contracts.common import Attendance, NeedType

    c = opened()
    residential = FilterCriteria(NeedType.ASD, Attendance.RESIDENTIAL_52, 12, 12)
    c = replace(c, spec=replace(c.spec, filter=residential))  # type: ignore[type-var]
    with pytest.raises(DomainError) as e:
        submit_bid(
            c,
            offer("P1", weeks=38),
            bid_id="b",
            membership=member("P1", "lot2"),
            now=NOW,
        )
    assert (e.value.field, e.value.rule) == ("weeks_per_year", Rule.WEEKS_NOT_CONTRACTABLE)


def test_procurement_and_placements_agree_on_weeks_and_term() -> None:
    from services.placements import commands as placements_commands
    from services.placements import domain as placements

    assert placements.WEEKS_PER_YEAR_OPTIONS == procurement_v1.CONTRACTABLE_WEEKS_PER_YEAR
    assert placements_commands.DEFAULT_TERM_YEARS == procurement_v1.DEFAULT_INDIVIDUAL_TERM_YEARS
