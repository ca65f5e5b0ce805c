"""Outbound contract placements.v1: type strings, round trips, money as exact decimals."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shared.contracts import placements_v1 as pv1
from shared.contracts.common import NeedType
from shared.contracts.placements_v1 import PlacementSource


def test_topic_and_type_prefixes() -> None:
    assert pv1.TOPIC == "placements.v1"
    assert all(t.startswith(("placement.", "block_contract.")) for t in pv1.EVENT_TYPES)
    assert len(set(pv1.EVENT_TYPES.values())) == len(pv1.EVENT_TYPES)  # one model per type


def test_every_change_the_brief_lists_has_a_type() -> None:
    expected = {
        "placement.need.raised",
        "placement.need.offered_block_place",
        *(
            f"placement.contract.{c}"
            for c in (
                "created",
                "started",
                "varied",
                "uplift_requested",
                "uplift_decided",
                "ending",
                "ended",
                "terminated",
            )
        ),
        *(f"placement.review.{c}" for c in ("scheduled", "due", "overdue", "completed")),
        "placement.renewal.decision_requested",
        "placement.renewal.decision_overdue",
        "placement.renewal.decided",
        "placement.need.block_offer_decided",
        *(
            f"block_contract.{c}"
            for c in (
                "created",
                "place_filled",
                "place_freed",
                "renewal_requested",
                "renewal_decided",
            )
        ),
        "placement.spend.committed",
    }
    assert set(pv1.EVENT_TYPES) == expected


def test_spend_committed_round_trips_money_exactly() -> None:
    event = pv1.PlacementSpendCommitted(
        placement_id="pl-1",
        provider_id="prov-1",
        primary_need=NeedType.SEMH,
        source=PlacementSource.SPOT,
        on_contract=False,
        financial_year=2025,
        amount=Decimal("12345.67"),
    )
    wire = event.model_dump_json()
    assert json.loads(wire)["amount"] == "12345.67"
    assert pv1.PlacementSpendCommitted.model_validate_json(wire) == event
    assert pv1.event_type_of(event) == "placement.spend.committed"


def test_money_refuses_sub_pennies_and_negatives() -> None:
    base = {
        "placement_id": "pl-1",
        "provider_id": "prov-1",
        "primary_need": "ASD",
        "source": "dps_award",
        "on_contract": True,
        "financial_year": 2025,
    }
    for bad in ("1.001", "-1.00"):
        with pytest.raises(ValidationError, match="amount"):
            pv1.PlacementSpendCommitted.model_validate({**base, "amount": bad})


def test_consumers_ignore_fields_added_later() -> None:
    data = {
        "placement_id": "pl-1",
        "child_ref": "KCC-1",
        "provider_id": "prov-1",
        "started_on": date(2026, 4, 20).isoformat(),
        "added_in_a_later_release": True,
    }
    assert pv1.PlacementContractStarted.model_validate(data).placement_id == "pl-1"


def test_json_schemas_for_every_type() -> None:
    schemas = pv1.json_schemas()
    assert set(schemas) == set(pv1.EVENT_TYPES)
    json.dumps(schemas)
