"""quality.v1 contract: registry, validation, and fit with the domain records."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import BaseModel, ValidationError

from services.monitoring.domain import recommend_suspension
from shared.contracts import payload_model
from shared.contracts.quality_v1 import (
    EVENT_TYPES,
    TOPIC,
    AlertRaised,
    IncidentRecorded,
    KpiReturnRecorded,
    SuspensionRecommended,
    VisitRecorded,
)

from .factories import NOW, alert, inspection


def test_topic_and_event_types() -> None:
    assert TOPIC == "quality.v1"
    assert set(EVENT_TYPES) == {
        "quality.alert.raised",
        "quality.alert.acknowledged",
        "quality.alert.resolved",
        "quality.alert.escalated",
        "quality.provider.suspension_recommended",
        "quality.visit.recorded",
        "quality.kpi_return.recorded",
        "quality.incident.recorded",
    }
    for event_type, model in EVENT_TYPES.items():
        assert issubclass(model, BaseModel)
        assert payload_model(TOPIC, event_type) is model


def test_a_domain_alert_fits_the_raised_event() -> None:
    domain_alert = alert()
    event = AlertRaised.model_validate(domain_alert.model_dump(), from_attributes=False)
    assert event.alert_id == "A1"
    assert event.evidence_refs == ["inc-1"]
    assert AlertRaised.model_validate_json(event.model_dump_json()) == event


def test_a_domain_recommendation_fits_the_suspension_event() -> None:
    recommendation = recommend_suspension(
        "P1",
        inspections=[inspection(judgement="inadequate")],
        open_alerts=[alert()],
        existing=[],
        now=NOW,
        recommendation_id="R1",
    )
    assert recommendation is not None
    event = SuspensionRecommended.model_validate(recommendation.model_dump())
    assert event.reasons and event.evidence_refs == ["ofsted-1", "inc-1"]


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    event = VisitRecorded.model_validate(
        {
            "visit_id": "v1",
            "provider_id": "P1",
            "officer_id": "o1",
            "visited_on": "2026-01-10",
            "rating": 2,
            "added_later": "ok",
        }
    )
    assert event.rating == 2


@pytest.mark.parametrize(
    ("model", "payload"),
    [
        (
            VisitRecorded,
            {
                "visit_id": "v",
                "provider_id": "P",
                "officer_id": "o",
                "visited_on": "2026-01-10",
                "rating": 5,
            },
        ),
        (
            KpiReturnRecorded,
            {
                "return_id": "k",
                "placement_id": "PL",
                "provider_id": "P",
                "term": "autumn",
                "attendance_pct": 90,
                "exclusions": 0,
                "incidents": 0,
                "outcomes_progress": "met",
                "submitted_on": "2026-01-10",
            },
        ),
        (AlertRaised, alert().model_dump() | {"raised_at": "2026-01-12T09:30:00"}),
    ],
)
def test_contract_validation(model: type[BaseModel], payload: dict) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(payload)


def test_incident_event_carries_no_summary() -> None:
    assert "summary" not in IncidentRecorded.model_fields
    event = IncidentRecorded(
        incident_id="i1",
        provider_id="P1",
        category="safeguarding",
        severity="high",
        occurred_on=date(2026, 1, 10),
    )
    assert event.TYPE == "quality.incident.recorded"


def test_domain_vocabulary_matches_the_upstream_contracts() -> None:
    # Drift guard: evidence is built from providers.v1 and placements.v1 payloads.
    from services.monitoring.domain import Judgement, ReviewOutcomeKind
    from shared.contracts import placements_v1, providers_v1

    judgements = {j.value for j in Judgement}
    assert {j.value for j in providers_v1.OfstedJudgement} <= judgements
    assert {g.value for g in providers_v1.ReportCardGrade} <= judgements
    assert {o.value for o in ReviewOutcomeKind} == {o.value for o in placements_v1.ReviewOutcome}
