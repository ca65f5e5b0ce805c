"""Event builders for placements tests: an EHC placement request and a procurement award."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from shared.contracts import ehc_plans_v1, procurement_v1
from shared.envelope import Envelope


def envelope(
    event_type: str, subject: str, data: BaseModel | dict[str, Any], *, time: datetime | None = None
) -> Envelope:
    payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    return Envelope(
        id=str(uuid.uuid4()),
        type=event_type,
        source="council/886/send-case-system",
        subject=subject,
        time=time or datetime.now(UTC),
        data=payload,
    )


def requested_data(child_ref: str = "KCC-EHC-000123", **overrides: Any) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    data: dict[str, Any] = {
        "child_ref": child_ref,
        "la_code": "886",
        "date_of_birth": "2014-05-01",
        "primary_need": "ASD",
        "secondary_needs": ["SLCN"],
        "attendance": "day",
        "postcode_district": "ME14",
        "required_start": (today + timedelta(days=30)).isoformat(),
        "max_distance_km": 50,
        "urgent": False,
        "ehc_plan": {
            "issued_on": (today - timedelta(days=100)).isoformat(),
            "next_review_due": (today + timedelta(days=200)).isoformat(),
        },
    }
    data.update(overrides)
    ehc_plans_v1.PlacementRequested.model_validate(data)  # builders must build valid events
    return data


def placement_requested(child_ref: str = "KCC-EHC-000123", **overrides: Any) -> Envelope:
    return envelope("ehc.placement.requested", child_ref, requested_data(child_ref, **overrides))


def awarded(
    need_id: str | None,
    *,
    start_date: date | None = None,
    weekly_core_fee: str = "1500.00",
    competition_id: str | None = None,
    kind: str = "individual",
    places: int = 1,
    provider_id: str = "p-1",
    approved_at: datetime | None = None,
    **overrides: Any,
) -> Envelope:
    today = datetime.now(UTC).date()
    start = start_date or today + timedelta(days=30)
    data: dict[str, Any] = {
        "competition_id": competition_id or f"c-{uuid.uuid4().hex[:8]}",
        "scheme_id": "s-1",
        "round": 1,
        "kind": kind,
        "category_code": "ASD-day",
        "bid_id": "b-1",
        "provider_id": provider_id,
        "places": places,
        "need_ref": need_id,
        "fee_basis": "weekly",
        "core_fee": weekly_core_fee,
        "weekly_core_fee": weekly_core_fee,
        "weeks_per_year": 38,
        "additional_support": [{"description": "1:1 TA", "amount": "200.00", "basis": "weekly"}],
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=3 * 365)).isoformat(),
        "annual_value": str(Decimal(weekly_core_fee) * 38),
        "contract_value": str(Decimal(weekly_core_fee) * 38 * 3),
        "price_score": "80",
        "quality_score": "70",
        "total_score": "75",
        "approved_by": "commissioner:jo",
        "approved_at": (approved_at or datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "notice_due_on": (today + timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return Envelope(
        id=str(uuid.uuid4()),
        type="procurement.competition.awarded",
        source="dps/procurement",
        subject=data["competition_id"],
        data=data,
    )


def award_is_valid(env: Envelope) -> bool:
    procurement_v1.CompetitionAwarded.model_validate(env.data)
    return True
