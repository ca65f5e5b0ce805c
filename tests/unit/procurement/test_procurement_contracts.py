"""The procurement.v1 event contract and its fit with the domain objects."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, get_args

import pytest
from pydantic import BaseModel, ValidationError

from services.procurement import domain
from shared.contracts import procurement_v1 as v1
from shared.working_days import LONDON

from .test_procurement_applications import decide, submitted
from .test_procurement_award import approve

REQUIRED_TYPES = {
    "procurement.scheme.created",
    "procurement.scheme.opened",
    "procurement.scheme.suspended",
    "procurement.scheme.closed",
    "procurement.application.submitted",
    "procurement.application.extended",
    "procurement.application.decided",
    "procurement.application.overdue",
    "procurement.membership.suspended",
    "procurement.membership.ended",
    "procurement.competition.opened",
    "procurement.provider.invited",
    "procurement.bid.received",
    "procurement.clarification.answered",
    "procurement.competition.closed",
    "procurement.competition.evaluated",
    "procurement.competition.awarded",
    "procurement.competition.no_suitable_bid",
    "procurement.competition.no_eligible_members",
}


def test_topic_and_type_registry() -> None:
    assert v1.TOPIC == "procurement.v1"
    assert REQUIRED_TYPES <= set(v1.EVENT_TYPES)
    assert len(v1.EVENT_TYPES) == len(v1.EVENT_MODELS)
    for type_, model in v1.EVENT_TYPES.items():
        assert type_.startswith("procurement.")
        assert issubclass(model, v1.ProcurementEvent) and model.TYPE == type_
        assert model.SUBJECT_FIELD in model.model_fields
        model.model_json_schema()  # every payload is JSON-schema friendly


@pytest.mark.parametrize(
    ("alias", "enum"),
    [
        (v1.RegimeCode, domain.RegimeCode),
        (v1.DocumentKind, domain.DocumentKind),
        (v1.ApplicationOutcome, domain.ApplicationOutcome),
        (v1.CompetitionKind, domain.CompetitionKind),
        (v1.InvitationReason, domain.InvitationReason),
        (v1.FeeBasis, domain.FeeBasis),
        (v1.ChargeBasis, domain.ChargeBasis),
        (v1.NextAction, domain.NextAction),
    ],
)
def test_contract_vocabulary_matches_the_domain(alias: Any, enum: type[StrEnum]) -> None:
    assert set(get_args(alias)) == {e.value for e in enum}


def as_dict(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def roundtrip(event: BaseModel) -> None:
    again = type(event).model_validate_json(event.model_dump_json())
    assert again == event


def test_awarded_payload_is_built_from_the_award() -> None:
    _, award = approve()
    data = as_dict(award) | {
        "additional_support": [as_dict(i) for i in award.additional_support],
    }
    event = v1.CompetitionAwarded.model_validate(data)
    assert event.subject() == "C1"
    assert (event.provider_id, event.need_ref, event.weekly_core_fee) == (
        "P1",
        "NEED-1",
        Decimal("1500.00"),
    )
    assert event.additional_support[0].basis == "weekly"
    assert event.weeks_per_year == 38 and event.start_date == award.start_date
    roundtrip(event)
    # Every award field the contract names comes straight from the domain object, but
    # the regime: the scheme's, passed to events.competition_awarded beside the award.
    assert set(v1.CompetitionAwarded.model_fields) - {"regime"} <= set(data)


def test_decided_payload_is_built_from_the_decision() -> None:
    app = decide(submitted()).application
    d = app.decision
    assert d is not None
    event = v1.ApplicationDecided(
        application_id=app.application_id,
        scheme_id=app.scheme_id,
        provider_id=app.provider_id,
        outcome=d.outcome,
        admitted_categories=list(d.admitted_categories),
        refused_categories=[as_dict(r) for r in d.refused_categories],  # type: ignore[misc]
        criteria=[as_dict(c) for c in d.criteria],  # type: ignore[misc]
        quality_score=d.quality_score,
        lot_code=d.lot_code,
        decided_by=d.decided_by,
        decided_at=d.decided_at,
        decided_late=d.decided_late,
    )
    assert event.subject() == "A1" and event.outcome == "admitted"
    roundtrip(event)


def test_membership_events_are_keyed_by_provider() -> None:
    event = v1.MembershipSuspended(
        scheme_id="S1",
        provider_id="P1",
        category_code="asd-day",
        reason="Ofsted inadequate",
        suspended_by="officer-7",
        suspended_on=datetime(2026, 5, 1).date(),
    )
    assert event.subject() == "P1"


def test_money_must_be_pounds_and_pence() -> None:
    _, award = approve()
    data = as_dict(award) | {"additional_support": []}
    with pytest.raises(ValidationError):
        v1.CompetitionAwarded.model_validate(data | {"weekly_core_fee": Decimal("1.005")})
    with pytest.raises(ValidationError):
        v1.CompetitionAwarded.model_validate(data | {"annual_value": Decimal("-1")})


def test_instants_must_be_timezone_aware() -> None:
    fields = {
        "competition_id": "C1",
        "scheme_id": "S1",
        "round": 1,
        "bids_received": 2,
    }
    v1.CompetitionClosed(**fields, closed_at=datetime(2026, 3, 16, tzinfo=LONDON))
    with pytest.raises(ValidationError):
        v1.CompetitionClosed(**fields, closed_at=datetime(2026, 3, 16))


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    event = v1.SchemeSuspended.model_validate(
        {
            "scheme_id": "S1",
            "reason": "audit",
            "suspended_at": "2026-03-02T10:00:00+00:00",
            "added_in_a_later_minor_version": 1,
        }
    )
    assert event.subject() == "S1"


def test_document_kinds_match_the_register() -> None:
    # The register publishes documents on providers.v1; procurement checks the same kinds.
    from shared.contracts import providers_v1

    assert {k.value for k in providers_v1.DocumentKind} == {k.value for k in domain.DocumentKind}
