"""Award approval, no suitable bid and tier fallback, notices, standstill, feedback."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.procurement.domain import (
    Award,
    AwardNotice,
    BidAssessment,
    ChargeBasis,
    Competition,
    CompetitionStatus,
    DomainError,
    EvaluationResult,
    FeedbackOutcome,
    InvitationReason,
    MembershipStatus,
    NextAction,
    Quarter,
    RegimeCode,
    Rule,
    SupportItem,
    approve_award,
    award_notice,
    award_notice_due,
    close_competition,
    declare_no_suitable_bid,
    evaluate_competition,
    group_notices_by_quarter,
    losing_bidder_feedback,
    open_competition,
    reopen_next_tier,
    standstill_end,
    submit_bid,
)
from shared.working_days import LONDON

from .builders import (
    DEADLINE,
    NOW,
    bid,
    block_spec,
    docs_for,
    member,
    offer,
    register,
    scheme,
    spec,
)

MEMBERS = [member("P1", "lot2"), member("P2", "lot2"), member("L1", "lot1"), member("L2", "lot1")]
PIDS = [m.provider_id for m in MEMBERS]
AWARD_AT = datetime(2026, 3, 20, 11, 0, tzinfo=LONDON)  # Friday


def evaluated(**kw: Any) -> tuple[Competition, EvaluationResult, list[Any]]:
    s = kw.pop("scheme", scheme())
    c = open_competition(
        s,
        kw.pop("spec", spec()),
        deadline_at=DEADLINE,
        memberships=MEMBERS,
        providers=register(*PIDS),
        documents=docs_for(PIDS),
        now=NOW,
    )
    support = (SupportItem("1:1 support", Decimal("300.00"), ChargeBasis.WEEKLY),)
    bids = [
        bid("P1", "1500.00", competition_id=c.competition_id, additional_support=support),
        bid("P2", "1400.00", competition_id=c.competition_id),
    ]
    assessments = kw.pop(
        "assessments",
        {
            "B-P1": BidAssessment("B-P1", {"fit": Decimal(9), "transition": Decimal(8)}),
            "B-P2": BidAssessment("B-P2", {"fit": Decimal(5), "transition": Decimal(5)}),
        },
    )
    c, result = evaluate_competition(close_competition(c, DEADLINE), bids, assessments)
    return c, result, bids


def approve(**kw: Any) -> tuple[Competition, Award]:
    s = kw.pop("scheme", scheme())
    c, result, bids = evaluated(scheme=s, **kw)
    return approve_award(
        c,
        s,
        result,
        bids,
        approved_by="head-of-commissioning",
        winner_membership=MEMBERS[0],
        now=AWARD_AT,
    )


# -------------------------------------------------------------------- award


def test_award_carries_the_winning_commercial_terms() -> None:
    c, award = approve()
    assert c.status is CompetitionStatus.AWARDED
    assert (award.provider_id, award.bid_id, award.need_ref) == ("P1", "B-P1", "NEED-1")
    assert award.weekly_core_fee == Decimal("1500.00")
    assert award.weeks_per_year == 38
    assert award.additional_support[0].amount == Decimal("300.00")
    assert award.start_date == date(2026, 4, 20)
    assert award.annual_value == Decimal("68400.00")  # (1500 + 300) x 38
    assert award.contract_value == Decimal("205200.00")  # x 3 years: the whole term
    assert award.lot_code == "lot2" and award.places == 1 and award.end_date is None
    assert award.approved_by == "head-of-commissioning"
    assert award.awarded_on == date(2026, 3, 20)


def test_award_notice_is_grouped_by_calendar_quarter() -> None:
    _, award = approve()
    assert award.notice_due_on == date(2026, 4, 30)  # 30 days after 31 March


def test_ungrouped_notice_is_due_30_days_after_award() -> None:
    _, award = approve(scheme=scheme(group_notices_quarterly=False))
    assert award.notice_due_on == date(2026, 4, 19)


def test_no_standstill_unless_the_scheme_opts_in() -> None:
    _, award = approve()
    assert award.standstill_ends_at is None
    _, voluntary = approve(scheme=scheme(voluntary_standstill=True))
    # 10 days after Friday 20 March is Monday 30 March: ends at its midnight (BST).
    assert voluntary.standstill_ends_at == datetime(2026, 3, 31, 0, 0, tzinfo=LONDON)


def test_standstill_ending_on_a_bank_holiday_runs_to_the_next_working_day() -> None:
    # 10 days after Tuesday 24 March 2026 is Good Friday; Easter Monday follows.
    assert standstill_end(date(2026, 3, 24), 10) == datetime(2026, 4, 8, 0, 0, tzinfo=LONDON)


def test_block_award_value_over_the_term() -> None:
    _, award = approve(spec=block_spec())
    assert award.places == 10
    assert award.annual_value == Decimal("684000.00")
    assert award.end_date == date(2029, 8, 31)
    # 1 Sep 2026 - 31 Aug 2029 is three whole years (fees x weeks x years).
    assert award.contract_value == Decimal("684000.00") * 3


def test_award_refused_when_the_winner_is_no_longer_an_active_member() -> None:
    c, result, bids = evaluated()
    suspended = member("P1", status=MembershipStatus.SUSPENDED)
    with pytest.raises(DomainError) as e:
        approve_award(
            c, scheme(), result, bids, approved_by="x", now=AWARD_AT, winner_membership=suspended
        )
    assert e.value.rule is Rule.MEMBER_NOT_ACTIVE
    with pytest.raises(DomainError) as e:
        approve_award(
            c, scheme(), result, bids, approved_by="x", now=AWARD_AT, winner_membership=None
        )
    assert e.value.rule is Rule.MEMBER_NOT_ACTIVE


def test_award_needs_a_compliant_bid_and_this_rounds_result() -> None:
    not_ok = {
        "B-P1": BidAssessment("B-P1", compliant=False, reason="x"),
        "B-P2": BidAssessment("B-P2", compliant=False, reason="y"),
    }
    c, result, bids = evaluated(assessments=not_ok)
    with pytest.raises(DomainError) as e:
        approve_award(
            c, scheme(), result, bids, approved_by="x", winner_membership=MEMBERS[0], now=AWARD_AT
        )
    assert e.value.rule is Rule.NO_COMPLIANT_BID
    c, result, bids = evaluated()
    with pytest.raises(DomainError) as e:
        approve_award(
            c,
            scheme(),
            replace(result, round=2),
            bids,
            approved_by="x",
            winner_membership=MEMBERS[0],
            now=AWARD_AT,
        )
    assert e.value.rule is Rule.MISMATCH


def test_award_only_once() -> None:
    c, result, bids = evaluated()
    c, _ = approve_award(
        c, scheme(), result, bids, approved_by="x", winner_membership=MEMBERS[0], now=AWARD_AT
    )
    with pytest.raises(DomainError) as e:
        approve_award(
            c, scheme(), result, bids, approved_by="x", winner_membership=MEMBERS[0], now=AWARD_AT
        )
    assert e.value.rule is Rule.INVALID_TRANSITION


# -------------------------------------------------- no suitable bid and tiers


def test_no_suitable_bid_in_lot_2_reopens_lot_1_then_escalates() -> None:
    s = scheme()
    c, _, _ = evaluated()
    c, outcome = declare_no_suitable_bid(
        c, s, reason="no bid meets the sensory needs", declared_by="cm-1", now=AWARD_AT
    )
    assert c.status is CompetitionStatus.NO_SUITABLE_BID
    assert (outcome.next_action, outcome.next_lot_code) == (NextAction.REOPEN_LOWER_TIER, "lot1")

    new_deadline = AWARD_AT + timedelta(days=10)
    c = reopen_next_tier(
        c,
        s,
        reason="lot 2 yielded no suitable bid",
        deadline_at=new_deadline,
        memberships=MEMBERS,
        providers=register(*PIDS),
        documents=docs_for(PIDS),
        now=AWARD_AT,
    )
    assert (c.status, c.round, c.current_lot, c.deadline_at) == (
        CompetitionStatus.OPEN,
        2,
        "lot1",
        new_deadline,
    )
    round2 = c.current_invitations()
    assert [i.provider_id for i in round2] == ["L1", "L2"]
    assert all(i.reason is InvitationReason.NEXT_TIER for i in round2)
    assert any(t.reason == "lot 2 yielded no suitable bid" for t in c.tier_steps)
    # Evidence of both rounds is kept, each screening tagged with its round.
    assert {s.round for s in c.screenings} == {1, 2}
    assert [s.provider_id for s in c.screenings if s.round == 2 and s.eligible] == sorted(PIDS)

    # Lot 2 providers are not invited to round 2.
    with pytest.raises(DomainError) as e:
        submit_bid(c, offer("P1"), bid_id="X", membership=member("P1"), now=AWARD_AT)
    assert e.value.rule is Rule.NOT_INVITED

    receipt = submit_bid(
        c, offer("L1", "1100.00"), bid_id="B-L1", membership=member("L1", "lot1"), now=AWARD_AT
    )
    assert receipt.bid.round == 2
    c = close_competition(c, new_deadline)
    scores = {"fit": Decimal(6), "transition": Decimal(6)}
    c, result = evaluate_competition(c, [receipt.bid], {"B-L1": BidAssessment("B-L1", scores)})
    _, award = approve_award(
        c,
        s,
        result,
        [receipt.bid],
        approved_by="cm-1",
        winner_membership=MEMBERS[2],
        now=new_deadline + timedelta(days=1),
    )
    assert (award.provider_id, award.lot_code, award.round) == ("L1", "lot1", 2)


def test_no_lower_tier_means_escalate() -> None:
    s = scheme()
    c, _, _ = evaluated()
    c = replace(c, current_lot="lot1")
    c, outcome = declare_no_suitable_bid(c, s, reason="none", declared_by="cm-1", now=AWARD_AT)
    assert outcome.next_action is NextAction.ESCALATE and outcome.next_lot_code is None
    with pytest.raises(DomainError) as e:
        reopen_next_tier(
            c,
            s,
            reason="try again",
            deadline_at=AWARD_AT + timedelta(days=10),
            memberships=MEMBERS,
            providers=register(*PIDS),
            documents=docs_for(PIDS),
            now=AWARD_AT,
        )
    assert e.value.rule is Rule.NO_LOWER_TIER


def test_block_call_off_does_not_fall_back_to_a_lot_without_blocks() -> None:
    s = scheme()
    c, _, _ = evaluated(spec=block_spec())
    _, outcome = declare_no_suitable_bid(c, s, reason="none", declared_by="cm-1", now=AWARD_AT)
    assert outcome.next_action is NextAction.ESCALATE


def test_declaring_no_suitable_bid_needs_a_reason() -> None:
    c, _, _ = evaluated()
    with pytest.raises(DomainError) as e:
        declare_no_suitable_bid(c, scheme(), reason="", declared_by="cm-1", now=AWARD_AT)
    assert e.value.field == "reason"


# -------------------------------------------------------- notices, feedback


def test_award_notice_record() -> None:
    s = scheme()
    c, award = approve(scheme=s)
    notice = award_notice(award, s, c)
    assert notice.scheme_reference == "KCC-NMISS-DPS"
    assert notice.regime is RegimeCode.PCR2015_LIGHT_TOUCH
    assert notice.provider_id == "P1" and notice.value == award.contract_value
    assert notice.quarter == Quarter(2026, 1) and notice.grouped
    assert notice.due_on == date(2026, 4, 30)
    assert "individual call-off" in notice.description


def make_notice(cid: str, on: date, grouped: bool = True) -> AwardNotice:
    return AwardNotice(
        competition_id=cid,
        scheme_id="S1",
        scheme_reference="KCC-NMISS-DPS",
        regime=RegimeCode.PCR2015,
        description="d",
        provider_id="P1",
        value=Decimal(1),
        awarded_on=on,
        contract_start=on,
        contract_end=None,
        quarter=Quarter.of(on),
        grouped=grouped,
        due_on=Quarter.of(on).grouped_notice_due,
    )


def test_group_notices_by_calendar_quarter() -> None:
    notices = [
        make_notice("C3", date(2026, 4, 1)),
        make_notice("C2", date(2026, 3, 31)),
        make_notice("C1", date(2026, 1, 5)),
        make_notice("C4", date(2026, 2, 1), grouped=False),
    ]
    groups = group_notices_by_quarter(notices)
    assert list(groups) == [Quarter(2026, 1), Quarter(2026, 2)]
    assert [n.competition_id for n in groups[Quarter(2026, 1)]] == ["C1", "C2"]
    assert [n.competition_id for n in groups[Quarter(2026, 2)]] == ["C3"]
    assert str(Quarter(2026, 2)) == "2026-Q2"


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_quarter_contains_its_dates(d: date) -> None:
    q = Quarter.of(d)
    assert q.start <= d <= q.end
    assert q.end + timedelta(days=1) == Quarter.of(q.end + timedelta(days=1)).start
    assert (q.grouped_notice_due - q.end).days == 30


def test_quarters_are_calendar_not_financial() -> None:
    assert Quarter.of(date(2026, 4, 1)) == Quarter(2026, 2)
    assert Quarter(2026, 1).end == date(2026, 3, 31)
    assert award_notice_due(scheme(), date(2026, 12, 31)) == date(2027, 1, 30)


def test_losing_bidders_are_told_their_scores_and_the_winners() -> None:
    not_ok = BidAssessment("B-P2", compliant=False, reason="no OT provision")
    c, result, bids = evaluated()
    _, award = approve_award(
        c, scheme(), result, bids, approved_by="x", winner_membership=MEMBERS[0], now=AWARD_AT
    )
    (fb,) = losing_bidder_feedback(result, award)
    winner = result.ranking[0]
    assert (fb.provider_id, fb.outcome, fb.own_rank) == ("P2", FeedbackOutcome.UNSUCCESSFUL, 2)
    assert fb.own_total == result.ranking[1].total
    assert (fb.winner_provider_id, fb.winner_total) == ("P1", winner.total)
    assert fb.winner_quality_score == winner.quality_score
    assert "ranked 2 of 2" in fb.reason

    c, result, bids = evaluated(
        assessments={
            "B-P1": BidAssessment("B-P1", {"fit": Decimal(9), "transition": Decimal(8)}),
            "B-P2": not_ok,
        }
    )
    _, award = approve_award(
        c, scheme(), result, bids, approved_by="x", winner_membership=MEMBERS[0], now=AWARD_AT
    )
    (fb,) = losing_bidder_feedback(result, award)
    assert (fb.outcome, fb.reason, fb.own_total) == (
        FeedbackOutcome.NON_COMPLIANT,
        "no OT provision",
        None,
    )
