"""Builders for placements unit tests: sensible defaults, override what a test is about."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from services.placements import domain as d
from shared.contracts.common import Attendance, NeedType
from shared.contracts.ehc_plans_v1 import PlacementRequested
from shared.contracts.placements_v1 import PlacementSource

AT = datetime(2026, 1, 12, 9, 30, tzinfo=UTC)
OFFICER = "commissioner:jo"

DESIGN_EXAMPLE_DATA: dict[str, Any] = {
    "child_ref": "KCC-EHC-000123",
    "la_code": "886",
    "date_of_birth": "2014-05-01",
    "primary_need": "ASD",
    "secondary_needs": ["SLCN"],
    "attendance": "day",
    "postcode_district": "ME14",
    "required_start": "2026-04-20",
    "max_distance_km": 50,
    "urgent": False,
    "ehc_plan": {"issued_on": "2025-11-03", "next_review_due": "2026-11-02"},
}

DESIGN_EXAMPLE_ENVELOPE: dict[str, Any] = {
    "specversion": "1.0",
    "id": "5b0c9a4e-0000-4000-8000-000000000001",
    "type": "ehc.placement.requested",
    "source": "council/886/send-case-system",
    "time": "2026-01-12T09:30:00Z",
    "subject": "KCC-EHC-000123",
    "datacontenttype": "application/json",
    "data": DESIGN_EXAMPLE_DATA,
}


def request(**overrides: Any) -> PlacementRequested:
    return PlacementRequested.model_validate({**DESIGN_EXAMPLE_DATA, **overrides})


def award(**overrides: Any) -> d.Award:
    base = d.Award(
        child_ref="KCC-EHC-000123",
        provider_id="prov-1",
        source=PlacementSource.DPS_AWARD,
        primary_need=NeedType.ASD,
        attendance=Attendance.DAY,
        awarded_on=date(2026, 3, 1),
        start_date=date(2026, 4, 20),
        term_end=date(2029, 4, 19),
        weekly_core_fee=Decimal("1500.00"),
        weeks_per_year=38,
        notice_period_weeks=12,
        next_review_due=date(2026, 11, 2),
        additional_support=(d.SupportItem("1:1 teaching assistant", Decimal("400.00")),),
        need_id="need-1",
        scheme_ref="DPS-NMISS",
        competition_ref="CO-42",
    )
    return replace(base, **overrides)


def placement(**overrides: Any) -> d.Placement:
    return d.create_placement(award(**overrides), "pl-1", OFFICER, AT)


def active_placement(**overrides: Any) -> d.Placement:
    pending = placement(**overrides)
    return d.start_placement(pending, pending.start_date, "provider:prov-1", AT)


def block(**overrides: Any) -> d.BlockContract:
    values: dict[str, Any] = {
        "block_contract_id": "blk-1",
        "provider_id": "prov-9",
        "primary_need": NeedType.ASD,
        "attendance": Attendance.DAY,
        "places": 4,
        "term_start": date(2025, 9, 1),
        "term_end": date(2028, 8, 31),
        "weekly_fee_per_place": Decimal("1200.00"),
        "notice_period_weeks": 26,
    }
    values.update(overrides)
    return d.new_block_contract(**values)
