"""Fields the contracts mark personal, and redaction of stored messages by them."""

from __future__ import annotations

import json

from shared.consumer import redact_message
from shared.contracts import topic_personal_fields
from shared.contracts.common import REDACTED, personal_fields
from shared.contracts.ehc_plans_v1 import PlacementRequested
from shared.contracts.placements_v1 import PlacementNeedRaised


def test_contracts_mark_the_childs_identity_and_needs_personal() -> None:
    assert {"child_ref", "date_of_birth", "postcode_district", "primary_need"} <= (
        personal_fields(PlacementRequested)
    )
    assert {"child_ref", "date_of_birth", "postcode_district", "search_origin"} <= (
        personal_fields(PlacementNeedRaised)
    )
    assert "required_start" not in personal_fields(PlacementRequested)
    assert topic_personal_fields("providers.v1") == frozenset()


def test_a_council_event_loses_the_childs_details_subject_and_key() -> None:
    envelope = {
        "id": "e-1",
        "type": "ehc.placement.requested",
        "subject": "KCC-EHC-000123",
        "data": {
            "child_ref": "KCC-EHC-000123",
            "date_of_birth": "2014-05-01",
            "postcode_district": "ME14",
            "primary_need": "ASD",
            "required_start": "2026-04-20",
        },
    }
    payload, key = redact_message("ehc.plans.v1", json.dumps(envelope).encode(), "KCC-EHC-000123")
    text = payload.decode()
    assert all(v not in text for v in ("KCC-EHC-000123", "2014-05-01", "ME14", "ASD"))
    assert json.loads(payload)["data"]["required_start"] == "2026-04-20"
    assert json.loads(payload)["subject"] == REDACTED and key == REDACTED


def test_what_cannot_be_read_is_dropped_and_other_keys_stay() -> None:
    assert redact_message("ehc.plans.v1", b"{not json", "KCC-EHC-1") == (b"", REDACTED)
    provider = json.dumps({"subject": "p-1", "data": {"provider_id": "p-1"}}).encode()
    assert redact_message("providers.v1", provider, "p-1") == (
        json.dumps({"subject": "p-1", "data": {"provider_id": "p-1"}}).encode(),
        "p-1",
    )


def test_headers_lose_the_personal_values_a_binary_mode_event_carries() -> None:
    from shared.consumer import redact_headers

    headers = {"ce_subject": "KCC-EHC-000123", "ce_type": "ehc.plan.issued", "x": "1"}
    assert redact_headers(headers, {"KCC-EHC-000123"}) == {
        "ce_subject": REDACTED,
        "ce_type": "ehc.plan.issued",
        "x": "1",
    }
    # Unreadable payload: what the ce_ attributes named cannot be told, so none is kept.
    assert redact_headers(headers, None) == {
        "ce_subject": REDACTED,
        "ce_type": REDACTED,
        "x": "1",
    }
