"""Issue 19: procurement.direct_award.recorded, as procurement publishes it, round-trips
through the envelope and its published JSON schema to the model placements consumes; each
ground it can carry has a placement basis (lawful, needing a reference); the weekly fee
placements derives costs the direct award's value over its term."""

from __future__ import annotations

import json
import typing
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from services.placements.commands import GROUND_BASIS
from services.placements.commands.direct_awards import weekly_fee_for
from services.placements.domain import (
    FeeChange,
    FeeChangeKind,
    apportion_by_financial_year,
    basis_rule,
)
from services.procurement.domain.direct_awards import record_direct_award
from services.procurement.events import direct_award_recorded
from shared.contracts import procurement_v1
from shared.envelope import dataschema_uri, decode_envelope, new_event
from shared.working_days import LONDON

SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=LONDON)


def _validator(event_type: str) -> Draft202012Validator:
    document = json.loads((SCHEMAS / "procurement.v1.json").read_text())
    registry = Registry().with_resource(document["$id"], Resource.from_contents(document))
    uri = dataschema_uri(procurement_v1.TOPIC, event_type)
    return Draft202012Validator({"$ref": uri}, registry=registry)


def test_the_event_round_trips_to_what_placements_reads() -> None:
    award = record_direct_award(
        direct_award_id="6c1b8a52-7d0e-4b0e-9a0a-0d2f8f9d1e11",
        ground="extreme_urgency",
        justification="internal: never published",
        provider_id="P1",
        contract_value=Decimal("9000.00"),
        start_date=date(2026, 3, 3),
        end_date=date(2026, 6, 30),
        decided_by="commissioner",
        now=NOW,
        scheme_id="S1",
        need_ref="PSN-abc",
    )
    event = direct_award_recorded(award)
    env = new_event(
        event.TYPE,
        source="dps/procurement",
        subject=award.direct_award_id,
        data=event,
        topic=procurement_v1.TOPIC,
    )
    back = decode_envelope(env.to_bytes())
    assert list(_validator(event.TYPE).iter_errors(back.data)) == []
    read = procurement_v1.EVENT_TYPES[back.type].model_validate(back.data)
    assert read == event
    assert isinstance(read, procurement_v1.DirectAwardRecorded)
    assert (read.need_ref, read.provider_id, read.contract_value) == (
        "PSN-abc",
        "P1",
        Decimal("9000.00"),
    )
    assert "justification" not in back.data  # internal reasons stay in procurement
    bad = {k: v for k, v in back.data.items() if k != "provider_id"}
    assert list(_validator(event.TYPE).iter_errors(bad))


def test_every_ground_has_a_lawful_basis_needing_a_reference() -> None:
    grounds = set(typing.get_args(procurement_v1.DirectAwardGround))
    assert set(GROUND_BASIS) == grounds
    for basis in GROUND_BASIS.values():
        rule = basis_rule(basis)
        assert rule.lawful and rule.needs_reference and not rule.on_contract
        assert "Schedule 5" in rule.source


def test_the_weekly_fee_costs_the_contract_value_over_its_term() -> None:
    start, end = date(2026, 9, 1), date(2029, 8, 31)
    weekly = weekly_fee_for(Decimal("57000.00"), start, end, 38)
    fee = FeeChange(start, FeeChangeKind.AWARD, "t", NOW, "award", core=weekly)
    total = sum(apportion_by_financial_year((fee,), start, end, 38).values(), Decimal(0))
    # Off by the rounding of the weekly fee to the penny: half a penny a charged week.
    assert abs(total - Decimal("57000.00")) <= Decimal("0.005") * 38 * 3
