"""Builders of the events monitoring consumes, as other services would publish them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from shared.contracts import placements_v1, procurement_v1, providers_v1
from shared.envelope import Envelope, new_event


def envelope(topic: str, event_type: str, subject: str, payload: BaseModel) -> Envelope:
    return new_event(event_type, source="tests", subject=subject, data=payload, topic=topic)


def snapshot(provider_id: str, urn: int = 123456, name: str = "Oakfield School") -> dict[str, Any]:
    return {
        "provider_id": provider_id,
        "urn": urn,
        "name": name,
        "proprietor": "Oakfield Education Ltd",
        "provider_type": "independent_special_school",
        "status": "active",
        "age_low": 7,
        "age_high": 16,
        "gender_intake": "mixed",
        "attendance": ["day"],
        "need_types": ["ASD"],
        "capacity": 60,
        "places_in_use": 40,
        "location": {"postcode": "ME14 1XX", "postcode_district": "ME14"},
        "documents_valid": True,
    }


def registered(provider_id: str, urn: int = 123456) -> Envelope:
    payload = providers_v1.ProviderRegistered.model_validate(
        {"provider": snapshot(provider_id, urn), "registered_by": "tests"}
    )
    return envelope(providers_v1.TOPIC, providers_v1.PROVIDER_REGISTERED, provider_id, payload)


def inspection(
    provider_id: str,
    judgement: str = "inadequate",
    inspected_on: date = date(2026, 1, 5),
    is_latest: bool = True,
) -> Envelope:
    payload = providers_v1.ProviderInspectionRecorded.model_validate(
        {
            "provider_id": provider_id,
            "urn": 123456,
            "name": "Oakfield School",
            "new": {
                "inspected_on": inspected_on.isoformat(),
                "overall": judgement,
                "equivalent_judgement": judgement,
            },
            "declined": True,
            "is_latest": is_latest,
        }
    )
    return envelope(
        providers_v1.TOPIC, providers_v1.PROVIDER_INSPECTION_RECORDED, provider_id, payload
    )


def document_expiring(provider_id: str, days: int = -1) -> Envelope:
    payload = providers_v1.ProviderDocumentExpiring(
        provider_id=provider_id,
        urn=123456,
        name="Oakfield School",
        kind=providers_v1.DocumentKind.INSURANCE,
        expires_on=date(2026, 1, 1),
        days_until_expiry=days,
        expired=days < 0,
        documents_valid=days >= 0,
    )
    return envelope(
        providers_v1.TOPIC, providers_v1.PROVIDER_DOCUMENT_EXPIRING, provider_id, payload
    )


def _fee(weekly: str) -> dict[str, Any]:
    return {
        "effective_from": "2025-09-01",
        "weekly_core_fee": weekly,
        "weekly_total": weekly,
        "annual_cost": str(Decimal(weekly) * 38),
    }


def contract_created(
    placement_id: str, provider_id: str, weekly: str = "1500.00", review_due: str = "2026-01-01"
) -> Envelope:
    payload = placements_v1.PlacementContractCreated.model_validate(
        {
            "placement_id": placement_id,
            "child_ref": "KCC-EHC-000123",
            "provider_id": provider_id,
            "source": "dps_award",
            "on_contract": True,
            "primary_need": "ASD",
            "attendance": "day",
            "awarded_on": "2025-08-01",
            "start_date": "2025-09-01",
            "term_end": "2028-07-31",
            "weeks_per_year": 38,
            "notice_period_weeks": 12,
            "fee": _fee(weekly),
            "first_review_due": review_due,
        }
    )
    return envelope(placements_v1.TOPIC, "placement.contract.created", placement_id, payload)


def spend_committed(
    placement_id: str,
    provider_id: str,
    amount: str,
    on_contract: bool = True,
    year: int = 2025,
    *,
    need: str = "ASD",
    line: str = "placement",
) -> Envelope:
    payload = placements_v1.PlacementSpendCommitted.model_validate(
        {
            "placement_id": placement_id,
            "provider_id": provider_id,
            "primary_need": need,
            "source": "dps_award" if on_contract else "spot",
            "on_contract": on_contract,
            "financial_year": year,
            "amount": amount,
            "line": line,
        }
    )
    return envelope(placements_v1.TOPIC, "placement.spend.committed", placement_id, payload)


def uplift_requested(placement_id: str, provider_id: str, requested: str, cap: str) -> Envelope:
    payload = placements_v1.PlacementContractUpliftRequested.model_validate(
        {
            "placement_id": placement_id,
            "uplift_id": "u-1",
            "provider_id": provider_id,
            "requested_percent": requested,
            "cap_percent": cap,
            "above_cap": Decimal(requested) > Decimal(cap),
            "effective_from": "2026-04-01",
        }
    )
    return envelope(
        placements_v1.TOPIC, "placement.contract.uplift_requested", placement_id, payload
    )


def review_overdue(placement_id: str, provider_id: str) -> Envelope:
    payload = placements_v1.PlacementReviewOverdue.model_validate(
        {
            "placement_id": placement_id,
            "review_id": "r-1",
            "child_ref": "KCC-EHC-000123",
            "provider_id": provider_id,
            "due_on": "2026-01-01",
            "days_overdue": 5,
        }
    )
    return envelope(placements_v1.TOPIC, "placement.review.overdue", placement_id, payload)


def review_completed(placement_id: str, provider_id: str, completed_on: date) -> Envelope:
    payload = placements_v1.PlacementReviewCompleted.model_validate(
        {
            "placement_id": placement_id,
            "review_id": "r-1",
            "child_ref": "KCC-EHC-000123",
            "provider_id": provider_id,
            "due_on": completed_on.isoformat(),
            "completed_on": completed_on.isoformat(),
            "outcome": "continue",
            "recorded_by": "officer-1",
        }
    )
    return envelope(placements_v1.TOPIC, "placement.review.completed", placement_id, payload)


def competition_opened(competition_id: str, need_ref: str | None = "need-1") -> Envelope:
    payload = procurement_v1.CompetitionOpened.model_validate(
        {
            "competition_id": competition_id,
            "scheme_id": "s-1",
            "category_code": "NMISS-DAY",
            "kind": "individual" if need_ref else "block",
            "title": "ASD day place",
            "places": 1,
            "need_ref": need_ref,
            "filter": {"need_type": "ASD", "attendance": "day"},
            "quality_weight": 60,
            "price_weight": 40,
            "opened_at": "2026-01-05T09:00:00Z",
            "deadline_at": "2026-01-16T12:00:00Z",
            "invited_count": 5,
        }
    )
    return envelope(procurement_v1.TOPIC, payload.TYPE, competition_id, payload)


def competition_closed(competition_id: str, bids: int) -> Envelope:
    payload = procurement_v1.CompetitionClosed.model_validate(
        {
            "competition_id": competition_id,
            "scheme_id": "s-1",
            "round": 1,
            "closed_at": "2026-01-16T12:00:00Z",
            "bids_received": bids,
        }
    )
    return envelope(procurement_v1.TOPIC, payload.TYPE, competition_id, payload)


def no_suitable_bid(competition_id: str, next_action: str = "escalate") -> Envelope:
    payload = procurement_v1.CompetitionNoSuitableBid.model_validate(
        {
            "competition_id": competition_id,
            "scheme_id": "s-1",
            "round": 1,
            "lot_code": "L2",
            "reason": "no bid met the quality threshold",
            "next_action": next_action,
            "next_lot_code": "L1" if next_action == "reopen_lower_tier" else None,
            "declared_by": "commissioner-1",
            "declared_at": "2026-01-19T10:00:00Z",
        }
    )
    return envelope(procurement_v1.TOPIC, payload.TYPE, competition_id, payload)
