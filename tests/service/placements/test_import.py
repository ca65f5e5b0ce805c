"""POST /placements/import: existing (mostly off-contract) placements recorded through the
same rules, history, spend ledger and events; all or nothing; idempotent by import key."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.placements import domain
from services.placements.models import (
    FeeChangeRow,
    PlacementRow,
    ReviewRow,
    SpendLedgerRow,
    StatusChangeRow,
)
from shared.contracts.common import Role
from shared.infra_models import AuditEntry
from tests.fixtures import today
from tests.harness import client_for
from tests.service.placements.conftest import Placements


def item(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "child_ref": "KCC-EHC-IMP-0001",
        "provider_id": "p-1",
        "primary_need": "ASD",
        "attendance": "day",
        "start_date": str(date(2018, 9, 3)),
        "end_date": None,
        "weekly_core_fee": "1500.00",
        "weeks_per_year": 38,
        "notice_period_weeks": 12,
        "source": "spot",
        "next_review_due": str(today() - timedelta(days=20)),
    }
    body.update(overrides)
    return body


def batch(*items: dict[str, Any], key: str = "legacy-2025-01") -> dict[str, Any]:
    return {"import_key": key, "placements": list(items)}


async def _post(p: Placements, token: str | None, body: Any) -> Any:
    async with client_for(p.runtime, token) as client:
        return await client.post("/placements/import", json=body)


async def test_needs_a_token(placements: Placements) -> None:
    assert (await _post(placements, None, batch(item()))).status_code == 401
    assert (await _post(placements, "not-a-token", batch(item()))).status_code == 401


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.MONITORING_OFFICER, Role.COUNCIL_SYSTEM])
async def test_only_commissioners_and_admins_import(
    placements: Placements, tokens: dict[Role, str], role: Role
) -> None:
    assert (await _post(placements, tokens[role], batch(item()))).status_code == 403


async def test_imports_open_and_ended_placements_with_history_spend_and_events(
    placements: Placements, tokens: dict[Role, str]
) -> None:
    ended = item(
        child_ref="KCC-EHC-IMP-0002",
        start_date="2017-09-04",
        end_date="2019-07-19",
        next_review_due=None,
        attendance="residential_52",
        weeks_per_year=52,
        weekly_core_fee="4200.00",
    )
    response = await _post(placements, tokens[Role.COMMISSIONER], batch(item(), ended))
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["imported"] == 2 and result["replayed"] is False
    assert result["by_status"] == {"active": 1, "ended": 1}
    open_id, ended_id = result["placement_ids"]

    async with client_for(placements.runtime, tokens[Role.COMMISSIONER]) as client:
        detail = (await client.get(f"/placements/{open_id}")).json()
        assert detail["status"] == "active" and detail["source"] == "spot"
        assert detail["term_end"] >= str(today())
        assert [r["due_on"] for r in detail["reviews"]] == [item()["next_review_due"]]
        overdue = (
            await client.get("/placements", params={"review_due_before": str(today())})
        ).json()
        assert [p["placement_id"] for p in overdue["items"]] == [open_id]
        gone = (await client.get(f"/placements/{ended_id}")).json()
        assert gone["status"] == "ended" and gone["end_date"] == "2019-07-19"
        assert gone["reviews"] == []
        spend = (await client.get("/spend", params={"financial_year": 2018})).json()

    # 2018/19: the open day placement's 38 weeks and the residential one's 52 weeks
    expected = sum(
        domain.committed_spend_by_financial_year(
            domain.create_placement(
                domain.Award(
                    child_ref="c",
                    provider_id="p",
                    source=domain.PlacementSource.SPOT,
                    primary_need=domain.NeedType.ASD,
                    attendance=domain.Attendance.DAY,
                    awarded_on=start,
                    start_date=start,
                    term_end=end,
                    weekly_core_fee=Decimal(fee),
                    weeks_per_year=weeks,
                    notice_period_weeks=12,
                    next_review_due=end,
                ),
                "x",
                "t",
                datetime.now(UTC),
            )
        ).get(2018, Decimal(0))
        for start, end, fee, weeks in [
            (date(2018, 9, 3), date(2021, 9, 2), "1500.00", 38),
            (date(2017, 9, 4), date(2019, 7, 19), "4200.00", 52),
        ]
    )
    assert Decimal(spend["total"]) == expected
    assert Decimal(spend["off_contract"]) == expected and Decimal(spend["on_contract"]) == 0

    assert await placements.count(FeeChangeRow, FeeChangeRow.placement_id == ended_id) == 1
    assert await placements.count(StatusChangeRow, StatusChangeRow.placement_id == ended_id) == 4
    assert await placements.count(SpendLedgerRow, SpendLedgerRow.placement_id == ended_id) == 3
    assert await placements.count(AuditEntry, AuditEntry.action == "placement.imported") == 2
    created = await placements.events("placement.contract.created")
    assert {e.key for e in created} == {open_id, ended_id}
    assert len(await placements.events("placement.contract.ended")) == 1
    assert len(await placements.events("placement.spend.committed")) >= 3 + 4


async def test_same_import_key_is_idempotent(
    placements: Placements, tokens: dict[Role, str]
) -> None:
    first = await _post(placements, tokens[Role.COMMISSIONER], batch(item()))
    assert first.status_code == 201
    again = await _post(placements, tokens[Role.COMMISSIONER], batch(item()))
    assert again.status_code == 200, again.text
    assert again.json()["replayed"] is True
    assert again.json()["placement_ids"] == first.json()["placement_ids"]
    assert await placements.count(PlacementRow) == 1
    assert len(await placements.events("placement.contract.created")) == 1
    bigger = await _post(placements, tokens[Role.COMMISSIONER], batch(item(), item()))
    assert bigger.status_code == 409
    assert bigger.json()["detail"][0]["field"] == "import_key"
    assert await placements.count(PlacementRow) == 1


BAD_ITEMS = [
    ({"weekly_core_fee": "-5"}, "placements[1].weekly_core_fee"),
    ({"weeks_per_year": 40}, "placements[1].weeks_per_year"),
    ({"attendance": "residential_52", "weeks_per_year": 38}, "placements[1].weeks_per_year"),
    ({"notice_period_weeks": 99}, "placements[1].notice_period_weeks"),
    ({"end_date": "2018-01-01"}, "placements[1].term_end"),  # before the start
    ({"next_review_due": None}, "placements[1].next_review_due"),
    ({"source": "dps_award"}, "placements[1].scheme_ref"),
    ({"source": "block_contract"}, "placements[1].block_contract_id"),
    ({"end_date": "2019-07-19", "term_end": "2020-07-19"}, "placements[1].term_end"),
]


@pytest.mark.parametrize(("bad", "field"), BAD_ITEMS)
async def test_a_bad_item_names_index_and_field_and_nothing_is_written(
    placements: Placements, tokens: dict[Role, str], bad: dict[str, Any], field: str
) -> None:
    response = await _post(placements, tokens[Role.COMMISSIONER], batch(item(), item(**bad)))
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["detail"]}
    assert await placements.count(PlacementRow) == 0
    assert await placements.count(ReviewRow) == 0
    assert await placements.count(SpendLedgerRow) == 0
    assert await placements.events("placement.contract.created") == []


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (batch(item(primary_need="XYZ")), "placements.0.primary_need"),
        (batch(item(start_date="not-a-date")), "placements.0.start_date"),
        ({"import_key": "k", "placements": []}, "placements"),
        ({"placements": [item()]}, "import_key"),
        (batch(item(), key="has spaces"), "import_key"),
    ],
)
async def test_malformed_bodies_are_422(
    placements: Placements, tokens: dict[Role, str], body: Any, where: str
) -> None:
    response = await _post(placements, tokens[Role.COMMISSIONER], body)
    assert response.status_code == 422, response.text
    assert where in [e["field"] for e in response.json()["detail"]], response.text
    assert await placements.count(PlacementRow) == 0
