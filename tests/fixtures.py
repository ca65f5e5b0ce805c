"""Sample request bodies shared by tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def provider_body(urn: int = 123456, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "urn": urn,
        "name": "Oakfield School",
        "proprietor": "Oakfield Education Ltd",
        "provider_type": "independent_special_school",
        "address": "1 Oak Lane, Maidstone",
        "postcode": "me14 1xx",
        "latitude": 51.28,
        "longitude": 0.52,
        "age_low": 7,
        "age_high": 16,
        "attendance": ["day", "residential_38"],
        "capacity": 60,
        "places_in_use": 40,
        "need_types": ["ASD", "SLCN"],
        "documents": [
            {"kind": "insurance", "expires_on": "2030-01-01"},
            {"kind": "safeguarding_policy", "expires_on": "2030-01-01"},
            {"kind": "financial_check", "expires_on": "2030-01-01"},
        ],
    }
    body.update(overrides)
    return body


def today() -> date:
    """Today as the services see it (UTC), asked when it is used: a date taken when a
    module is imported goes stale if the run crosses midnight, and the services' does not."""
    return datetime.now(UTC).date()
