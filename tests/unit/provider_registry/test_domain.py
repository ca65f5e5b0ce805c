"""Rules of the provider register (services/provider_registry/domain.py)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from services.provider_registry import domain
from services.provider_registry import events as provider_events
from services.provider_registry.domain import (
    Attendance,
    ComplianceDocument,
    Contact,
    DocumentKind,
    DomainError,
    IllegalTransition,
    Inspection,
    NeedType,
    OfstedJudgement,
    Point,
    Provider,
    ProviderDraft,
    ProviderInvalid,
    ProviderSearch,
    ProviderStatus,
    ProviderType,
    RecommendationStatus,
    ReportCardArea,
    ReportCardGrade,
)
from shared.contracts import providers_v1
from shared.errors import Conflict, RulesBroken

TODAY = date(2026, 1, 12)
NOW = datetime(2026, 1, 12, 9, 30, tzinfo=UTC)
MAIDSTONE = Point(51.2788, 0.5436)
CANTERBURY = Point(51.2776, 1.0859)
LEEDS = Point(53.8201, -1.5708)

S = ProviderStatus
J = OfstedJudgement
G = ReportCardGrade


def a_draft(**changes: object) -> ProviderDraft:
    draft = ProviderDraft(
        urn=123456,
        name="Oakfield House School",
        proprietor="Kestrel Education Ltd",
        provider_type=ProviderType.INDEPENDENT_SPECIAL_SCHOOL,
        address="1 London Road, Maidstone",
        postcode="me14 1xx",
        latitude=MAIDSTONE.latitude,
        longitude=MAIDSTONE.longitude,
        age_low=7,
        age_high=19,
        attendance=frozenset({Attendance.DAY}),
        capacity=60,
        places_in_use=40,
        need_types=frozenset({NeedType.ASD, NeedType.SLCN}),
        contacts=(Contact(name="Jo Patel", role="headteacher", email="head@oakfield.example"),),
    )
    return replace(draft, **changes)  # type: ignore[arg-type]


def a_provider(
    provider_id: str = "p-1", status: ProviderStatus = S.ACTIVE, **changes: object
) -> Provider:
    provider = domain.register_provider(provider_id, a_draft(**changes))
    return replace(provider, status=status)


def fields_of(errors: list[DomainError] | tuple[DomainError, ...]) -> set[str]:
    return {error.field for error in errors}


# --- drafts -------------------------------------------------------------------------


def test_a_complete_draft_breaks_no_rule() -> None:
    assert domain.validate_draft(a_draft()) == []


@given(st.integers(min_value=-10, max_value=2_000_000))
def test_urn_must_be_six_digits(urn: int) -> None:
    errors = domain.validate_draft(a_draft(urn=urn))
    if 100000 <= urn <= 999999:
        assert errors == []
    else:
        assert errors == [DomainError("urn", "must be 6 digits, 100000-999999")]


@given(st.integers(min_value=-3, max_value=30), st.integers(min_value=-3, max_value=30))
def test_age_range_is_0_to_25_with_low_not_above_high(low: int, high: int) -> None:
    errors = domain.validate_draft(a_draft(age_low=low, age_high=high))
    assert (errors == []) == (0 <= low <= high <= 25)
    assert fields_of(errors) <= {"age_low", "age_high"}
    if 0 <= low <= 25 and 0 <= high <= 25 and low > high:
        assert errors == [DomainError("age_high", "must not be below age_low")]


@given(st.integers(min_value=-5, max_value=500), st.integers(min_value=-5, max_value=500))
def test_capacity_at_least_places_in_use_at_least_zero(capacity: int, in_use: int) -> None:
    errors = domain.validate_draft(a_draft(capacity=capacity, places_in_use=in_use))
    assert (errors == []) == (capacity >= in_use >= 0)
    assert fields_of(errors) <= {"capacity", "places_in_use"}


def test_every_broken_rule_is_reported_not_only_the_first() -> None:
    draft = a_draft(
        urn=42,
        name="  ",
        postcode="not a postcode",
        need_types=frozenset(),
        attendance=frozenset(),
        latitude=51.0,
        longitude=None,
    )
    errors = domain.validate_draft(draft)
    assert fields_of(errors) == {
        "urn",
        "name",
        "postcode",
        "need_types",
        "attendance",
        "longitude",
    }
    with pytest.raises(ProviderInvalid) as caught:
        domain.clean_draft(draft)
    assert caught.value.errors == tuple(errors)
    assert isinstance(caught.value, RulesBroken)  # the API's 422


def test_coordinates_must_be_inside_the_uk() -> None:
    swapped = a_draft(latitude=MAIDSTONE.longitude, longitude=MAIDSTONE.latitude)
    assert fields_of(domain.validate_draft(swapped)) == {"latitude", "longitude"}
    assert domain.validate_draft(a_draft(latitude=None, longitude=None)) == []


def test_contacts_are_checked_and_named_by_position() -> None:
    contacts = (
        Contact(name="Jo Patel", email="jo@school.example", phone="01622 123456"),
        Contact(name="", email="not-an-email", phone="12"),
    )
    errors = domain.validate_draft(a_draft(contacts=contacts))
    assert fields_of(errors) == {"contacts[1].name", "contacts[1].email", "contacts[1].phone"}


def test_clean_draft_normalises_postcode_and_trims_text() -> None:
    cleaned = domain.clean_draft(a_draft(name="  Oakfield  ", postcode=" me141xx "))
    assert cleaned.postcode == "ME14 1XX"
    assert cleaned.name == "Oakfield"


# --- distance -----------------------------------------------------------------------


def test_distance_between_known_places() -> None:
    london, edinburgh = Point(51.5074, -0.1278), Point(55.9533, -3.1883)
    assert 530 < domain.distance_km(london, edinburgh) < 540
    assert 37 < domain.distance_km(MAIDSTONE, CANTERBURY) < 38


uk_points = st.builds(
    Point,
    st.floats(min_value=49.9, max_value=60.9),
    st.floats(min_value=-8.0, max_value=1.8),
)


@given(uk_points, uk_points, uk_points)
def test_distance_is_a_metric(a: Point, b: Point, c: Point) -> None:
    assert domain.distance_km(a, a) == pytest.approx(0, abs=1e-9)
    assert domain.distance_km(a, b) == pytest.approx(domain.distance_km(b, a))
    assert domain.distance_km(a, c) <= domain.distance_km(a, b) + domain.distance_km(b, c) + 1e-6


# --- status machine -----------------------------------------------------------------

ALLOWED = {
    (S.REGISTERED, S.ACTIVE),
    (S.REGISTERED, S.REMOVED),
    (S.ACTIVE, S.SUSPENDED),
    (S.SUSPENDED, S.ACTIVE),
    (S.SUSPENDED, S.REMOVED),
}


@pytest.mark.parametrize(("current", "requested"), list(itertools.product(S, S)))
def test_only_the_allowed_status_moves_are_possible(
    current: ProviderStatus, requested: ProviderStatus
) -> None:
    provider = a_provider(status=current)
    if (current, requested) in ALLOWED:
        moved, change = domain.change_status(
            provider, requested, by="commissioner-7", at=NOW, reason="panel decision"
        )
        assert moved.status is requested
        assert (change.previous_status, change.status) == (current, requested)
    else:
        with pytest.raises(IllegalTransition) as caught:
            domain.change_status(provider, requested, by="c", at=NOW, reason="r")
        assert isinstance(caught.value, Conflict)  # the API's 409
        assert (caught.value.current, caught.value.requested) == (current, requested)
        assert caught.value.field == "status"


def test_a_status_change_records_who_when_and_why() -> None:
    provider = a_provider(status=S.REGISTERED)
    active, change = domain.change_status(
        provider, S.ACTIVE, by=" commissioner-7 ", at=NOW, reason=" checks passed "
    )
    assert change == domain.StatusChange(
        provider_id="p-1",
        previous_status=S.REGISTERED,
        status=S.ACTIVE,
        changed_by="commissioner-7",
        changed_at=NOW,
        reason="checks passed",
    )
    assert provider.status is S.REGISTERED  # records are immutable
    assert active.status is S.ACTIVE


@pytest.mark.parametrize(
    ("by", "at", "reason", "field"),
    [
        ("", NOW, "why", "changed_by"),
        ("c", datetime(2026, 1, 12, 9, 30), "why", "changed_at"),
        ("c", NOW, "  ", "reason"),
    ],
)
def test_a_status_change_needs_who_an_aware_time_and_why(
    by: str, at: datetime, reason: str, field: str
) -> None:
    with pytest.raises(DomainError) as caught:
        domain.change_status(a_provider(), S.SUSPENDED, by=by, at=at, reason=reason)
    assert caught.value.field == field


@given(st.lists(st.sampled_from(list(S)), max_size=12))
def test_removed_is_final_on_any_walk(requests: list[ProviderStatus]) -> None:
    provider = a_provider(status=S.REGISTERED)
    for requested in requests:
        was = provider.status
        try:
            provider, _ = domain.change_status(provider, requested, by="c", at=NOW, reason="r")
        except IllegalTransition:
            assert (was, requested) not in ALLOWED
        else:
            assert (was, requested) in ALLOWED
    if provider.status is S.REMOVED:
        for requested in S:
            with pytest.raises(IllegalTransition):
                domain.change_status(provider, requested, by="c", at=NOW, reason="r")


def test_update_details_reports_changed_fields() -> None:
    provider = a_provider()
    updated, changed = domain.update_details(
        provider, a_draft(capacity=80, postcode="ME14 1XX", name="Oakfield House School")
    )
    assert changed == ["capacity"]  # same postcode once normalised is no change
    assert updated.details.capacity == 80


def test_update_details_refuses_a_bad_draft_and_a_removed_provider() -> None:
    with pytest.raises(ProviderInvalid):
        domain.update_details(a_provider(), a_draft(places_in_use=61))
    with pytest.raises(IllegalTransition):
        domain.update_details(a_provider(status=S.REMOVED), a_draft())


# --- inspections --------------------------------------------------------------------


def inspected(**outcome: object) -> Inspection:
    return Inspection(inspected_on=date(2025, 6, 1), **outcome)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("inspection", "equivalent"),
    [
        (inspected(overall=J.GOOD), J.GOOD),
        (inspected(overall=J.OUTSTANDING, standards_met=False), J.REQUIRES_IMPROVEMENT),
        (inspected(overall=J.INADEQUATE, standards_met=False), J.INADEQUATE),
        (inspected(overall=J.OUTSTANDING, safeguarding_met=False), J.INADEQUATE),
        (inspected(standards_met=True), None),
        (inspected(standards_met=False), J.REQUIRES_IMPROVEMENT),
        (
            inspected(
                report_card={
                    ReportCardArea.INCLUSION: G.EXCEPTIONAL,
                    ReportCardArea.ACHIEVEMENT: G.EXCEPTIONAL,
                }
            ),
            J.OUTSTANDING,
        ),
        (
            inspected(
                report_card={
                    ReportCardArea.INCLUSION: G.EXCEPTIONAL,
                    ReportCardArea.ACHIEVEMENT: G.STRONG_STANDARD,
                }
            ),
            J.GOOD,
        ),
        (inspected(report_card={ReportCardArea.INCLUSION: G.EXPECTED_STANDARD}), J.GOOD),
        (
            inspected(
                report_card={
                    ReportCardArea.INCLUSION: G.STRONG_STANDARD,
                    ReportCardArea.LEADERSHIP_AND_GOVERNANCE: G.NEEDS_ATTENTION,
                }
            ),
            J.REQUIRES_IMPROVEMENT,
        ),
        (
            inspected(report_card={ReportCardArea.INCLUSION: G.URGENT_IMPROVEMENT}),
            J.INADEQUATE,
        ),
    ],
)
def test_every_framework_reads_on_the_four_point_scale(
    inspection: Inspection, equivalent: OfstedJudgement | None
) -> None:
    assert domain.equivalent_judgement(inspection) is equivalent


@given(st.sampled_from(list(J)), st.sampled_from(list(J)))
def test_minimum_judgement_and_decline_follow_ofsted_grade_numbers(
    actual: OfstedJudgement, other: OfstedJudgement
) -> None:
    rank = {J.OUTSTANDING: 1, J.GOOD: 2, J.REQUIRES_IMPROVEMENT: 3, J.INADEQUATE: 4}
    assert domain.meets_minimum(inspected(overall=actual), other) == (rank[actual] <= rank[other])
    assert domain.is_decline(inspected(overall=other), inspected(overall=actual)) == (
        rank[actual] > rank[other]
    )


def test_ungraded_or_uninspected_providers_never_meet_a_minimum() -> None:
    assert not domain.meets_minimum(None, J.INADEQUATE)
    assert not domain.meets_minimum(inspected(standards_met=True), J.INADEQUATE)


@pytest.mark.parametrize(
    ("previous", "new", "declined"),
    [
        (None, inspected(overall=J.INADEQUATE), False),
        (inspected(standards_met=True), inspected(standards_met=False), True),
        (inspected(standards_met=False), inspected(standards_met=True), False),
        (inspected(overall=J.GOOD), inspected(standards_met=True), False),
        (inspected(overall=J.GOOD, safeguarding_met=True), inspected(overall=J.GOOD), False),
        (inspected(safeguarding_met=True), inspected(safeguarding_met=False), True),
        (
            inspected(report_card={ReportCardArea.INCLUSION: G.STRONG_STANDARD}),
            inspected(report_card={ReportCardArea.INCLUSION: G.EXPECTED_STANDARD}),
            True,  # same four-point equivalent (good), but the area fell
        ),
        (
            inspected(report_card={ReportCardArea.INCLUSION: G.EXPECTED_STANDARD}),
            inspected(
                report_card={
                    ReportCardArea.INCLUSION: G.STRONG_STANDARD,
                    ReportCardArea.ACHIEVEMENT: G.EXPECTED_STANDARD,
                }
            ),
            False,
        ),
        (
            inspected(overall=J.GOOD),
            inspected(report_card={ReportCardArea.INCLUSION: G.NEEDS_ATTENTION}),
            True,
        ),
    ],
)
def test_decline_is_detected_across_frameworks(
    previous: Inspection | None, new: Inspection, declined: bool
) -> None:
    assert domain.is_decline(previous, new) is declined


def test_an_inspection_dated_in_the_future_is_refused() -> None:
    tomorrow = Inspection(inspected_on=TODAY + timedelta(days=1), overall=J.GOOD)
    with pytest.raises(ProviderInvalid) as caught:
        domain.record_inspection(a_provider(), tomorrow, TODAY)
    assert caught.value.errors == (DomainError("inspected_on", "must not be in the future"),)
    today = Inspection(inspected_on=TODAY, overall=J.GOOD)
    provider, _ = domain.record_inspection(a_provider(), today, TODAY)
    assert provider.latest_inspection == today


def test_an_inspection_must_record_an_outcome() -> None:
    errors = domain.validate_inspection(Inspection(inspected_on=TODAY), TODAY)
    assert fields_of(errors) == {"inspection"}


def test_recording_inspections_keeps_the_latest_and_flags_a_decline() -> None:
    good = Inspection(inspected_on=date(2023, 3, 1), overall=J.GOOD)
    poor = Inspection(inspected_on=date(2025, 3, 1), overall=J.REQUIRES_IMPROVEMENT)
    provider, first = domain.record_inspection(a_provider(), good, TODAY)
    assert (first.previous, first.declined, first.is_latest) == (None, False, True)
    provider, second = domain.record_inspection(provider, poor, TODAY)
    assert (second.previous, second.declined, second.is_latest) == (good, True, True)
    assert provider.latest_inspection == poor


def test_back_filling_an_older_inspection_neither_replaces_nor_declines() -> None:
    latest = Inspection(inspected_on=date(2025, 3, 1), overall=J.OUTSTANDING)
    older = Inspection(inspected_on=date(2021, 3, 1), overall=J.INADEQUATE)
    provider, _ = domain.record_inspection(a_provider(), latest, TODAY)
    provider, outcome = domain.record_inspection(provider, older, TODAY)
    assert provider.latest_inspection == latest
    assert (outcome.is_latest, outcome.declined) == (False, False)


# --- documents ----------------------------------------------------------------------


def document(kind: DocumentKind, days_from_today: int) -> ComplianceDocument:
    expires_on = TODAY + timedelta(days=days_from_today)
    return ComplianceDocument(kind=kind, expires_on=expires_on, verified_by="officer")


def test_a_proposed_document_counts_only_once_an_officer_verifies_it() -> None:
    held = (document(DocumentKind.INSURANCE, 10),)
    proposal = ComplianceDocument(
        kind=DocumentKind.INSURANCE, expires_on=TODAY + timedelta(days=900), verified_by="me"
    )
    proposed = domain.propose_documents(held, [proposal])
    assert proposed[0] == held[0]  # the verified one stays as it is
    assert not proposed[1].verified  # whatever the provider claimed
    assert domain.current_documents(proposed) == list(held)
    verified = domain.verify_document(
        proposed, DocumentKind.INSURANCE, TODAY + timedelta(days=365), "officer-2", TODAY
    )
    latest = domain.current_documents(verified)[0]
    assert (latest.expires_on, latest.verified_by) == (TODAY + timedelta(days=365), "officer-2")
    assert domain.pending_documents(verified) == []
    with pytest.raises(domain.Conflict):
        domain.verify_document(verified, DocumentKind.INSURANCE, TODAY, "officer-2", TODAY)


def test_a_provider_can_neither_move_nor_remove_a_verified_document() -> None:
    held = (document(DocumentKind.INSURANCE, 10),)
    assert domain.propose_documents(held, []) == held
    assert domain.propose_documents(held, list(held)) == held  # resent as it is


def test_documents_are_sorted_into_expired_and_expiring_within_30_days() -> None:
    insurance = document(DocumentKind.INSURANCE, -1)
    safeguarding = document(DocumentKind.SAFEGUARDING_POLICY, 30)
    finance = document(DocumentKind.FINANCIAL_CHECK, 31)
    check = domain.check_documents([insurance, safeguarding, finance], TODAY)
    assert check.expired == (insurance,)
    assert check.expiring_soon == (safeguarding,)
    assert check.missing == frozenset()
    assert not check.all_valid


@given(st.integers(min_value=-400, max_value=400))
def test_expiry_classification_by_days_left(days: int) -> None:
    check = domain.check_documents([document(DocumentKind.INSURANCE, days)], TODAY)
    assert bool(check.expired) == (days < 0)
    assert bool(check.expiring_soon) == (0 <= days <= 30)
    assert check.missing == {DocumentKind.SAFEGUARDING_POLICY, DocumentKind.FINANCIAL_CHECK}


def test_a_renewed_document_supersedes_the_expired_one() -> None:
    old = document(DocumentKind.INSURANCE, -20)
    renewed = document(DocumentKind.INSURANCE, 300)
    others = [
        document(DocumentKind.SAFEGUARDING_POLICY, 200),
        document(DocumentKind.FINANCIAL_CHECK, 90),
    ]
    check = domain.check_documents([renewed, old, *others], TODAY)
    assert check.expired == () and check.expiring_soon == ()
    assert check.all_valid


def test_a_missing_kind_makes_documents_invalid() -> None:
    check = domain.check_documents([document(DocumentKind.INSURANCE, 100)], TODAY)
    assert check.missing == {DocumentKind.SAFEGUARDING_POLICY, DocumentKind.FINANCIAL_CHECK}
    assert not check.all_valid


# --- search -------------------------------------------------------------------------


@pytest.fixture
def register() -> list[Provider]:
    good = Inspection(inspected_on=date(2024, 5, 1), overall=J.GOOD)
    weak = Inspection(inspected_on=date(2024, 5, 1), overall=J.REQUIRES_IMPROVEMENT)
    return [
        replace(a_provider("maidstone", name="Maidstone School"), latest_inspection=good),
        replace(
            a_provider(
                "canterbury",
                name="Canterbury School",
                latitude=CANTERBURY.latitude,
                longitude=CANTERBURY.longitude,
                attendance=frozenset({Attendance.DAY, Attendance.RESIDENTIAL_38}),
            ),
            latest_inspection=weak,
        ),
        a_provider(
            "leeds",
            name="Leeds School",
            latitude=LEEDS.latitude,
            longitude=LEEDS.longitude,
            need_types=frozenset({NeedType.SEMH}),
            age_low=11,
            age_high=16,
        ),
        a_provider("unlocated", name="Anywhere School", latitude=None, longitude=None),
        a_provider("suspended", name="Suspended School", status=S.SUSPENDED),
    ]


def ids(hits: list[domain.SearchHit]) -> list[str]:
    return [hit.provider.provider_id for hit in hits]


def test_default_search_lists_active_providers_by_name(register: list[Provider]) -> None:
    hits = domain.search_providers(register, ProviderSearch())
    assert ids(hits) == ["unlocated", "canterbury", "leeds", "maidstone"]
    assert all(hit.distance_km is None for hit in hits)


def test_search_filters_by_needs_age_attendance_and_status(register: list[Provider]) -> None:
    def found(**criteria: object) -> set[str]:
        return set(ids(domain.search_providers(register, ProviderSearch(**criteria))))  # type: ignore[arg-type]

    assert found(need_types=frozenset({NeedType.ASD, NeedType.SLCN})) == {
        "maidstone",
        "canterbury",
        "unlocated",
    }
    assert found(need_types=frozenset({NeedType.ASD, NeedType.SEMH})) == set()
    assert found(age=18) == {"maidstone", "canterbury", "unlocated"}
    assert found(age=11) == {"maidstone", "canterbury", "unlocated", "leeds"}
    assert found(attendance=Attendance.RESIDENTIAL_38) == {"canterbury"}
    assert found(statuses=frozenset({S.SUSPENDED})) == {"suspended"}
    assert found(minimum_judgement=J.GOOD) == {"maidstone"}
    assert found(minimum_judgement=J.REQUIRES_IMPROVEMENT) == {"maidstone", "canterbury"}


def test_search_near_a_point_orders_by_distance_within_the_radius(
    register: list[Provider],
) -> None:
    near_maidstone = Point(51.30, 0.60)
    hits = domain.search_providers(register, ProviderSearch(near=near_maidstone, within_km=60))
    assert ids(hits) == ["maidstone", "canterbury"]  # Leeds too far; unlocated unknowable
    distances = [hit.distance_km for hit in hits]
    assert distances == sorted(distances)  # type: ignore[type-var]
    assert distances[0] == pytest.approx(domain.distance_km(near_maidstone, MAIDSTONE))
    everywhere = domain.search_providers(register, ProviderSearch(near=near_maidstone))
    assert ids(everywhere) == ["maidstone", "canterbury", "leeds"]


def test_a_malformed_search_is_refused() -> None:
    with pytest.raises(ProviderInvalid) as caught:
        domain.search_providers([], ProviderSearch(age=30, within_km=-5))
    assert caught.value.errors == (
        DomainError("age", "must be 0-25"),
        DomainError("within_km", "must be more than 0"),
        DomainError("within_km", "needs a point to measure from"),
    )


# --- suspension recommendations -----------------------------------------------------


def a_recommendation() -> domain.SuspensionRecommendation:
    return domain.receive_recommendation(
        recommendation_id="rec-1",
        provider_id="p-1",
        reasons=["Ofsted inadequate", " two safeguarding incidents "],
        recommended_at=NOW,
        alert_ids=["alert-9"],
    )


def test_a_recommendation_waits_for_a_commissioner() -> None:
    recommendation = a_recommendation()
    assert recommendation.status is RecommendationStatus.PENDING
    assert recommendation.reasons == ("Ofsted inadequate", "two safeguarding incidents")
    assert recommendation.decided_by is None


def test_a_recommendation_needs_ids_and_a_reason() -> None:
    with pytest.raises(ProviderInvalid) as caught:
        domain.receive_recommendation(
            recommendation_id="", provider_id=" ", reasons=["  "], recommended_at=NOW
        )
    assert fields_of(caught.value.errors) == {"recommendation_id", "provider_id", "reasons"}


def test_accepting_suspends_the_provider_citing_the_recommendation() -> None:
    later = NOW + timedelta(hours=2)
    decided, provider, change = domain.accept_recommendation(
        a_recommendation(), a_provider(), by="commissioner-7", at=later, reason="agreed"
    )
    assert decided.status is RecommendationStatus.ACCEPTED
    assert (decided.decided_by, decided.decided_at, decided.decision_reason) == (
        "commissioner-7",
        later,
        "agreed",
    )
    assert provider.status is S.SUSPENDED
    assert change.recommendation_id == "rec-1"
    assert change.previous_status is S.ACTIVE


def test_rejecting_leaves_the_provider_alone_and_decisions_are_final() -> None:
    rejected = domain.reject_recommendation(
        a_recommendation(), by="commissioner-7", at=NOW, reason="action plan in place"
    )
    assert rejected.status is RecommendationStatus.REJECTED
    with pytest.raises(IllegalTransition):
        domain.accept_recommendation(rejected, a_provider(), by="c", at=NOW, reason="r")
    with pytest.raises(IllegalTransition):
        domain.reject_recommendation(rejected, by="c", at=NOW, reason="r")


def test_accepting_needs_an_active_provider_of_the_same_id() -> None:
    with pytest.raises(IllegalTransition):
        domain.accept_recommendation(
            a_recommendation(), a_provider(status=S.REGISTERED), by="c", at=NOW, reason="r"
        )
    with pytest.raises(DomainError) as caught:
        domain.accept_recommendation(
            a_recommendation(), a_provider("p-2"), by="c", at=NOW, reason="r"
        )
    assert caught.value.field == "provider_id"


# --- event payloads -----------------------------------------------------------------


def test_snapshot_carries_what_consumers_need() -> None:
    docs = tuple(document(kind, 100) for kind in DocumentKind)
    provider = replace(
        a_provider(documents=docs),
        latest_inspection=Inspection(inspected_on=date(2024, 1, 1), overall=J.GOOD),
    )
    snapshot = provider_events.provider_snapshot(provider, TODAY)
    assert snapshot.status is S.ACTIVE
    assert snapshot.need_types == [NeedType.ASD, NeedType.SLCN]
    assert snapshot.attendance == [Attendance.DAY]
    assert (snapshot.age_low, snapshot.age_high) == (7, 19)
    assert snapshot.location.postcode == "ME14 1XX"
    assert snapshot.location.postcode_district == "ME14"
    assert snapshot.documents_valid
    assert snapshot.latest_inspection is not None
    assert snapshot.latest_inspection.equivalent_judgement is J.GOOD
    later = provider_events.provider_snapshot(provider, TODAY + timedelta(days=101))
    assert not later.documents_valid


def test_event_builders_fill_every_event_type() -> None:
    provider = a_provider(documents=(document(DocumentKind.INSURANCE, 10),))
    suspended, change = domain.change_status(
        provider, S.SUSPENDED, by="c-1", at=NOW, reason="safeguarding concern"
    )
    poor = Inspection(inspected_on=date(2025, 9, 1), overall=J.INADEQUATE)
    provider_after, outcome = domain.record_inspection(
        replace(provider, latest_inspection=inspected(overall=J.GOOD)), poor, TODAY
    )
    events: list[BaseModel] = [
        provider_events.registered_event(provider, TODAY, by="c-1"),
        provider_events.updated_event(provider, ["capacity"], TODAY, by="c-1"),
        provider_events.status_changed_event(suspended, change),
        provider_events.inspection_recorded_event(provider_after, outcome),
        *provider_events.document_expiring_events(provider, TODAY),
        provider_events.recommendation_rejected_event(
            domain.reject_recommendation(
                domain.receive_recommendation(
                    recommendation_id="r-1",
                    provider_id=provider.provider_id,
                    reasons=["x"],
                    recommended_at=NOW,
                ),
                by="c-1",
                at=NOW,
                reason="one-off",
            )
        ),
    ]
    assert [type(event) for event in events] == list(providers_v1.EVENT_TYPES.values())
    status_event = events[2]
    assert isinstance(status_event, providers_v1.ProviderStatusChanged)
    assert (status_event.previous_status, status_event.status) == (S.ACTIVE, S.SUSPENDED)
    inspection_event = events[3]
    assert isinstance(inspection_event, providers_v1.ProviderInspectionRecorded)
    assert inspection_event.declined
    assert inspection_event.previous is not None
    assert inspection_event.previous.overall is J.GOOD
    expiring = events[4]
    assert isinstance(expiring, providers_v1.ProviderDocumentExpiring)
    assert (expiring.kind, expiring.days_until_expiry, expiring.expired) == (
        DocumentKind.INSURANCE,
        10,
        False,
    )
    assert not expiring.documents_valid  # two kinds missing
    for event_type, event in zip(providers_v1.EVENT_TYPES, events, strict=True):
        model = providers_v1.EVENT_TYPES[event_type]
        assert model.model_validate_json(event.model_dump_json()) == event


def test_expired_documents_are_announced_with_negative_days() -> None:
    provider = a_provider(documents=(document(DocumentKind.FINANCIAL_CHECK, -3),))
    (event,) = provider_events.document_expiring_events(provider, TODAY)
    assert (event.expired, event.days_until_expiry) == (True, -3)


def test_payloads_ignore_fields_added_later() -> None:
    snapshot = provider_events.provider_snapshot(a_provider(), TODAY)
    data = {**snapshot.model_dump(mode="json"), "a_future_field": 1}
    assert providers_v1.ProviderSnapshot.model_validate(data) == snapshot
    assert providers_v1.TOPIC == "providers.v1"


# --- establishments closing (GIAS) ----------------------------------------------------

CLOSED, PROPOSED = domain.EstablishmentClosure.CLOSED, domain.EstablishmentClosure.PROPOSED_TO_CLOSE


@pytest.mark.parametrize(
    ("status", "closure", "moves"),
    [
        (S.ACTIVE, CLOSED, [S.SUSPENDED, S.REMOVED]),
        (S.REGISTERED, CLOSED, [S.REMOVED]),
        (S.SUSPENDED, CLOSED, [S.REMOVED]),
        (S.REMOVED, CLOSED, []),
        (S.ACTIVE, PROPOSED, [S.SUSPENDED]),
        (S.REGISTERED, PROPOSED, []),  # never made active on the way; not invited anyway
        (S.SUSPENDED, PROPOSED, []),
        (S.REMOVED, PROPOSED, []),
    ],
)
def test_a_closing_establishment_leaves_new_call_offs_by_normal_status_changes(
    status: ProviderStatus, closure: domain.EstablishmentClosure, moves: list[ProviderStatus]
) -> None:
    provider, changes = domain.close_establishment(
        a_provider(status=status), closure, by="cli:import", at=NOW
    )
    assert [change.status for change in changes] == moves
    assert provider.status is (moves[-1] if moves else status)
    assert all(change.reason == domain.CLOSURE_REASON[closure] for change in changes)
    assert all(change.changed_by == "cli:import" for change in changes)
    if moves:
        assert provider.status is not S.ACTIVE
