"""Call-off competitions: eligibility evidence, tiers, late joiners, tender periods."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from services.procurement.domain import (
    Competition,
    CompetitionStatus,
    DocumentKind,
    DomainError,
    FilterCriteria,
    GridPoint,
    InvitationReason,
    MembershipStatus,
    RegimeCode,
    Rule,
    close_competition,
    invite_late_joiner,
    open_competition,
    plan_invitations,
    suspend_scheme,
    tender_floor_days,
)
from shared.contracts.common import Attendance, NeedType
from shared.working_days import LONDON

from .builders import (
    DEADLINE,
    MAIDSTONE,
    NOW,
    TODAY,
    block_spec,
    docs_for,
    documents,
    documents_without,
    member,
    register,
    scheme,
    spec,
)

PIDS = ("P1", "P2", "P3")


def open_call_off(**kw: Any) -> Competition:
    s = kw.pop("scheme", scheme())
    call_off = kw.pop("spec", spec())
    members = kw.pop("memberships", [member(p) for p in PIDS])
    pids = {m.provider_id for m in members}
    args: dict[str, Any] = {
        "deadline_at": DEADLINE,
        "memberships": members,
        "providers": register(*pids),
        "documents": docs_for(pids),
        "now": NOW,
    }
    args.update(kw)
    return open_competition(s, call_off, **args)


# ------------------------------------------------------------- eligibility


def test_all_active_eligible_members_of_the_category_are_invited() -> None:
    c = open_call_off()
    assert c.status is CompetitionStatus.OPEN
    assert [i.provider_id for i in c.invitations] == ["P1", "P2", "P3"]
    assert all(i.invited_at == NOW and i.round == 1 for i in c.invitations)
    assert all(i.reason is InvitationReason.INITIAL for i in c.invitations)
    assert c.current_lot == "lot2"
    assert c.tier_steps[0].consulted


def test_filter_exclusions_are_recorded_as_evidence() -> None:
    providers = {
        "P1": register("P1")["P1"],
        "P2": register("P2", need_types=frozenset({NeedType.SEMH}))["P2"],
        "P3": register("P3", age_low=14, age_high=19)["P3"],
        "P4": register("P4", location=GridPoint(MAIDSTONE.easting + 40000, MAIDSTONE.northing))[
            "P4"
        ],
        "P5": register("P5", attendance=frozenset({Attendance.RESIDENTIAL_52}))["P5"],
        "P6": register("P6", active=False)["P6"],
    }
    members = [member(p) for p in providers] + [
        member("P7", status=MembershipStatus.SUSPENDED),
        member("P8", category="semh-res"),
    ]
    docs = docs_for(providers) | {"P7": documents()}
    c = open_call_off(memberships=members, providers=providers, documents=docs)
    assert [i.provider_id for i in c.invitations] == ["P1"]
    reasons = {s.provider_id: " | ".join(s.reasons) for s in c.screenings}
    assert "P8" not in reasons  # other category: not screened at all
    assert "need type ASD" in reasons["P2"]
    assert "age range 14-19 does not cover 12-12" in reasons["P3"]
    assert "40.0 km away, over the 30 km limit" in reasons["P4"]
    assert "day attendance" in reasons["P5"]
    assert "not active in the register" in reasons["P6"]
    assert "membership suspended" in reasons["P7"]
    assert reasons["P1"] == ""


def test_members_with_missing_or_expired_documents_are_not_invited() -> None:
    docs = docs_for(PIDS) | {
        "P2": documents_without(DocumentKind.INSURANCE),
        "P3": documents(expires_on=date(2026, 3, 1)),
    }
    c = open_call_off(documents=docs)
    assert [i.provider_id for i in c.invitations] == ["P1"]
    by_pid = {s.provider_id: s for s in c.screenings}
    assert by_pid["P2"].reasons == ("insurance is missing",)
    assert "insurance expired on 2026-03-01" in by_pid["P3"].reasons


def test_unknown_location_fails_a_distance_filter() -> None:
    c = open_call_off(providers={p: register(p, location=None)[p] for p in PIDS})
    assert c.status is CompetitionStatus.NO_ELIGIBLE_MEMBERS
    assert "location unknown" in c.screenings[0].reasons[0]


# ------------------------------------------------------------------ tiers


def test_higher_tier_first_lower_tier_not_invited() -> None:
    members = [member("P1", "lot2"), member("P2", "lot1"), member("P3", "lot1")]
    c = open_call_off(memberships=members)
    assert [i.provider_id for i in c.invitations] == ["P1"]
    assert c.current_lot == "lot2"


def test_empty_higher_tier_is_skipped_with_a_reason() -> None:
    members = [member("P1", "lot2", status=MembershipStatus.SUSPENDED), member("P2", "lot1")]
    c = open_call_off(memberships=members)
    assert c.current_lot == "lot1"
    assert [i.provider_id for i in c.invitations] == ["P2"]
    assert [(t.lot_code, t.consulted) for t in c.tier_steps] == [("lot2", False), ("lot1", True)]
    assert c.tier_steps[0].reason == "no eligible members in lot2"


def test_block_contracts_only_go_to_lots_that_allow_them() -> None:
    members = [member("P1", "lot1"), member("P2", "lot2")]
    c = open_call_off(memberships=members, spec=block_spec())
    assert [i.provider_id for i in c.invitations] == ["P2"]

    only_lot1 = open_call_off(memberships=[member("P1", "lot1")], spec=block_spec())
    assert only_lot1.status is CompetitionStatus.NO_ELIGIBLE_MEMBERS
    assert "does not take block contracts" in only_lot1.tier_steps[-1].reason


def test_untiered_scheme_invites_everyone() -> None:
    s = scheme(lots=())
    members = [member(p, lot=None) for p in PIDS]
    c = open_call_off(scheme=s, memberships=members)
    assert len(c.invitations) == 3 and c.current_lot is None


def test_no_eligible_members_is_an_outcome_not_an_error() -> None:
    c = open_call_off(memberships=[])
    assert c.status is CompetitionStatus.NO_ELIGIBLE_MEMBERS
    assert c.invitations == ()


def test_plan_is_deterministic_and_sorted() -> None:
    members = [member(p) for p in ("P3", "P1", "P2")]
    plan = plan_invitations(
        scheme(),
        spec(),
        memberships=members,
        providers=register(*PIDS),
        documents=docs_for(PIDS),
        today=TODAY,
    )
    assert plan.invitees == ("P1", "P2", "P3")


# ------------------------------------------------------- opening rules


def test_weights_must_sum_to_100() -> None:
    with pytest.raises(DomainError) as e:
        open_call_off(spec=spec(quality_weight=60, price_weight=30))
    assert (e.value.field, e.value.rule) == ("price_weight", Rule.WEIGHTS_MUST_SUM_TO_100)


def test_deadline_in_the_past_is_refused() -> None:
    with pytest.raises(DomainError) as e:
        open_call_off(deadline_at=NOW - timedelta(minutes=1))
    assert (e.value.field, e.value.rule) == ("deadline_at", Rule.DEADLINE_IN_PAST)


def test_tender_period_of_at_least_ten_calendar_days() -> None:
    open_call_off(deadline_at=NOW + timedelta(days=10))
    with pytest.raises(DomainError) as e:
        open_call_off(deadline_at=NOW + timedelta(days=10) - timedelta(seconds=1))
    assert e.value.rule is Rule.TENDER_PERIOD_TOO_SHORT


def test_urgent_placement_may_shorten_under_light_touch_with_a_reason() -> None:
    c = open_call_off(deadline_at=NOW + timedelta(days=3), urgent_reason="placement breakdown")
    assert c.urgent_reason == "placement breakdown"
    with pytest.raises(DomainError):
        open_call_off(deadline_at=NOW + timedelta(days=3), urgent_reason="  ")
    with pytest.raises(DomainError):
        open_call_off(deadline_at=NOW + timedelta(days=2), urgent_reason="breakdown")


def test_pcr2015_never_shortens_below_ten_days() -> None:
    s = scheme(regime=RegimeCode.PCR2015)
    assert tender_floor_days(s, "child out of school") == 10
    with pytest.raises(DomainError) as e:
        open_call_off(
            scheme=s,
            spec=spec(filter=FilterCriteria(NeedType.ASD, Attendance.DAY)),
            deadline_at=NOW + timedelta(days=5),
            urgent_reason="child out of school",
        )
    assert "not allowed" in e.value.message


def test_no_call_offs_when_the_scheme_is_suspended_or_the_term_is_over() -> None:
    with pytest.raises(DomainError) as e:
        open_call_off(scheme=suspend_scheme(scheme(), "audit"))
    assert e.value.rule is Rule.SCHEME_NOT_OPEN
    after = datetime(2029, 2, 24, 9, tzinfo=LONDON)
    with pytest.raises(DomainError) as e:
        open_call_off(now=after, deadline_at=after + timedelta(days=14))
    assert e.value.rule is Rule.TERM_ENDED


def test_deadline_must_fall_within_the_term() -> None:
    near_end = datetime(2029, 2, 15, 9, tzinfo=LONDON)
    with pytest.raises(DomainError) as e:
        open_call_off(now=near_end, deadline_at=near_end + timedelta(days=10))
    assert e.value.rule is Rule.DEADLINE_AFTER_TERM


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        (
            {"filter": FilterCriteria(NeedType.SEMH, Attendance.DAY)},
            "filter.need_type",
            Rule.FILTER_OUTSIDE_CATEGORY,
        ),
        (
            {"filter": FilterCriteria(NeedType.ASD, Attendance.RESIDENTIAL_52)},
            "filter.attendance",
            Rule.FILTER_OUTSIDE_CATEGORY,
        ),
        (
            {"filter": FilterCriteria(NeedType.ASD, Attendance.DAY, max_distance_km=20)},
            "filter.origin",
            Rule.REQUIRED,
        ),
        (
            {"filter": FilterCriteria(NeedType.ASD, Attendance.DAY, 12, 8)},
            "filter.max_age",
            Rule.OUT_OF_RANGE,
        ),
        ({"need_ref": None}, "need_ref", Rule.REQUIRED),
        ({"places": 2}, "places", Rule.OUT_OF_RANGE),
        ({"quality_questions": ()}, "quality_questions", Rule.REQUIRED),
        ({"category_code": "nope"}, "category_code", Rule.UNKNOWN),
    ],
)
def test_spec_validation(overrides: dict[str, Any], field: str, rule: Rule) -> None:
    with pytest.raises(DomainError) as e:
        open_call_off(spec=spec(**overrides))
    assert (e.value.field, e.value.rule) == (field, rule)


def test_block_needs_a_term() -> None:
    with pytest.raises(DomainError) as e:
        open_call_off(spec=block_spec(term_end=None))
    assert (e.value.field, e.value.rule) == ("term_end", Rule.REQUIRED)


# ----------------------------------------------------------- late joiners


def late(c: Competition, at: datetime, **kw: Any):  # type: ignore[no-untyped-def]
    args: dict[str, Any] = {
        "membership": member("P9", admitted_on=at.date()),
        "provider": register("P9")["P9"],
        "documents": documents(),
        "now": at,
    }
    args.update(kw)
    return invite_late_joiner(c, scheme(), **args)


def test_late_joiner_with_enough_time_is_invited() -> None:
    c = open_call_off()
    decision = late(c, DEADLINE - timedelta(days=5))
    assert decision.invitation is not None
    assert decision.invitation.reason is InvitationReason.LATE_JOINER
    assert decision.competition.invited("P9")
    assert decision.competition.deadline_at == DEADLINE  # same deadline for everyone


def test_late_joiner_with_too_little_time_is_not_invited() -> None:
    c = open_call_off()
    decision = late(c, DEADLINE - timedelta(days=5) + timedelta(seconds=1))
    assert decision.invitation is None
    assert "fewer than 5 days" in decision.reason
    assert decision.competition is c


def test_late_joiner_must_pass_the_filter_and_documents() -> None:
    c = open_call_off()
    at = NOW + timedelta(days=1)
    far = late(c, at, provider=register("P9", location=GridPoint(0, 0))["P9"])
    assert far.invitation is None and "km away" in far.reason
    undocumented = late(c, at, documents=documents_without(DocumentKind.FINANCIAL_CHECK))
    assert undocumented.invitation is None and "financial_check is missing" in undocumented.reason


def test_late_joiner_in_a_lower_lot_waits_for_its_tier() -> None:
    c = open_call_off()
    decision = late(c, NOW + timedelta(days=1), membership=member("P9", "lot1"))
    assert decision.invitation is None and "below the tier" in decision.reason


def test_late_joiner_in_another_category_or_closed_call_off() -> None:
    c = open_call_off()
    other = late(c, NOW + timedelta(days=1), membership=member("P9", category="semh-res"))
    assert other.invitation is None
    closed = close_competition(c, DEADLINE)
    assert late(closed, DEADLINE).invitation is None
    already = late(c, NOW + timedelta(days=1), membership=member("P1"))
    assert already.reason == "already invited"


# ----------------------------------------------------------------- closing


def test_cannot_close_before_the_deadline() -> None:
    c = open_call_off()
    with pytest.raises(DomainError) as e:
        close_competition(c, DEADLINE - timedelta(seconds=1))
    assert e.value.rule is Rule.DEADLINE_NOT_REACHED
    closed = close_competition(c, DEADLINE)
    assert closed.status is CompetitionStatus.CLOSED and closed.closed_at == DEADLINE
