"""The register's rules for a provider's people (issue 15): decisions, invitations and
what a registering person must give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.provider_registry import domain
from services.provider_registry.domain import RegistrationStatus as S
from shared.contracts.common import Attendance, NeedType
from shared.contracts.providers_v1 import ProviderType
from shared.errors import Conflict, DomainError, RulesBroken

NOW = datetime(2026, 12, 5, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("verify", "reason", "expected"),
    [
        (True, "", S.VERIFIED),
        (True, "checked by phone", S.VERIFIED),
        (False, "not them", S.REJECTED),
    ],
)
def test_a_pending_registration_is_verified_or_rejected(
    verify: bool, reason: str, expected: S
) -> None:
    assert domain.decide_registration(S.PENDING, verify, reason) is expected


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_rejection_must_say_why(reason: str) -> None:
    with pytest.raises(RulesBroken) as broken:
        domain.decide_registration(S.PENDING, False, reason)
    assert broken.value.errors == (DomainError("reason", domain.REASON_NEEDED),)


@pytest.mark.parametrize("decided", [S.VERIFIED, S.REJECTED])
@pytest.mark.parametrize("verify", [True, False])
def test_a_decided_registration_is_not_decided_again(decided: S, verify: bool) -> None:
    with pytest.raises(Conflict):
        domain.decide_registration(decided, verify, "again")


def test_an_invitation_works_once_and_until_it_expires() -> None:
    expires = domain.invitation_expiry(NOW)
    assert expires - NOW == timedelta(days=domain.INVITATION_DAYS)
    assert domain.invitation_problem(expires, None, NOW) is None
    assert "expired" in (domain.invitation_problem(expires, None, expires) or "")
    assert "used" in (domain.invitation_problem(expires, NOW, NOW) or "")


def test_the_registering_person_gives_a_name_and_an_email_address() -> None:
    assert domain.validate_person("Ann", "ann@school.example") == []
    fields = {e.field for e in domain.validate_person(" ", "ann at school")}
    assert fields == {"person_name", "person_email"}


def _draft(urn: int) -> domain.ProviderDraft:
    return domain.ProviderDraft(
        urn=urn,
        name="Willow School",
        proprietor="Willow Trust",
        provider_type=ProviderType.INDEPENDENT_SPECIAL_SCHOOL,
        address="2 Willow Road",
        postcode="TN23 1AA",
        age_low=5,
        age_high=11,
        attendance=frozenset({Attendance.DAY}),
        capacity=30,
        need_types=frozenset({NeedType.SEMH}),
    )


def test_a_new_provider_may_leave_out_its_urn_but_not_give_a_bad_one() -> None:
    assert domain.validate_new_provider(_draft(0), urn_given=False) == []
    assert [e.field for e in domain.validate_new_provider(_draft(12), urn_given=True)] == ["urn"]
    assert domain.validate_new_provider(_draft(118945), urn_given=True) == []


@pytest.mark.parametrize(
    ("administrators", "was", "stays", "refused"),
    [
        (1, True, False, True),  # the last administrator leaves or steps down
        (2, True, False, False),  # another administrator stays
        (1, False, False, False),  # a member goes
        (1, True, True, False),  # the administrator stays one
        (1, False, True, False),  # a member made administrator
    ],
)
def test_the_organisation_always_keeps_an_administrator(
    administrators: int, was: bool, stays: bool, refused: bool
) -> None:
    problem = domain.people_change_problem(administrators, was, stays)
    assert (problem == domain.LAST_ADMINISTRATOR) is refused
