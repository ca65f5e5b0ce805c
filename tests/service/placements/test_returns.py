"""GET /returns/sen2 and GET /returns/transparency-contracts.csv over a real database."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from sqlmodel import col, select

from services.placements.models import ProviderNameRow
from shared.auth import issue_token
from shared.contracts import providers_v1
from shared.contracts.common import Role
from shared.envelope import new_event
from shared.infra_models import AuditEntry
from shared.pseudonym import pseudonym
from tests.conftest import RUN_TTL, TEST_SECRET
from tests.harness import client_for, eventually
from tests.service.placements.conftest import Placements

CHILD, OTHER = "KCC-EHC-000810", "KCC-EHC-000811"
COMMISSIONER = issue_token(TEST_SECRET, Role.COMMISSIONER, subject="commissioner-sam", ttl=RUN_TTL)
CASE_SYSTEM = issue_token(TEST_SECRET, Role.COUNCIL_SYSTEM, subject="case-system", ttl=RUN_TTL)
OFFICER = issue_token(TEST_SECRET, Role.MONITORING_OFFICER, subject="officer-jo", ttl=RUN_TTL)
PROVIDER = issue_token(TEST_SECRET, Role.PROVIDER, subject="p", provider_id="p-1", ttl=RUN_TTL)


async def _register(placements: Placements, provider_id: str, urn: int) -> None:
    snapshot = {
        "provider_id": provider_id,
        "urn": urn,
        "name": "Oakfield School",
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
    payload = providers_v1.ProviderRegistered.model_validate(
        {"provider": snapshot, "registered_by": "tests"}
    )
    env = new_event(
        providers_v1.PROVIDER_REGISTERED,
        source="tests",
        subject=provider_id,
        data=payload,
        topic=providers_v1.TOPIC,
    )
    await placements.publish(providers_v1.TOPIC, env)

    async def learnt() -> bool:
        async with placements.runtime.db.session() as session:
            row = await session.get(ProviderNameRow, provider_id)
            return row is not None and row.urn == urn

    await eventually(learnt)


async def test_sen2_extract_keyed_by_child_ref_with_urn_validated_and_audited(
    placements: Placements,
) -> None:
    await _register(placements, "p-1", 123456)
    placement = await placements.active_placement(CHILD)
    year = datetime.now(UTC).year + 1  # the next January census covers this placement
    async with client_for(placements.runtime, COMMISSIONER) as client:
        got = await client.get("/returns/sen2", params={"year": year})
        xml = await client.get("/returns/sen2", params={"year": year, "format": "xml"})
        before = await client.get("/returns/sen2", params={"year": year - 2})
        bad = await client.get("/returns/sen2", params={"year": year, "la_code": "88"})
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["valid"] is True and body["issues"] == []
    assert "pseudonymous" in body["keyed_by"]
    [detail] = body["placements"]
    assert detail["child_ref"] == CHILD and detail["URN"] == "123456"
    assert detail["EntryDate"] == placement.start_date.isoformat()
    assert (detail["PlacementRank"], detail["AttendancePattern"]) == (1, "FT")
    assert detail["LeavingDate"] is None

    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(xml.content)
    assert root.findtext("Persons/Person/ChildRef") == CHILD
    assert root.findtext("Persons/Person/ActivePlans/PlacementDetail/URN") == "123456"

    # A census before the placement began has nothing to report.
    assert before.json()["placements"] == []
    assert bad.status_code == 422 and "la_code" in bad.text

    async with placements.runtime.db.session() as session:
        reads = (
            await session.exec(
                select(AuditEntry).where(
                    col(AuditEntry.action) == "placement.read",
                    AuditEntry.entity_id == placement.placement_id,
                )
            )
        ).all()
    key = placements.runtime.settings.pseudonym_key()
    assert len(reads) == 2  # the JSON and the XML read; the empty year read nobody's
    assert {r.child_ref for r in reads} == {pseudonym(CHILD, key)}
    assert reads[0].details == {"purpose": f"SEN2 {year}"}


async def test_a_placement_whose_provider_urn_is_unknown_is_reported_as_broken(
    placements: Placements,
) -> None:
    await placements.active_placement(OTHER, provider_id="p-unknown")
    year = datetime.now(UTC).year + 1
    async with client_for(placements.runtime, CASE_SYSTEM) as client:
        got = await client.get("/returns/sen2", params={"year": year})
    body = got.json()
    assert got.status_code == 200 and body["valid"] is False
    assert [(i["field"], i["rule"]) for i in body["issues"]] == [("urn", "establishment_required")]
    assert "SEN2" in body["issues"][0]["source"]


async def test_only_the_council_roles_that_need_them_get_the_returns(
    placements: Placements,
) -> None:
    async with client_for(placements.runtime, OFFICER) as officer:
        sen2 = await officer.get("/returns/sen2", params={"year": 2027})
        lgtc = await officer.get(
            "/returns/transparency-contracts.csv", params={"quarter": "2026-Q3"}
        )
    async with client_for(placements.runtime, PROVIDER) as provider:
        refused = await provider.get(
            "/returns/transparency-contracts.csv", params={"quarter": "2026-Q3"}
        )
    assert sen2.status_code == 403  # children's placements: not for monitoring
    assert lgtc.status_code == 200  # the published list names no child
    assert refused.status_code == 403


async def test_transparency_csv_lists_the_placement_contract_without_the_child(
    placements: Placements,
) -> None:
    await _register(placements, "p-1", 123456)
    placement = await placements.active_placement(CHILD)
    today = datetime.now(UTC).date()
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    async with client_for(placements.runtime, COMMISSIONER) as client:
        got = await client.get("/returns/transparency-contracts.csv", params={"quarter": quarter})
        bad = await client.get("/returns/transparency-contracts.csv", params={"quarter": "2026-3"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.text)))
    [row] = [r for r in rows if r["Reference number"] == placement.competition_ref]
    assert row["Title of agreement"] == "Independent special school placement (ASD, day)"
    assert row["Supplier name"] == "Oakfield School"
    assert row["Start date"] == placement.start_date.isoformat()
    # 3 years x 38 weeks at £1,500 + £200 support: well over £5,000.
    assert float(row["Value (sum to be paid over the length of the contract)"]) > 5000
    assert CHILD not in got.text and placement.placement_id not in got.text
    assert bad.status_code == 422 and "quarter" in bad.text
