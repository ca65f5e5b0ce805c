"""Requests to participate: clock, extension, reminders, decisions, memberships."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.procurement.domain import (
    Application,
    ApplicationOutcome,
    DocumentKind,
    DomainError,
    MembershipStatus,
    QuestionAssessment,
    Rule,
    application_quality_score,
    decide_application,
    end_membership,
    extend_evaluation,
    is_overdue,
    lot_for_score,
    reinstate_membership,
    reminder_due,
    submit_application,
    suspend_membership,
)
from shared.contracts.common import Attendance, NeedType
from shared.working_days import LONDON, is_working_day, working_days_between

from .builders import (
    ANSWERS,
    NOW,
    QUESTIONS,
    documents,
    documents_without,
    good_assessments,
    member,
    provider,
    scheme,
)


def submitted(at: datetime = NOW, categories: tuple[str, ...] = ("asd-day",)) -> Application:
    return submit_application(
        scheme(),
        application_id="A1",
        provider_id="P1",
        requested_categories=categories,
        answers=ANSWERS,
        now=at,
    )


def decide(app: Application, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "provider": provider("P1"),
        "documents": documents(),
        "assessments": good_assessments(),
        "decided_by": "officer-7",
        "now": NOW + timedelta(days=5),
    }
    args.update(kw)
    return decide_application(app, scheme(), **args)  # type: ignore[arg-type]


# -------------------------------------------------------------- submission


def test_submission_starts_the_ten_working_day_clock() -> None:
    app = submitted()
    assert app.received_on == date(2026, 3, 2)
    assert app.due_on == date(2026, 3, 16)
    assert app.due_at == datetime(2026, 3, 17, 0, 0, tzinfo=LONDON)
    assert app.reminder_on == date(2026, 3, 11)  # working day 7
    assert working_days_between(app.received_on, app.reminder_on) == 7


def test_clock_skips_easter() -> None:
    app = submitted(datetime(2026, 3, 26, 16, 0, tzinfo=LONDON))
    assert app.due_on == date(2026, 4, 13)


def test_submission_refused_when_scheme_not_open() -> None:
    """Closed schemes refuse requests to participate; a suspended one still takes them
    (reg 34(2)(b), (15)-(16): the DPS is open throughout its period)."""
    from services.procurement.domain import close_scheme

    with pytest.raises(DomainError) as e:
        submit_application(
            close_scheme(scheme(), "ended"),
            application_id="A1",
            provider_id="P1",
            requested_categories=["asd-day"],
            answers=ANSWERS,
            now=NOW,
        )
    assert e.value.rule is Rule.SCHEME_NOT_OPEN


def test_a_suspended_scheme_still_receives_and_decides_applications() -> None:
    from services.procurement.domain import suspend_scheme

    s = suspend_scheme(scheme(), "audit of call-offs")
    app = submit_application(
        s,
        application_id="A1",
        provider_id="P1",
        requested_categories=["asd-day"],
        answers=ANSWERS,
        now=NOW,
    )
    result = decide_application(
        app,
        s,
        provider=provider(),
        documents=documents(),
        assessments=good_assessments(),
        decided_by="officer",
        now=NOW + timedelta(days=2),
    )
    assert [m.category_code for m in result.memberships] == ["asd-day"]


def test_submission_refused_after_term_end() -> None:
    late = datetime(2029, 2, 24, 9, tzinfo=LONDON)
    with pytest.raises(DomainError) as e:
        submitted(late)
    assert e.value.rule is Rule.TERM_ENDED


@pytest.mark.parametrize(
    ("categories", "answers", "field", "rule"),
    [
        ((), ANSWERS, "requested_categories", Rule.REQUIRED),
        (("nope",), ANSWERS, "category_code", Rule.UNKNOWN),
        (("asd-day", "asd-day"), ANSWERS, "requested_categories", Rule.DUPLICATE),
        (("asd-day",), {**ANSWERS, "staffing": ""}, "answers.staffing", Rule.REQUIRED),
        (("asd-day",), {**ANSWERS, "extra": "x"}, "answers.extra", Rule.UNKNOWN),
    ],
)
def test_malformed_submission(
    categories: tuple[str, ...], answers: dict[str, str], field: str, rule: Rule
) -> None:
    with pytest.raises(DomainError) as e:
        submit_application(
            scheme(),
            application_id="A1",
            provider_id="P1",
            requested_categories=categories,
            answers=answers,
            now=NOW,
        )
    assert (e.value.field, e.value.rule) == (field, rule)


def test_member_may_apply_for_further_categories_only() -> None:
    held = [member("P1", category="asd-day")]
    app = submit_application(
        scheme(),
        application_id="A2",
        provider_id="P1",
        requested_categories=["semh-res"],
        answers=ANSWERS,
        existing_memberships=held,
        now=NOW,
    )
    assert app.requested_categories == ("semh-res",)
    with pytest.raises(DomainError) as e:
        submit_application(
            scheme(),
            application_id="A3",
            provider_id="P1",
            requested_categories=["asd-day"],
            answers=ANSWERS,
            existing_memberships=held,
            now=NOW,
        )
    assert e.value.rule is Rule.ALREADY_MEMBER


def test_ended_member_may_apply_again() -> None:
    ended = [member("P1", status=MembershipStatus.ENDED)]
    app = submit_application(
        scheme(),
        application_id="A4",
        provider_id="P1",
        requested_categories=["asd-day"],
        answers=ANSWERS,
        existing_memberships=ended,
        now=NOW,
    )
    assert app.application_id == "A4"


# ------------------------------------------------------- extension and clock


def test_extension_to_fifteen_working_days_once() -> None:
    app = extend_evaluation(
        submitted(), scheme(), reason="insurance certificate unreadable", by="officer-7", now=NOW
    )
    assert app.extended and app.evaluation_working_days == 15
    assert app.due_on == date(2026, 3, 23)
    assert app.reminder_on == date(2026, 3, 18)  # working day 12
    assert app.extension_reason == "insurance certificate unreadable"
    with pytest.raises(DomainError) as e:
        extend_evaluation(app, scheme(), reason="more", by="officer-7", now=NOW)
    assert e.value.rule is Rule.EXTENSION_ALREADY_USED


def test_extension_needs_a_reason() -> None:
    with pytest.raises(DomainError) as e:
        extend_evaluation(submitted(), scheme(), reason="", by="officer-7", now=NOW)
    assert (e.value.field, e.value.rule) == ("reason", Rule.REQUIRED)


def test_extension_refused_after_the_ten_days_ran_out() -> None:
    app = submitted()
    with pytest.raises(DomainError) as e:
        extend_evaluation(app, scheme(), reason="late", by="officer-7", now=app.due_at)
    assert e.value.rule is Rule.EXTENSION_AFTER_DEADLINE


def test_reminder_and_overdue_detection() -> None:
    app = submitted()
    assert not reminder_due(app, datetime(2026, 3, 10, 23, 59, tzinfo=LONDON))
    assert reminder_due(app, datetime(2026, 3, 11, 0, 0, tzinfo=LONDON))
    assert not is_overdue(app, datetime(2026, 3, 16, 23, 59, tzinfo=LONDON))
    assert is_overdue(app, datetime(2026, 3, 17, 0, 0, tzinfo=LONDON))
    decided = decide(app).application
    assert not is_overdue(decided, datetime(2026, 4, 1, tzinfo=LONDON))
    assert not reminder_due(decided, datetime(2026, 4, 1, tzinfo=LONDON))


@given(
    st.datetimes(min_value=datetime(2025, 3, 1), max_value=datetime(2029, 1, 31)),
    st.booleans(),
)
def test_due_day_is_always_the_10th_or_15th_working_day(naive: datetime, extended: bool) -> None:
    at = naive.replace(tzinfo=LONDON)
    app = submitted(at)
    if extended:
        app = extend_evaluation(app, scheme(), reason="documents", by="o", now=at)
    n = 15 if extended else 10
    assert is_working_day(app.due_on)
    assert working_days_between(app.received_on, app.due_on) == n
    assert working_days_between(app.received_on, app.reminder_on) == n - 3
    assert app.reminder_at < app.due_at


# -------------------------------------------------------------- decisions


def test_admitted_to_the_lot_its_score_earns() -> None:
    result = decide(submitted(categories=("asd-day", "semh-res")))
    d = result.application.decision
    assert d is not None
    assert d.outcome is ApplicationOutcome.ADMITTED
    assert d.quality_score == Decimal("80.00")  # (4/5*60 + 4/5*40) / 100
    assert d.lot_code == "lot2"
    assert d.decided_by == "officer-7" and not d.decided_late
    assert all(c.passed for c in d.criteria)
    assert {m.category_code for m in result.memberships} == {"asd-day", "semh-res"}
    assert all(
        m.lot_code == "lot2" and m.status is MembershipStatus.ACTIVE for m in result.memberships
    )


def test_lower_score_lands_in_lot_1() -> None:
    d = decide(submitted(), assessments=good_assessments(curriculum=2, staffing=2))
    assert d.application.decision is not None
    assert d.application.decision.quality_score == Decimal("40.00")
    assert d.memberships[0].lot_code == "lot1"


def test_below_pass_mark_is_rejected_with_reasons() -> None:
    d = decide(submitted(), assessments=good_assessments(curriculum=1, staffing=1)).application
    assert d.decision is not None
    assert d.decision.outcome is ApplicationOutcome.REJECTED
    failed = {c.criterion: c.reason for c in d.decision.failed_criteria}
    assert "pass_mark" in failed and "20.00" in failed["pass_mark"]
    assert "lot" in failed
    assert d.decision.lot_code is None


def test_failed_pass_fail_question_rejects_with_the_evaluator_note() -> None:
    assessments = {
        **good_assessments(),
        "ofsted": QuestionAssessment(passed=False, note="Inadequate, 2025"),
    }
    result = decide(submitted(), assessments=assessments)
    d = result.application.decision
    assert d is not None and d.outcome is ApplicationOutcome.REJECTED
    assert [(c.criterion, c.reason) for c in d.failed_criteria] == [
        ("question:ofsted", "Inadequate, 2025")
    ]
    assert result.memberships == ()
    assert d.refused_categories[0].reason == "selection criteria not met"


def test_inactive_provider_is_refused() -> None:
    d = decide(submitted(), provider=provider("P1", active=False)).application.decision
    assert d is not None and d.outcome is ApplicationOutcome.REJECTED
    assert [c.criterion for c in d.failed_criteria] == ["register"]


def test_missing_document_is_named() -> None:
    result = decide(submitted(), documents=documents_without(DocumentKind.SAFEGUARDING_POLICY))
    d = result.application.decision
    assert d is not None and d.outcome is ApplicationOutcome.REJECTED
    failed = {c.criterion: c.reason for c in d.failed_criteria}
    assert failed == {"document:safeguarding_policy": "safeguarding_policy is missing"}


def test_expired_document_is_named_with_its_date() -> None:
    docs = documents(expires_on=date(2026, 3, 1))  # expired the day before the decision window
    d = decide(submitted(), documents=docs).application.decision
    assert d is not None
    assert {c.criterion for c in d.failed_criteria} == {
        "document:insurance",
        "document:safeguarding_policy",
        "document:financial_check",
    }
    assert "expired on 2026-03-01" in d.failed_criteria[0].reason


def test_newest_copy_of_a_document_counts() -> None:
    from services.procurement.domain import ComplianceDocument

    docs = (*documents(), ComplianceDocument(DocumentKind.INSURANCE, date(2020, 1, 1)))
    d = decide(submitted(), documents=docs).application.decision
    assert d is not None and d.outcome is ApplicationOutcome.ADMITTED


def test_partial_admission_by_register_fit_and_decider() -> None:
    asd_only = provider("P1", need_types=frozenset({NeedType.ASD}))
    d = decide(submitted(categories=("asd-day", "semh-res")), provider=asd_only).application
    assert d.decision is not None
    assert d.decision.outcome is ApplicationOutcome.PARTIALLY_ADMITTED
    assert d.decision.admitted_categories == ("asd-day",)
    assert "SEMH" in d.decision.refused_categories[0].reason

    day_only = provider("P1", attendance=frozenset({Attendance.DAY}))
    refused = decide(
        submitted(categories=("asd-day", "semh-res")),
        provider=day_only,
        refused_categories={"asd-day": "no capacity evidence"},
    ).application.decision
    assert refused is not None and refused.outcome is ApplicationOutcome.REJECTED
    reasons = {r.category_code: r.reason for r in refused.refused_categories}
    assert reasons["asd-day"] == "no capacity evidence"
    assert "attendance" in reasons["semh-res"]


def test_decider_cannot_refuse_an_unrequested_category() -> None:
    with pytest.raises(DomainError) as e:
        decide(submitted(), refused_categories={"semh-res": "no"})
    assert e.value.field == "refused_categories.semh-res"


def test_late_decision_is_recorded() -> None:
    app = submitted()
    d = decide(app, now=app.due_at + timedelta(hours=1)).application.decision
    assert d is not None and d.decided_late


def test_decision_needs_every_assessment() -> None:
    assessments = good_assessments()
    del assessments["staffing"]
    with pytest.raises(DomainError) as e:
        decide(submitted(), assessments=assessments)
    assert (e.value.field, e.value.rule) == ("assessments.staffing", Rule.ASSESSMENT_MISSING)


def test_score_out_of_range_is_refused() -> None:
    with pytest.raises(DomainError) as e:
        decide(submitted(), assessments=good_assessments(curriculum=6))
    assert (e.value.field, e.value.rule) == ("assessments.curriculum", Rule.OUT_OF_RANGE)


def test_decided_once() -> None:
    app = decide(submitted()).application
    with pytest.raises(DomainError) as e:
        decide(app)
    assert e.value.rule is Rule.ALREADY_DECIDED


def test_decision_must_be_about_the_applicant() -> None:
    with pytest.raises(DomainError) as e:
        decide(submitted(), provider=provider("P2"))
    assert e.value.rule is Rule.MISMATCH


@given(st.integers(0, 5), st.integers(0, 5))
def test_quality_score_and_lot_are_consistent(curriculum: int, staffing: int) -> None:
    score = application_quality_score(QUESTIONS, good_assessments(curriculum, staffing))
    assert score is not None and Decimal(0) <= score <= Decimal(100)
    lot = lot_for_score(scheme(), score)
    if score >= 60:
        assert lot is not None and lot.code == "lot2"
    elif score >= 30:
        assert lot is not None and lot.code == "lot1"
    else:
        assert lot is None


# ------------------------------------------------------------- memberships


def test_membership_suspend_reinstate_end() -> None:
    m = member("P1")
    today = date(2026, 5, 1)
    m = suspend_membership(m, "Ofsted inadequate", "officer-7", today)
    assert (m.status, m.status_reason, m.status_changed_by) == (
        MembershipStatus.SUSPENDED,
        "Ofsted inadequate",
        "officer-7",
    )
    m = reinstate_membership(m, "re-inspected: good", "officer-7", today)
    assert m.status is MembershipStatus.ACTIVE
    m = end_membership(m, "school closed", "officer-7", today)
    assert m.status is MembershipStatus.ENDED
    with pytest.raises(DomainError) as e:
        reinstate_membership(m, "oops", "officer-7", today)
    assert e.value.rule is Rule.INVALID_TRANSITION


def test_membership_changes_need_reasons() -> None:
    with pytest.raises(DomainError) as e:
        suspend_membership(member("P1"), "", "officer-7", date(2026, 5, 1))
    assert e.value.field == "reason"
