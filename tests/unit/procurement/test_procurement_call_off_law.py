"""Issue 12: call-offs follow the regime they run under (PCR 2015 reg 34, regs 74-76,
the Procurement Act 2023 transition) and the scheme as published."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.procurement.domain import (
    PA2023_GO_LIVE,
    PCR_DPS_LONG_STOP,
    REGIMES,
    AwardCriteria,
    Bid,
    CompetitionKind,
    DomainError,
    EvaluatorScores,
    FilterCriteria,
    Lot,
    MembershipStatus,
    QualityQuestion,
    QuestionAssessment,
    QuestionKind,
    RegimeCode,
    Rule,
    Scheme,
    SchemeStatus,
    SelectionQuestion,
    answer_self_declaration,
    close_competition,
    close_scheme,
    create_scheme,
    decide_application,
    evaluator_assessments,
    extend_scheme_term,
    invite_late_joiner,
    lot_for_score,
    open_competition,
    open_scheme,
    permitted_filter,
    plan_invitations,
    request_self_declaration,
    require_may_apply,
    require_scheme_takes_bids,
    self_declaration_overdue,
    start_evaluation,
    submit_application,
    suspend_scheme,
)
from shared.contracts.common import Attendance, NeedType
from shared.working_days import LONDON

from .builders import (
    DEADLINE,
    NOW,
    QUALITY,
    TODAY,
    block_spec,
    docs_for,
    documents,
    member,
    offer,
    provider,
    register,
    scheme,
    spec,
)

PLAIN = FilterCriteria(NeedType.ASD, Attendance.DAY)  # no ad hoc narrowing


def full_pcr(**overrides: Any) -> Scheme:
    return scheme(regime=RegimeCode.PCR2015, **overrides)


def kent_members() -> list[Any]:
    return [member("P1", "lot2"), member("P2", "lot1"), member("P3", "lot1")]


def far_and_old() -> dict[str, Any]:
    """P3 is 200 km away and teaches ages 16-19 only: screening would drop it."""
    providers = register("P1", "P2")
    providers["P3"] = provider("P3", age_low=16, age_high=19, location=None)
    return providers


# ------------------------------------------------- 1. who a call-off invites


def test_regimes_say_whether_they_allow_tiers_and_screening_with_sources() -> None:
    full, light = REGIMES[RegimeCode.PCR2015], REGIMES[RegimeCode.PCR2015_LIGHT_TOUCH]
    assert (full.may_tier, full.may_screen) == (False, False)
    assert "34(21)" in full.invitation_source and "34(3)" in full.invitation_source
    assert (light.may_tier, light.may_screen) == (True, True)
    assert "76" in light.invitation_source


def test_full_pcr_invites_every_member_of_the_category_at_once() -> None:
    """Reg 34(21)-(22): no cascade by lot, no screening by age or distance."""
    s = full_pcr()
    plan = plan_invitations(
        s,
        spec(filter=PLAIN),
        memberships=kent_members(),
        providers=far_and_old(),
        documents=docs_for(["P1", "P2", "P3"]),
        today=TODAY,
    )
    assert plan.invitees == ("P1", "P2", "P3")
    assert plan.lot_code is None


def test_full_pcr_still_leaves_out_suspended_or_undocumented_members() -> None:
    members = [*kent_members(), member("P4", "lot1", status=MembershipStatus.SUSPENDED)]
    docs = docs_for(["P1", "P2", "P4"])  # P3 has no documents
    plan = plan_invitations(
        full_pcr(),
        spec(filter=PLAIN),
        memberships=members,
        providers=register("P1", "P2", "P3", "P4"),
        documents=docs,
        today=TODAY,
    )
    assert plan.invitees == ("P1", "P2")


def test_full_pcr_block_call_off_goes_to_every_lot_defined_to_take_blocks() -> None:
    """Lots defined in advance are categories (reg 34(3)-(4)): lot 1 takes no blocks."""
    plan = plan_invitations(
        full_pcr(),
        block_spec(filter=PLAIN),
        memberships=[*kent_members(), member("P5", "lot2")],
        providers=register("P1", "P2", "P3", "P5"),
        documents=docs_for(["P1", "P2", "P3", "P5"]),
        today=TODAY,
    )
    assert plan.invitees == ("P1", "P5")


@pytest.mark.parametrize(
    ("narrowing", "field"),
    [
        (FilterCriteria(NeedType.ASD, Attendance.DAY, 12, 12), "filter.min_age"),
        (FilterCriteria(NeedType.ASD, Attendance.DAY, max_age=12), "filter.max_age"),
    ],
)
def test_full_pcr_refuses_a_call_off_with_ad_hoc_filters(
    narrowing: FilterCriteria, field: str
) -> None:
    with pytest.raises(DomainError) as e:
        open_competition(
            full_pcr(),
            spec(filter=narrowing),
            deadline_at=DEADLINE,
            memberships=kent_members(),
            providers=register("P1", "P2", "P3"),
            documents=docs_for(["P1", "P2", "P3"]),
            now=NOW,
        )
    assert (e.value.field, e.value.rule) == (field, Rule.FILTER_NOT_PERMITTED)


def test_full_pcr_refuses_a_distance_filter() -> None:
    with pytest.raises(DomainError) as e:
        open_competition(
            full_pcr(),
            spec(),  # ages 12-12 and 30 km from Maidstone
            deadline_at=DEADLINE,
            memberships=kent_members(),
            providers=register("P1", "P2", "P3"),
            documents=docs_for(["P1", "P2", "P3"]),
            now=NOW,
        )
    assert e.value.rule is Rule.FILTER_NOT_PERMITTED


def test_light_touch_tiers_and_screens_only_where_the_scheme_published_it() -> None:
    unpublished = scheme(narrowing_published=False)
    plan = plan_invitations(
        unpublished,
        spec(filter=PLAIN),
        memberships=kent_members(),
        providers=far_and_old(),
        documents=docs_for(["P1", "P2", "P3"]),
        today=TODAY,
    )
    assert plan.invitees == ("P1", "P2", "P3")
    with pytest.raises(DomainError) as e:
        open_competition(
            unpublished,
            spec(),
            deadline_at=DEADLINE,
            memberships=kent_members(),
            providers=register("P1", "P2", "P3"),
            documents=docs_for(["P1", "P2", "P3"]),
            now=NOW,
        )
    assert e.value.rule is Rule.FILTER_NOT_PERMITTED


def test_light_touch_with_published_rules_keeps_kents_cascade_and_screening() -> None:
    plan = plan_invitations(
        scheme(),
        spec(),
        memberships=[*kent_members(), member("P4", "lot2")],
        providers={**far_and_old(), "P4": provider("P4", age_low=16, age_high=19)},
        documents=docs_for(["P1", "P2", "P3", "P4"]),
        today=TODAY,
    )
    assert (plan.lot_code, plan.invitees) == ("lot2", ("P1",))


def test_automatic_call_offs_drop_ad_hoc_filters_the_scheme_may_not_use() -> None:
    asked = FilterCriteria(NeedType.ASD, Attendance.DAY, 12, 12, None, None)
    assert permitted_filter(full_pcr(), asked) == PLAIN
    assert permitted_filter(scheme(), asked) == asked


def test_a_late_joiner_of_any_lot_is_invited_when_every_lot_was_invited() -> None:
    c = open_competition(
        full_pcr(),
        spec(filter=PLAIN),
        deadline_at=DEADLINE,
        memberships=[member("P1", "lot2")],
        providers=register("P1"),
        documents=docs_for(["P1"]),
        now=NOW,
    )
    decision = invite_late_joiner(
        c,
        full_pcr(),
        membership=member("P9", "lot1"),
        provider=provider("P9"),
        documents=documents(),
        now=NOW + timedelta(days=1),
    )
    assert decision.invitation is not None


# ----------------------------------------------- 2. award criteria of the scheme


def test_scheme_award_criteria_are_validated_on_creation() -> None:
    draft = replace(scheme(), status=SchemeStatus.DRAFT)
    with pytest.raises(DomainError) as e:
        create_scheme(replace(draft, award_criteria=AwardCriteria(70, 40, QUALITY)))
    assert e.value.rule is Rule.WEIGHTS_MUST_SUM_TO_100
    with pytest.raises(DomainError) as e:
        create_scheme(replace(draft, award_criteria=AwardCriteria(60, 40, ())))
    assert e.value.field == "award_criteria.quality_questions"
    bad_min = (QualityQuestion("fit", "Fit", 10, 1, min_score=11),)
    with pytest.raises(DomainError) as e:
        create_scheme(replace(draft, award_criteria=AwardCriteria(60, 40, bad_min)))
    assert e.value.field == "award_criteria.quality_questions.fit.min_score"


@pytest.mark.parametrize(
    "overrides",
    [
        {"quality_weight": 50, "price_weight": 50},
        {"quality_questions": QUALITY[:1]},
        {"quality_questions": (replace(QUALITY[0], weight=50), QUALITY[1])},
    ],
)
def test_a_call_off_cannot_depart_from_the_published_award_criteria(
    overrides: dict[str, Any],
) -> None:
    with pytest.raises(DomainError) as e:
        open_competition(
            scheme(),
            spec(**overrides),
            deadline_at=DEADLINE,
            memberships=kent_members(),
            providers=register("P1", "P2", "P3"),
            documents=docs_for(["P1", "P2", "P3"]),
            now=NOW,
        )
    assert e.value.rule is Rule.AWARD_CRITERIA_MISMATCH


def test_a_bid_below_a_published_question_minimum_is_not_suitable() -> None:
    questions = (replace(QUALITY[0], min_score=5), QUALITY[1])
    s = scheme(award_criteria=AwardCriteria(60, 40, questions))
    c = open_competition(
        s,
        spec(quality_questions=questions),
        deadline_at=DEADLINE,
        memberships=kent_members(),
        providers=register("P1", "P2", "P3"),
        documents=docs_for(["P1", "P2", "P3"]),
        now=NOW,
    )
    c = start_evaluation(close_competition(c, DEADLINE))
    bids = [
        Bid("B1", c.competition_id, 1, offer("P1"), NOW),
        Bid("B2", c.competition_id, 1, offer("P2"), NOW),
    ]
    entries = [
        EvaluatorScores("B1", "e1", {"fit": Decimal(4), "transition": Decimal(10)}, NOW),
        EvaluatorScores("B2", "e1", {"fit": Decimal(5), "transition": Decimal(1)}, NOW),
    ]
    out = evaluator_assessments(c, bids, {}, entries)
    assert not out["B1"].compliant and "below the published minimum 5" in (out["B1"].reason or "")
    assert out["B2"].compliant


# ------------------------------------------------- 3. Kent's lots as published


KENT_QUESTIONS = tuple(
    SelectionQuestion(f"Q{n}", f"Award question {n}", QuestionKind.SCORED, 10, 1)
    for n in range(11, 17)
)
KENT_NAMES = tuple(q.question_id for q in KENT_QUESTIONS)
KENT_LOT2 = Lot("lot2", "Lot 2", Decimal(60), True, Decimal(6), KENT_NAMES)
KENT_LOT1 = Lot("lot1", "Lot 1", Decimal(30), False, Decimal(3), KENT_NAMES)


def kent() -> Scheme:
    return scheme(
        selection_questions=KENT_QUESTIONS, lots=(KENT_LOT1, KENT_LOT2), pass_mark=Decimal(30)
    )


def kent_scores(*scores: int) -> dict[str, QuestionAssessment]:
    return {
        q: QuestionAssessment(score=Decimal(s)) for q, s in zip(KENT_NAMES, scores, strict=True)
    }


def decide_kent(*scores: int) -> Any:
    s = kent()
    app = submit_application(
        s,
        application_id="A1",
        provider_id="P1",
        requested_categories=["asd-day"],
        answers={q: "answer" for q in KENT_NAMES},
        now=NOW,
    )
    return decide_application(
        app,
        s,
        provider=provider(),
        documents=documents(),
        assessments=kent_scores(*scores),
        decided_by="officer",
        now=NOW,
    ).application.decision


def test_kent_lot_2_needs_60_and_6_on_each_named_question() -> None:
    decision = decide_kent(9, 9, 9, 9, 9, 6)
    assert decision.lot_code == "lot2"


def test_kent_failing_one_lot_2_minimum_is_admitted_to_lot_1() -> None:
    decision = decide_kent(9, 9, 9, 9, 9, 5)  # 83.33/100 but 5 < 6 on Q16
    assert decision.quality_score > 60
    assert decision.outcome.value == "admitted" and decision.lot_code == "lot1"


def test_kent_below_3_on_one_question_qualifies_for_no_lot() -> None:
    decision = decide_kent(9, 9, 9, 9, 9, 2)
    assert decision.outcome.value == "rejected" and decision.lot_code is None
    lot = next(c for c in decision.criteria if c.criterion == "lot")
    assert not lot.passed and "Q16 scored 2 < 3" in lot.reason


def test_lot_for_score_uses_the_per_question_minimums() -> None:
    s = kent()
    scores = {q: Decimal(7) for q in KENT_NAMES}
    assert lot_for_score(s, Decimal(70), scores) == KENT_LOT2
    assert lot_for_score(s, Decimal(70), {**scores, "Q12": Decimal(4)}) == KENT_LOT1


def test_lot_minimums_must_name_scored_questions_within_range() -> None:
    draft = replace(kent(), status=SchemeStatus.DRAFT)
    with pytest.raises(DomainError) as e:
        create_scheme(replace(draft, lots=(replace(KENT_LOT2, min_score_questions=("Q99",)),)))
    assert (e.value.field, e.value.rule) == ("lots.lot2.min_score_questions", Rule.UNKNOWN)
    with pytest.raises(DomainError) as e:
        create_scheme(replace(draft, lots=(replace(KENT_LOT2, min_question_score=Decimal(11)),)))
    assert e.value.field == "lots.lot2.min_question_score"


# ------------------------------------------ 4. transition to the Procurement Act


def test_transition_dates_are_regime_data_with_their_source() -> None:
    for code in (RegimeCode.PCR2015, RegimeCode.PCR2015_LIGHT_TOUCH):
        r = REGIMES[code]
        assert r.new_schemes_before == PA2023_GO_LIVE == date(2025, 2, 24)
        assert r.long_stop == PCR_DPS_LONG_STOP == date(2029, 2, 23)
        assert "5(4)" in r.transition_source and "Transitional" in r.transition_source


@pytest.mark.parametrize("regime", [RegimeCode.PCR2015, RegimeCode.PCR2015_LIGHT_TOUCH])
def test_no_new_pcr_dps_from_go_live(regime: RegimeCode) -> None:
    draft = replace(scheme(regime=regime), status=SchemeStatus.DRAFT, imported=False)
    with pytest.raises(DomainError) as e:
        create_scheme(replace(draft, established_on=date(2025, 2, 24)))
    assert (e.value.field, e.value.rule) == ("regime", Rule.REGIME_CLOSED_TO_NEW_SCHEMES)
    with pytest.raises(DomainError) as e:
        create_scheme(replace(draft, established_on=None))
    assert (e.value.field, e.value.rule) == ("established_on", Rule.REQUIRED)
    imported = create_scheme(replace(draft, established_on=date(2025, 2, 23), imported=True))
    assert imported.established_on == date(2025, 2, 23)


def test_a_pcr_dps_cannot_be_used_after_the_long_stop() -> None:
    s = scheme(term_end=date(2029, 8, 31), max_extension_end=None)
    after = datetime(2029, 2, 24, 9, tzinfo=LONDON)
    with pytest.raises(DomainError) as e:
        open_competition(
            s,
            spec(),
            deadline_at=after + timedelta(days=14),
            memberships=kent_members(),
            providers=register("P1", "P2", "P3"),
            documents=docs_for(["P1", "P2", "P3"]),
            now=after,
        )
    assert e.value.rule is Rule.LONG_STOP_PASSED
    with pytest.raises(DomainError) as e:
        submit_application(
            s,
            application_id="A1",
            provider_id="P9",
            requested_categories=["asd-day"],
            answers={"ofsted": "x", "curriculum": "y", "staffing": "z"},
            now=after,
        )
    assert e.value.rule is Rule.LONG_STOP_PASSED
    with pytest.raises(DomainError) as e:
        require_scheme_takes_bids(s, after.date())
    assert e.value.rule is Rule.LONG_STOP_PASSED
    assert s.last_usable_day == date(2029, 2, 23)


def test_a_call_off_must_close_by_the_long_stop() -> None:
    s = scheme(term_end=date(2029, 8, 31), max_extension_end=None)
    now = datetime(2029, 2, 12, 9, tzinfo=LONDON)
    with pytest.raises(DomainError) as e:
        open_competition(
            s,
            spec(),
            deadline_at=now + timedelta(days=14),
            memberships=kent_members(),
            providers=register("P1", "P2", "P3"),
            documents=docs_for(["P1", "P2", "P3"]),
            now=now,
        )
    assert e.value.rule is Rule.DEADLINE_AFTER_TERM


def test_an_imported_dps_cannot_be_extended_past_the_long_stop() -> None:
    s = scheme()  # term to 23 February 2029, optional extension to 2031
    at = datetime(2028, 12, 1, 9, tzinfo=LONDON)
    with pytest.raises(DomainError) as e:
        extend_scheme_term(s, at.date(), by="c1", reason="demand", now=at)
    assert e.value.rule is Rule.LONG_STOP_PASSED


# ----------------------------------------------------------- 5. extensions


def kent_term(**overrides: Any) -> Scheme:
    """Kent: 1 Sep 2022 - 31 Aug 2025 plus three optional one-year extensions."""
    fields: dict[str, Any] = {
        "term_start": date(2022, 9, 1),
        "term_end": date(2025, 8, 31),
        "established_on": date(2022, 6, 1),
        "max_extension_end": None,
        "extension_ends": (date(2026, 8, 31), date(2027, 8, 31), date(2028, 8, 31)),
    }
    fields.update(overrides)
    draft = replace(scheme(), status=SchemeStatus.DRAFT, **fields)
    return open_scheme(create_scheme(draft), date(2024, 1, 1))


def test_kent_three_one_year_extensions_each_recorded_with_its_notice() -> None:
    s = kent_term()
    for n, when in enumerate((date(2025, 6, 1), date(2026, 6, 1), date(2027, 6, 1)), start=1):
        at = datetime.combine(when, datetime.min.time(), tzinfo=LONDON)
        s = extend_scheme_term(s, when, by=f"commissioner-{n}", reason=f"year {n}", now=at)
        assert s.term_end_effective == date(2025 + n, 8, 31)
        assert s.extensions[-1].decided_by == f"commissioner-{n}"
        assert s.extensions[-1].reason == f"year {n}" and s.extensions[-1].decided_at == at
    assert [n.change for n in s.period_notices] == ["extended"] * 3
    assert all(n.status == "pending" and "34(27)" in n.form for n in s.period_notices)
    assert [n.new_end for n in s.period_notices] == list(s.extension_ends)
    with pytest.raises(DomainError) as e:
        extend_scheme_term(s, date(2028, 6, 1), by="c", reason="more", now=NOW)
    assert e.value.rule is Rule.EXTENSION_NOT_AVAILABLE


def test_an_extension_needs_who_and_why() -> None:
    with pytest.raises(DomainError) as e:
        extend_scheme_term(kent_term(), date(2025, 6, 1), by="c1", reason=" ", now=NOW)
    assert (e.value.field, e.value.rule) == ("reason", Rule.REQUIRED)


def test_an_extension_option_past_the_long_stop_is_refused() -> None:
    s = kent_term(extension_ends=(date(2026, 8, 31), date(2029, 8, 31)))
    s = extend_scheme_term(s, date(2025, 6, 1), by="c", reason="year 1", now=NOW)
    with pytest.raises(DomainError) as e:
        extend_scheme_term(s, date(2026, 6, 1), by="c", reason="year 2", now=NOW)
    assert e.value.rule is Rule.LONG_STOP_PASSED


def test_extension_ends_must_follow_each_other() -> None:
    with pytest.raises(DomainError) as e:
        kent_term(extension_ends=(date(2026, 8, 31), date(2026, 8, 31)))
    assert e.value.field == "extension_ends"


def test_closing_early_records_the_termination_notice() -> None:
    at = datetime(2026, 3, 2, 10, tzinfo=LONDON)
    s = close_scheme(scheme(), "replaced by an open framework", by="c1", now=at)
    assert s.status is SchemeStatus.CLOSED
    (notice,) = s.period_notices
    assert (notice.change, notice.new_end, notice.previous_end) == (
        "terminated",
        at.date(),
        date(2029, 2, 23),
    )
    assert "award notice" in notice.form


# ------------------------------------------- 6. renewed self-declarations


def test_a_renewed_self_declaration_is_due_in_5_working_days() -> None:
    thursday = datetime(2026, 4, 2, 15, tzinfo=LONDON)  # Thu 2 April 2026
    r = request_self_declaration(
        scheme(), [member("P1")], request_id="R1", provider_id="P1", by="c1", now=thursday
    )
    assert r.due_on == date(2026, 4, 13)  # Fri 3 and Mon 6 April are bank holidays
    assert not self_declaration_overdue(r, datetime(2026, 4, 13, 23, 59, tzinfo=LONDON))
    assert self_declaration_overdue(r, datetime(2026, 4, 14, 0, 0, tzinfo=LONDON))
    answered = answer_self_declaration(
        r, provider_id="P1", declaration={"grounds": "none apply"}, now=thursday + timedelta(days=1)
    )
    assert answered.answered and not answered.answered_late
    assert not self_declaration_overdue(answered, datetime(2026, 5, 1, tzinfo=LONDON))
    with pytest.raises(DomainError) as e:
        answer_self_declaration(answered, provider_id="P1", declaration={"a": "b"}, now=thursday)
    assert e.value.rule is Rule.DECLARATION_ALREADY_ANSWERED


def test_only_members_can_be_asked_and_only_they_answer() -> None:
    with pytest.raises(DomainError) as e:
        request_self_declaration(
            scheme(), [member("P1")], request_id="R1", provider_id="P2", by="c1", now=NOW
        )
    assert e.value.rule is Rule.MEMBER_NOT_ACTIVE
    r = request_self_declaration(
        scheme(), [member("P1")], request_id="R1", provider_id="P1", by="c1", now=NOW
    )
    with pytest.raises(DomainError) as e:
        answer_self_declaration(r, provider_id="P2", declaration={"a": "b"}, now=NOW)
    assert e.value.rule is Rule.MISMATCH


# ----------------------------------------- 7. open to any provider throughout


@pytest.mark.parametrize("status", ["registered", "active"])
def test_registered_providers_may_apply(status: str) -> None:
    require_may_apply(status)


@pytest.mark.parametrize(
    ("status", "rule"),
    [
        ("suspended", Rule.PROVIDER_NOT_ACTIVE),
        ("removed", Rule.PROVIDER_NOT_ACTIVE),
        (None, Rule.UNKNOWN),
    ],
)
def test_suspended_removed_or_unknown_providers_may_not(status: str | None, rule: Rule) -> None:
    with pytest.raises(DomainError) as e:
        require_may_apply(status)
    assert e.value.rule is rule


# ----------------------------------------------- 8. suspended scheme, bids


def test_a_suspended_scheme_takes_no_new_bids_until_reopened() -> None:
    s = suspend_scheme(scheme(), "audit")
    with pytest.raises(DomainError) as e:
        require_scheme_takes_bids(s, TODAY)
    assert (e.value.field, e.value.rule) == ("scheme_id", Rule.SCHEME_SUSPENDED)
    require_scheme_takes_bids(open_scheme(s, TODAY), TODAY)


def test_a_suspended_scheme_opens_no_call_off() -> None:
    with pytest.raises(DomainError) as e:
        open_competition(
            suspend_scheme(full_pcr(), "audit"),
            spec(filter=PLAIN, kind=CompetitionKind.INDIVIDUAL),
            deadline_at=DEADLINE,
            memberships=kent_members(),
            providers=register("P1", "P2", "P3"),
            documents=docs_for(["P1", "P2", "P3"]),
            now=NOW,
        )
    assert e.value.rule is Rule.SCHEME_NOT_OPEN


# ------------------------------------------- automatic call-offs (handlers.need_spec)


def need(**overrides: Any) -> Any:
    from shared.contracts import placements_v1

    fields: dict[str, Any] = {
        "need_id": "N1",
        "la_code": "886",
        "primary_need": NeedType.ASD,
        "age_at_start": 12,
        "attendance": Attendance.DAY,
        # Maidstone's 5 km grid cell: placements sends no district (issue 12, children's data).
        "search_origin": {"easting": 577500, "northing": 157500},
        "required_start": date(2026, 9, 1),
        "max_distance_km": 30,
    }
    fields.update(overrides)
    return placements_v1.PlacementNeedRaised(**fields)


def test_automatic_call_offs_apply_the_schemes_published_award_criteria() -> None:
    from services.procurement.commands import need_spec

    questions = (QualityQuestion("q1", "Outcomes", 20, 3, min_score=8),)
    s = scheme(award_criteria=AwardCriteria(70, 30, questions))
    made = need_spec(need(), s, s.categories[0])
    assert (made.quality_weight, made.price_weight) == (70, 30)
    assert made.quality_questions == questions


def test_automatic_call_offs_screen_by_age_and_distance_only_where_allowed() -> None:
    from services.procurement.commands import need_spec

    light = need_spec(need(), scheme(), scheme().categories[0])
    assert light.filter.min_age == 12 and light.filter.max_distance_km == 30
    pcr = need_spec(need(), full_pcr(), full_pcr().categories[0])
    assert pcr.filter == PLAIN
