"""The provider portal's own record and contracts, against the real provider register and
placements services in-process: a document proposed for the council to verify, a
placement's fee history and reviews, an uplift request, and another provider's ids."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import httpx

from services.console.app import build_app
from services.placements.models import UpliftRow
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.runtime import ServiceRuntime
from tests.conftest import TEST_SECRET
from tests.fixtures import provider_body
from tests.harness import client_for
from tests.service.console.test_console import console_settings
from tests.service.console.test_portal import signed_in
from tests.service.placements.conftest import Placements, placements  # noqa: F401
from tests.service.provider_registry.conftest import (  # noqa: F401  (the fixtures)
    broker_and_registry,
    registry,
)

SOON = date.today() + timedelta(days=200)


def console_over(register: ServiceRuntime, places: Placements, tmp_path: Path) -> httpx.AsyncClient:
    settings = console_settings(
        tmp_path,
        provider_registry_url="http://provider_registry",
        placements_url="http://placements",
    )
    transports: dict[str, httpx.AsyncBaseTransport] = {
        "provider_registry": httpx.ASGITransport(app=register.build_app()),
        "placements": httpx.ASGITransport(app=places.runtime.build_app()),
    }
    app = build_app(settings, transports)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


async def registered(register: ServiceRuntime, urn: int) -> str:
    token = issue_token(TEST_SECRET, Role.COMMISSIONER)
    async with client_for(register, token) as c:
        r = await c.post("/providers", json=provider_body(urn=urn, name=f"School {urn}"))
    assert r.status_code == 201, r.text
    return str(r.json()["provider_id"])


async def record(register: ServiceRuntime, provider_id: str) -> dict[str, object]:
    async with client_for(register, issue_token(TEST_SECRET, Role.COMMISSIONER)) as c:
        found: dict[str, object] = (await c.get(f"/providers/{provider_id}")).json()
    return found


def date_fields(prefix: str, day: date) -> dict[str, str]:
    return {
        f"{prefix}-day": str(day.day),
        f"{prefix}-month": str(day.month),
        f"{prefix}-year": str(day.year),
    }


async def test_a_provider_proposes_a_document_for_the_council_to_verify(
    registry: ServiceRuntime,  # noqa: F811
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    mine = await registered(registry, 700001)
    async with console_over(registry, placements, tmp_path) as client:
        csrf = await signed_in(client, f"provider:{mine}")
        page = await client.get("/portal/documents")
        assert page.status_code == 200 and "Send to the council" in page.text
        past = await client.post(
            "/portal/documents",
            data={
                "csrf_token": csrf,
                "kind": "insurance",
                **date_fields("expires", date(2020, 1, 1)),
            },
        )
        assert past.status_code == 400 and 'href="#expires"' in past.text
        wrong = await client.post(
            "/portal/documents", data={"csrf_token": csrf, "kind": "passport", "expires-day": "x"}
        )
        assert wrong.status_code == 400 and 'href="#kind"' in wrong.text
        for kind in ("insurance", "financial_check"):
            sent = await client.post(
                "/portal/documents",
                data={
                    "csrf_token": csrf,
                    "kind": kind,
                    "reference": "POL-1",
                    **date_fields("expires", SOON),
                },
            )
            assert sent.headers["location"] == "/portal/documents?proposed=1"
        shown = await client.get("/portal/documents?proposed=1")
        assert "sent to the council to verify" in shown.text and "POL-1" in shown.text
    held = await record(registry, mine)
    pending = held["documents_awaiting_verification"]
    assert sorted(d["kind"] for d in pending) == ["financial_check", "insurance"]  # type: ignore[union-attr]
    # The verified documents are untouched: a proposal counts for nothing until verified.
    assert all(d["expires_on"] == "2030-01-01" for d in held["documents"])  # type: ignore[union-attr]


async def test_a_provider_sees_its_placement_and_asks_for_an_uplift(
    registry: ServiceRuntime,  # noqa: F811
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    mine = await registered(registry, 700002)
    theirs = await registered(registry, 700003)
    placed = await placements.active_placement("KCC-EHC-000201", provider_id=mine)
    other = await placements.active_placement("KCC-EHC-000202", provider_id=theirs)
    async with console_over(registry, placements, tmp_path) as client:
        csrf = await signed_in(client, f"provider:{mine}")
        home = await client.get("/portal")
        assert f'href="/portal/placements/{placed.placement_id}"' in home.text
        assert other.placement_id not in home.text and other.child_ref not in home.text
        page = await client.get(f"/portal/placements/{placed.placement_id}")
        assert (
            page.status_code == 200
            and "Fee history" in page.text
            and "Send uplift request" in page.text
        )
        empty = await client.post(
            f"/portal/placements/{placed.placement_id}/uplift", data={"csrf_token": csrf}
        )
        assert empty.status_code == 400
        for field in ("#percent", "#from", "#reason"):
            assert f'href="{field}"' in empty.text
        sent = await client.post(
            f"/portal/placements/{placed.placement_id}/uplift",
            data={
                "csrf_token": csrf,
                "percent": "2.5",
                "reason": "Staff costs rose 4%",
                **date_fields("from", date.today() + timedelta(days=30)),
            },
        )
        assert sent.status_code == 303, sent.text
        after = await client.get(sent.headers["location"])
        assert "Your uplift request was sent" in after.text and "Awaiting decision" in after.text

        # Another provider's placement and record: 404 / nothing shown, nothing written.
        assert (await client.get(f"/portal/placements/{other.placement_id}")).status_code == 404
        refused = await client.post(
            f"/portal/placements/{other.placement_id}/uplift",
            data={
                "csrf_token": csrf,
                "percent": "2.5",
                "reason": "x",
                **date_fields("from", date.today() + timedelta(days=30)),
            },
        )
        assert refused.status_code == 404 and other.child_ref not in refused.text
    assert await placements.count(UpliftRow) == 1
    assert await placements.count(UpliftRow, UpliftRow.placement_id == other.placement_id) == 0


async def test_a_provider_sees_its_inspections_and_the_councils_decisions_only(
    registry: ServiceRuntime,  # noqa: F811
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    mine = await registered(registry, 700011)
    theirs = await registered(registry, 700012)
    async with client_for(registry, issue_token(TEST_SECRET, Role.COMMISSIONER)) as c:
        for provider_id, overall, reason in (
            (mine, "good", "Admitted after due diligence"),
            (theirs, "inadequate", "Admitted: Birch reason"),
        ):
            made = await c.post(
                f"/providers/{provider_id}/inspections",
                json={"inspected_on": "2025-11-04", "overall": overall},
            )
            assert made.status_code == 201, made.text
            moved = await c.post(
                f"/providers/{provider_id}/status", json={"status": "active", "reason": reason}
            )
            assert moved.status_code == 200, moved.text
    async with console_over(registry, placements, tmp_path) as client:
        await signed_in(client, f"provider:{mine}")
        home = (await client.get("/portal")).text
    assert "Inspections" in home and "4 November 2025" in home and "Good" in home
    assert "Registered to active" in home and "Admitted after due diligence" in home
    assert "Inadequate" not in home and "Birch reason" not in home  # another provider's
    # Monitoring is not reachable here: only the KPI returns section says so.
    assert "Monitoring" in home and "/portal/kpi-returns" not in home
