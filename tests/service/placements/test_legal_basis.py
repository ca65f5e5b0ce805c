"""Every placement carries its legal basis (issue 19): an award's from its scheme's regime
(DPS when an older event says none), an imported record's as stated with the reference
justifying it (a clear 422 naming the field otherwise), on the placement's view, on its
events and in the spend summary: on-contract, off-contract lawful, non-compliant."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.placements.models import PlacementRow, SpendLedgerRow
from shared.auth import issue_token
from shared.contracts.common import Role
from tests.conftest import TEST_SECRET
from tests.fixtures import today
from tests.harness import client_for
from tests.service.placements.conftest import Placements
from tests.service.placements.test_import import _post, batch, item


def _financial_year() -> int:
    return today().year if today().month >= 4 else today().year - 1


async def _created(p: Placements, placement_id: str) -> dict[str, Any]:
    for message in await p.events("placement.contract.created"):
        data: dict[str, Any] = json.loads(message.payload)["data"]
        if data["placement_id"] == placement_id:
            return data
    raise AssertionError(f"no placement.contract.created for {placement_id}")


@pytest.mark.parametrize(
    ("regime", "basis"),
    [
        ("pa2023_dynamic_market", "dynamic_market_call_off"),
        ("pcr2015_light_touch", "dps_call_off"),
        (None, "dps_call_off"),  # an award published before the regime was carried
    ],
)
async def test_an_award_records_the_basis_its_regime_gives(
    placements: Placements, tokens: dict[Role, str], regime: str | None, basis: str
) -> None:
    extra = {} if regime is None else {"regime": regime}
    row = await placements.active_placement(**extra)
    assert row.basis == basis and row.basis_reference is None
    assert (await _created(placements, row.placement_id))["basis"] == basis
    async with client_for(placements.runtime, tokens[Role.COMMISSIONER]) as client:
        view = (await client.get(f"/placements/{row.placement_id}")).json()
    assert view["basis"] == basis and view["basis_lawful"] is True
    assert view["basis_label"].startswith("Call-off under")


async def test_imported_bases_split_off_contract_spend_into_lawful_and_non_compliant(
    placements: Placements, tokens: dict[Role, str]
) -> None:
    tribunal = item(
        child_ref="KCC-EHC-IMP-0101",
        basis="tribunal_order",
        basis_reference="EH886/25/00045 2025-06-30",
    )
    spot = item(child_ref="KCC-EHC-IMP-0102")  # no basis: a spot with none recorded
    made = await _post(placements, tokens[Role.COMMISSIONER], batch(tribunal, spot))
    assert made.status_code == 201, made.text
    lawful_id, spot_id = made.json()["placement_ids"]
    async with placements.runtime.db.session() as session:
        lawful_row = await session.get(PlacementRow, lawful_id)
        spot_row = await session.get(PlacementRow, spot_id)
    assert lawful_row is not None and spot_row is not None
    assert (lawful_row.basis, lawful_row.basis_reference) == (
        "tribunal_order",
        "EH886/25/00045 2025-06-30",
    )
    assert spot_row.basis == "off_contract_spot"
    assert await placements.count(SpendLedgerRow, SpendLedgerRow.basis == "tribunal_order") > 0
    spends = [
        json.loads(m.payload)["data"] for m in await placements.events("placement.spend.committed")
    ]
    assert {s["basis"] for s in spends} == {"tribunal_order", "off_contract_spot"}

    await placements.active_placement()  # and one on contract
    async with client_for(placements.runtime, tokens[Role.COMMISSIONER]) as client:
        summary = (await client.get("/spend", params={"financial_year": _financial_year()})).json()
        view = (await client.get(f"/placements/{spot_id}")).json()
    assert view["basis_lawful"] is False and "no lawful basis" in view["basis_label"]
    lawful, non_compliant = summary["off_contract_lawful"], summary["off_contract_non_compliant"]
    assert float(lawful) > 0 and float(non_compliant) > 0 and float(summary["on_contract"]) > 0
    assert float(lawful) + float(non_compliant) == pytest.approx(float(summary["off_contract"]))
    assert summary["by_basis"]["tribunal_order"]["amount"] == lawful
    assert summary["by_basis"]["off_contract_spot"]["lawful"] is False
    assert summary["by_basis"]["dps_call_off"]["on_contract"] is True


BAD_BASES = [
    ({"basis": "user_choice"}, "placements[1].basis_reference"),  # no reference
    ({"basis": "urgent", "basis_reference": "Amy Smith"}, "placements[1].basis_reference"),
    ({"basis": "dps_call_off"}, "placements[1].basis"),  # a spot is not a call-off
    (
        {
            "basis": "below_threshold",
            "basis_reference": "CDN-2025-0031",
            "weekly_core_fee": "9000.00",
            "weeks_per_year": 52,
            "end_date": None,
        },
        "placements[1].basis",
    ),
]


@pytest.mark.parametrize(("bad", "field"), BAD_BASES)
async def test_a_basis_without_its_justification_is_422_naming_the_field(
    placements: Placements, tokens: dict[Role, str], bad: dict[str, Any], field: str
) -> None:
    response = await _post(
        placements, tokens[Role.COMMISSIONER], batch(item(), item(child_ref="KCC-EHC-2", **bad))
    )
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["detail"]}
    assert await placements.count(PlacementRow) == 0


async def test_an_unknown_basis_is_422(placements: Placements, tokens: dict[Role, str]) -> None:
    response = await _post(placements, tokens[Role.COMMISSIONER], batch(item(basis="because")))
    assert response.status_code == 422
    assert "placements.0.basis" in [e["field"] for e in response.json()["detail"]]


def test_a_csv_row_carries_its_basis_and_reference_to_the_import() -> None:
    from dps import council_import

    row = {
        "child_ref": "KCC-EHC-9",
        "provider_id": "p-1",
        "source": "spot",
        "basis": "user_choice",
        "basis_reference": "DEC-2026-0042",
    }
    made = council_import.placement_item(row, {})
    assert (made["basis"], made["basis_reference"]) == ("user_choice", "DEC-2026-0042")
    assert "basis" not in council_import.placement_item({**row, "basis": ""}, {})


async def test_a_provider_sees_the_basis_but_not_the_councils_case_reference(
    placements: Placements, tokens: dict[Role, str]
) -> None:
    order = item(basis="tribunal_order", basis_reference="EH886/25/00046")
    made = await _post(placements, tokens[Role.COMMISSIONER], batch(order))
    assert made.status_code == 201, made.text
    (placement_id,) = made.json()["placement_ids"]
    provider = issue_token(TEST_SECRET, Role.PROVIDER, provider_id="p-1")
    async with client_for(placements.runtime, provider) as client:
        view = (await client.get(f"/placements/{placement_id}")).json()
        listed = (await client.get("/placements")).json()["items"]
    assert view["basis"] == "tribunal_order" and "basis_reference" not in view
    assert [i.get("basis_reference") for i in listed] == [None]
    async with client_for(placements.runtime, tokens[Role.COMMISSIONER]) as client:
        view = (await client.get(f"/placements/{placement_id}")).json()
    assert view["basis_reference"] == "EH886/25/00046"
