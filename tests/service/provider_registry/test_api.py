"""Every provider_registry route on SQLite (and PostgreSQL when configured): roles, the
rules of bad input, events and audit written with each change, search and pagination."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from sqlmodel import select

from services.provider_registry.models import InspectionRow, ProviderRow, StatusChangeRow
from shared.contracts.common import Role
from shared.envelope import decode_envelope
from shared.infra_models import AuditEntry, OutboxMessage
from shared.runtime import ServiceRuntime
from tests.fixtures import provider_body
from tests.harness import client_for
from tests.service.provider_registry.conftest import (
    count,
    fields_of,
    outbox_types,
    provider_token,
    register,
)

# --- registration and reading -------------------------------------------------------------


async def test_register_then_read_by_every_council_role_and_providers(
    registry, commissioner, tokens
) -> None:
    provider_id = await register(commissioner)
    # admin operates the platform, the auditor reads the trail and a supplier's person
    # not yet verified only registers (policy.py)
    for role in set(Role) - {Role.ADMIN, Role.AUDITOR, Role.SUPPLIER}:
        async with client_for(registry, tokens[role]) as client:
            response = await client.get(f"/providers/{provider_id}")
        assert response.status_code == 200, (role, response.text)
        assert response.json()["status"] == "registered"
    assert await outbox_types(registry) == ["provider.registered"]
    assert await count(registry, AuditEntry) == 1


async def test_reading_needs_a_token_and_unknown_is_404(registry, commissioner) -> None:
    async with client_for(registry) as anonymous:
        assert (await anonymous.get("/providers/x")).status_code == 401
        assert (await anonymous.get("/providers")).status_code == 401
    assert (await commissioner.get("/providers/nope")).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"urn": 12345}, "urn"),
        ({"need_types": ["ASD", "XYZ"]}, "need_types.1"),
        ({"age_low": 16, "age_high": 7}, "age_high"),
        ({"capacity": 10, "places_in_use": 11}, "places_in_use"),
        ({"postcode": "ZZ 99 nope"}, "postcode"),
        ({"attendance": []}, "attendance"),
        ({"name": "  "}, "name"),
    ],
)
async def test_bad_provider_is_422_naming_field_and_nothing_written(
    registry, commissioner, overrides, field
) -> None:
    response = await commissioner.post("/providers", json=provider_body(**overrides))
    assert response.status_code == 422, response.text
    assert field in fields_of(response)
    assert all(error["rule"] for error in response.json()["detail"])
    assert await count(registry, ProviderRow) == 0
    assert await count(registry, OutboxMessage) == 0


async def test_duplicate_urn_is_409_and_nothing_written(registry, commissioner) -> None:
    await register(commissioner, urn=222222)
    response = await commissioner.post("/providers", json=provider_body(urn=222222))
    assert response.status_code == 409
    assert fields_of(response) == {"urn"}
    assert await count(registry, ProviderRow) == 1
    assert await outbox_types(registry) == ["provider.registered"]


async def test_only_the_commissioner_registers(registry, tokens) -> None:
    for role, expected in [
        (Role.COMMISSIONER, 201),
        (Role.ADMIN, 403),  # admin operates the platform, never decides what is on it
        (Role.PROVIDER, 403),
        (Role.MONITORING_OFFICER, 403),
        (Role.COUNCIL_SYSTEM, 403),
    ]:
        async with client_for(registry, tokens[role]) as client:
            response = await client.post("/providers", json=provider_body(urn=300000 + len(role)))
        assert response.status_code == expected, role


# --- PATCH ------------------------------------------------------------------------------


async def test_commissioner_patches_any_field_and_event_names_them(registry, commissioner) -> None:
    provider_id = await register(commissioner)
    response = await commissioner.patch(
        f"/providers/{provider_id}", json={"name": "Oakfield House", "need_types": ["SEMH"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Oakfield House"
    assert response.json()["need_types"] == ["SEMH"]
    async with registry.db.session() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.seq))).all()
        row = await session.get(ProviderRow, provider_id)
    assert row is not None and row.need_codes == ",SEMH," and row.version == 2
    event = decode_envelope(rows[-1].payload)
    assert event.type == "provider.updated"
    assert sorted(event.data["changed_fields"]) == ["name", "need_types"]


async def test_patch_that_changes_nothing_emits_nothing(registry, commissioner) -> None:
    provider_id = await register(commissioner)
    response = await commissioner.patch(f"/providers/{provider_id}", json={"capacity": 60})
    assert response.status_code == 200
    assert await outbox_types(registry) == ["provider.registered"]


async def test_bad_patch_is_422_and_nothing_written(registry, commissioner) -> None:
    provider_id = await register(commissioner)
    for body, field in [
        ({"capacity": 10}, "places_in_use"),
        ({"age_low": 18}, "age_high"),
        ({"postcode": "nowhere"}, "postcode"),
        ({"name": None}, "name"),
        ({"need_types": ["NOPE"]}, "need_types.0"),
    ]:
        response = await commissioner.patch(f"/providers/{provider_id}", json=body)
        assert response.status_code == 422, body
        assert field in fields_of(response), response.text
    assert await outbox_types(registry) == ["provider.registered"]
    assert (await commissioner.patch("/providers/nope", json={"capacity": 1})).status_code == 404


async def test_provider_patches_own_contacts_places_documents_only(registry, commissioner) -> None:
    own = await register(commissioner, urn=111111)
    other = await register(commissioner, urn=111112)
    async with client_for(registry, provider_token(own)) as client:
        allowed = await client.patch(
            f"/providers/{own}",
            json={
                "capacity": 70,
                "places_in_use": 45,
                "contacts": [{"name": "Jo Evans", "role": "admissions", "email": "jo@oak.org"}],
                "documents": [{"kind": "insurance", "expires_on": "2031-01-01"}],
            },
        )
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["capacity"] == 70
        name_change = await client.patch(f"/providers/{own}", json={"name": "Renamed"})
        assert name_change.status_code == 403
        assert "name" in name_change.json()["detail"]
        elsewhere = await client.patch(f"/providers/{other}", json={"capacity": 99})
        assert elsewhere.status_code == 403
        # Providers may not record inspections or change status either.
        inspection = {"inspected_on": "2024-01-01", "overall": "good"}
        assert (
            await client.post(f"/providers/{own}/inspections", json=inspection)
        ).status_code == 403
        status_body = {"status": "active", "reason": "x"}
        assert (await client.post(f"/providers/{own}/status", json=status_body)).status_code == 403
    async with client_for(registry) as anonymous:
        assert (await anonymous.patch(f"/providers/{own}", json={"capacity": 1})).status_code == 401
    assert await outbox_types(registry) == [
        "provider.registered",
        "provider.registered",
        "provider.updated",
    ]


async def test_monitoring_officer_may_not_patch(registry, commissioner, tokens) -> None:
    provider_id = await register(commissioner)
    async with client_for(registry, tokens[Role.MONITORING_OFFICER]) as client:
        response = await client.patch(f"/providers/{provider_id}", json={"capacity": 61})
    assert response.status_code == 403


# --- inspections ------------------------------------------------------------------------


async def test_inspections_keep_history_and_report_decline(registry, commissioner) -> None:
    provider_id = await register(commissioner)
    first = await commissioner.post(
        f"/providers/{provider_id}/inspections",
        json={"inspected_on": "2022-03-01", "overall": "good"},
    )
    assert first.status_code == 201, first.text
    assert first.json()["previous"] is None
    card = {"inclusion": "expected_standard", "achievement": "needs_attention"}
    second = await commissioner.post(
        f"/providers/{provider_id}/inspections",
        json={"inspected_on": "2025-12-01", "report_card": card},
    )
    assert second.json()["declined"] is True
    assert second.json()["previous"]["overall"] == "good"
    older = await commissioner.post(
        f"/providers/{provider_id}/inspections",
        json={"inspected_on": "2019-01-01", "standards_met": True},
    )
    assert older.json()["is_latest"] is False
    snapshot = (await commissioner.get(f"/providers/{provider_id}")).json()
    assert snapshot["latest_inspection"]["equivalent_judgement"] == "requires_improvement"
    history = (await commissioner.get(f"/providers/{provider_id}/inspections")).json()
    assert [h["inspection"]["inspected_on"] for h in history] == [
        "2025-12-01",
        "2022-03-01",
        "2019-01-01",
    ]
    assert await count(registry, InspectionRow) == 3
    assert (await outbox_types(registry)).count("provider.inspection_recorded") == 3


async def test_bad_inspections_are_422(registry, commissioner) -> None:
    provider_id = await register(commissioner)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    future = await commissioner.post(
        f"/providers/{provider_id}/inspections", json={"inspected_on": tomorrow, "overall": "good"}
    )
    assert future.status_code == 422 and fields_of(future) == {"inspected_on"}
    empty = await commissioner.post(
        f"/providers/{provider_id}/inspections", json={"inspected_on": "2024-01-01"}
    )
    assert empty.status_code == 422 and fields_of(empty) == {"inspection"}
    unknown = await commissioner.post(
        f"/providers/{provider_id}/inspections",
        json={"inspected_on": "2024-01-01", "overall": "superb"},
    )
    assert unknown.status_code == 422 and fields_of(unknown) == {"overall"}
    assert await count(registry, InspectionRow) == 0
    assert await outbox_types(registry) == ["provider.registered"]


# --- status -----------------------------------------------------------------------------


async def test_status_moves_with_who_when_why(registry, commissioner, tokens) -> None:
    provider_id = await register(commissioner)
    url = f"/providers/{provider_id}/status"
    assert (
        await commissioner.post(url, json={"status": "active", "reason": "admitted"})
    ).is_success
    async with client_for(registry, tokens[Role.COMMISSIONER]) as other:
        suspended = await other.post(url, json={"status": "suspended", "reason": "safeguarding"})
    assert suspended.status_code == 200
    assert suspended.json()["previous_status"] == "active"
    assert suspended.json()["changed_by"] == "dev-commissioner"
    illegal = await commissioner.post(url, json={"status": "registered", "reason": "undo"})
    assert illegal.status_code == 409 and fields_of(illegal) == {"status"}
    blank = await commissioner.post(url, json={"status": "active", "reason": " "})
    assert blank.status_code == 422 and fields_of(blank) == {"reason"}
    history = (await commissioner.get(f"/providers/{provider_id}/status-changes")).json()
    assert [(h["status"], h["reason"]) for h in history] == [
        ("active", "admitted"),
        ("suspended", "safeguarding"),
    ]
    assert await count(registry, StatusChangeRow) == 2
    assert (await outbox_types(registry)).count("provider.status_changed") == 2


async def test_removed_provider_cannot_be_edited(registry, commissioner) -> None:
    provider_id = await register(commissioner)
    url = f"/providers/{provider_id}/status"
    assert (await commissioner.post(url, json={"status": "removed", "reason": "closed"})).is_success
    response = await commissioner.patch(f"/providers/{provider_id}", json={"capacity": 61})
    assert response.status_code == 409


# --- search -----------------------------------------------------------------------------

PLACES = {
    "Maidstone": (51.28, 0.52),
    "Aylesford": (51.37, 0.53),
    "Canterbury": (51.28, 1.08),
    "Eastbourne": (50.77, 0.28),
    "Guildford": (51.24, -0.57),
}


async def _register_places(client: httpx.AsyncClient) -> dict[str, str]:
    ids = {}
    for index, (name, (latitude, longitude)) in enumerate(PLACES.items()):
        ids[name] = await register(
            client,
            urn=400000 + index,
            name=f"{name} School",
            latitude=latitude,
            longitude=longitude,
            need_types=["ASD", "SEMH"] if index % 2 == 0 else ["ASD"],
        )
    return ids


async def test_near_orders_by_distance_within_radius(registry, commissioner) -> None:
    await _register_places(commissioner)
    response = await commissioner.get("/providers", params={"near": "ME14 1XX", "within_km": 60})
    assert response.status_code == 200, response.text
    page = response.json()
    names = [item["provider"]["name"] for item in page["items"]]
    assert names == [
        "Maidstone School",
        "Aylesford School",
        "Canterbury School",
        "Eastbourne School",
    ]
    distances = [item["distance_km"] for item in page["items"]]
    assert distances == sorted(distances) and distances[-1] <= 60
    assert page["total"] == 4
    near_only = await commissioner.get("/providers", params={"near": "ME14"})
    assert near_only.json()["total"] == 5  # no radius: everyone located, nearest first
    assert near_only.json()["items"][-1]["provider"]["name"] == "Guildford School"


async def test_filters_combine_and_push_down(registry, commissioner) -> None:
    ids = await _register_places(commissioner)
    await commissioner.post(
        f"/providers/{ids['Canterbury']}/status", json={"status": "active", "reason": "ok"}
    )
    await commissioner.post(
        f"/providers/{ids['Maidstone']}/inspections",
        json={"inspected_on": "2024-01-01", "overall": "outstanding"},
    )
    await commissioner.post(
        f"/providers/{ids['Canterbury']}/inspections",
        json={"inspected_on": "2024-01-01", "overall": "requires_improvement"},
    )

    async def names(**params: object) -> list[str]:
        response = await commissioner.get("/providers", params=params)
        assert response.status_code == 200, response.text
        return [item["provider"]["name"] for item in response.json()["items"]]

    assert await names(need="SEMH") == ["Canterbury School", "Guildford School", "Maidstone School"]
    assert await names(need=["SEMH", "ASD"], status="active") == ["Canterbury School"]
    assert await names(min_ofsted="good") == ["Maidstone School"]
    assert await names(min_ofsted="requires_improvement") == [
        "Canterbury School",
        "Maidstone School",
    ]
    assert await names(age=17) == []
    assert await names(age=7, attendance="residential_38", need="SEMH", near="ME14 1XX") == [
        "Maidstone School",
        "Canterbury School",
        "Guildford School",
    ]
    assert await names(attendance="residential_52") == []


async def test_pagination_reports_total(registry, commissioner) -> None:
    await _register_places(commissioner)
    first = (await commissioner.get("/providers", params={"limit": 2})).json()
    second = (await commissioner.get("/providers", params={"limit": 2, "offset": 2})).json()
    last = (await commissioner.get("/providers", params={"limit": 2, "offset": 4})).json()
    assert first["total"] == second["total"] == last["total"] == 5
    names = [i["provider"]["name"] for page in (first, second, last) for i in page["items"]]
    assert names == sorted(names) and len(set(names)) == 5
    by_distance = (
        await commissioner.get("/providers", params={"near": "ME14 1XX", "limit": 2, "offset": 1})
    ).json()
    assert [i["provider"]["name"] for i in by_distance["items"]] == [
        "Aylesford School",
        "Canterbury School",
    ]
    assert by_distance["total"] == 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"within_km": 10}, "within_km"),
        ({"near": "ME14 1XX", "within_km": 0}, "within_km"),
        ({"near": "nowhere at all"}, "near"),
        ({"near": "ZE9"}, "near"),
        ({"age": 30}, "age"),
        ({"need": "XYZ"}, "query.need.0"),
        ({"limit": 0}, "query.limit"),
        ({"min_ofsted": "great"}, "query.min_ofsted"),
    ],
)
async def test_bad_search_is_422_naming_field(commissioner, params, field) -> None:
    response = await commissioner.get("/providers", params=params)
    assert response.status_code == 422, response.text
    assert field in fields_of(response)


async def test_every_change_is_audited(registry: ServiceRuntime, commissioner) -> None:
    provider_id = await register(commissioner)
    await commissioner.patch(f"/providers/{provider_id}", json={"capacity": 80})
    await commissioner.post(
        f"/providers/{provider_id}/inspections",
        json={"inspected_on": "2024-01-01", "overall": "good"},
    )
    await commissioner.post(
        f"/providers/{provider_id}/status", json={"status": "active", "reason": "admitted"}
    )
    async with registry.db.session() as session:
        actions = [a.action for a in (await session.exec(select(AuditEntry))).all()]
    assert actions == [
        "provider.registered",
        "provider.updated",
        "provider.inspection_recorded",
        "provider.status_changed",
    ]
