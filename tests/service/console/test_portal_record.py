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
from tests.service.console.test_calloffs import form_of
from tests.service.console.test_console import console_settings
from tests.service.console.test_portal import signed_in
from tests.service.placements.conftest import Placements, placements  # noqa: F401
from tests.service.provider_registry.conftest import (  # noqa: F401  (the fixtures)
    broker_and_registry,
    registry,
)

SOON = date.today() + timedelta(days=200)
READ_ON_IT = date(2032, 1, 31)  # later than the fixture's documents (2030), so it shows


def console_over(
    register: ServiceRuntime, places: Placements, tmp_path: Path, **overrides: object
) -> httpx.AsyncClient:
    settings = console_settings(
        tmp_path,
        provider_registry_url="http://provider_registry",
        placements_url="http://placements",
        **overrides,
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


PDF = b"%PDF-1.7\n%%EOF\n"


def pdf(name: str = "policy.pdf", content: bytes = PDF) -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, content, "application/pdf")}


async def test_a_provider_proposes_a_document_with_its_file_for_the_council_to_verify(
    registry: ServiceRuntime,  # noqa: F811
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    mine = await registered(registry, 700001)
    async with console_over(registry, placements, tmp_path) as client:
        csrf = await signed_in(client, f"provider:{mine}")
        page = await client.get("/portal/documents")
        assert page.status_code == 200 and "Send to the council" in page.text
        assert 'enctype="multipart/form-data"' in page.text and 'type="file"' in page.text
        assert "10 MB or smaller" in page.text and "PDF, PNG, JPEG" in page.text
        past = await client.post(
            "/portal/documents",
            data={
                "csrf_token": csrf,
                "kind": "insurance",
                **date_fields("expires", date(2020, 1, 1)),
            },
            files=pdf(),
        )
        assert past.status_code == 400 and 'href="#expires-day"' in past.text
        wrong = await client.post(
            "/portal/documents",
            data={"csrf_token": csrf, "kind": "passport", "expires-day": "x"},
            files=pdf(),
        )
        assert wrong.status_code == 400 and 'href="#kind"' in wrong.text
        no_file = await client.post(
            "/portal/documents",
            data={"csrf_token": csrf, "kind": "insurance", **date_fields("expires", SOON)},
        )
        assert no_file.status_code == 400 and 'href="#file"' in no_file.text
        for kind in ("insurance", "financial_check"):
            sent = await client.post(
                "/portal/documents",
                data={
                    "csrf_token": csrf,
                    "kind": kind,
                    "reference": "POL-1",
                    **date_fields("expires", SOON),
                },
                files=pdf(f"{kind}.pdf"),
            )
            assert sent.headers["location"] == "/portal/documents?proposed=1", sent.text
        shown = await client.get("/portal/documents?proposed=1")
        assert "sent to the council to verify" in shown.text and "POL-1" in shown.text
    held = await record(registry, mine)
    pending = held["documents_awaiting_verification"]
    assert sorted(d["kind"] for d in pending) == ["financial_check", "insurance"]  # type: ignore[union-attr]
    # The verified documents are untouched: a proposal counts for nothing until verified.
    assert all(d["expires_on"] == "2030-01-01" for d in held["documents"])  # type: ignore[union-attr]
    async with client_for(registry, issue_token(TEST_SECRET, Role.COMMISSIONER)) as c:
        kept = await c.get(f"/providers/{mine}/documents/insurance/file")
    assert kept.content == PDF and kept.headers["content-type"] == "application/pdf"


async def test_a_too_large_or_wrong_type_file_is_refused_on_the_file_field(
    registry: ServiceRuntime,  # noqa: F811
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    mine = await registered(registry, 700002)
    form = {"kind": "insurance", "reference": "", **date_fields("expires", SOON)}
    async with console_over(registry, placements, tmp_path, document_max_bytes=4096) as client:
        csrf = await signed_in(client, f"provider:{mine}")
        large = await client.post(
            "/portal/documents",
            data={"csrf_token": csrf, **form},
            files=pdf(content=PDF + b"0" * 200_000),
        )
        disguised = await client.post(
            "/portal/documents",
            data={"csrf_token": csrf, **form},
            files=pdf("policy.pdf", b"MZ\x90\x00" + b"\x00" * 100),
        )
        empty = await client.post(
            "/portal/documents", data={"csrf_token": csrf, **form}, files=pdf(content=b"")
        )
    assert large.status_code == 413
    assert 'href="#file"' in large.text and "must be smaller than 4 KB" in large.text
    assert disguised.status_code == 415 and 'href="#file"' in disguised.text
    assert "must be a PDF, PNG, JPEG" in disguised.text
    assert empty.status_code == 400 and "The selected file is empty" in empty.text
    assert (await record(registry, mine))["documents_awaiting_verification"] == []


async def test_the_register_refuses_a_file_over_its_own_limit_on_the_file_field(
    registry: ServiceRuntime,  # noqa: F811
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The register may be set lower than the console: its 413 lands on the file too."""
    mine = await registered(registry, 700003)
    registry.settings.document_max_bytes = 2048
    form = {"kind": "insurance", **date_fields("expires", SOON)}
    async with console_over(registry, placements, tmp_path) as client:
        csrf = await signed_in(client, f"provider:{mine}")
        large = await client.post(
            "/portal/documents",
            data={"csrf_token": csrf, **form},
            files=pdf(content=PDF + b"0" * 8000),
        )
    assert large.status_code == 413 and 'href="#file"' in large.text


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
        for field in ("#percent", "#from-day", "#reason"):
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


async def test_an_officer_downloads_the_file_and_verifies_the_document(
    registry: ServiceRuntime,  # noqa: F811
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    mine = await registered(registry, 700004)
    async with console_over(registry, placements, tmp_path) as client:
        csrf = await signed_in(client, f"provider:{mine}")
        sent = await client.post(
            "/portal/documents",
            data={"csrf_token": csrf, "kind": "insurance", **date_fields("expires", SOON)},
            files=pdf('<b>"cover".pdf'),
        )
        assert sent.status_code == 303, sent.text
        theirs = await client.get(f"/providers/{mine}/documents/insurance/file")
        assert theirs.status_code == 403  # the officers' page, not the provider's
        await signed_in(client, "monitoring_officer")
        shown = await client.get(f"/providers/{mine}")
        link = f"/providers/{mine}/documents/insurance/file"
        assert f'href="{link}"' in shown.text and "&lt;b&gt;" not in shown.text
        assert "<b>" not in shown.text.split("Waiting for verification")[1]
        got = await client.get(link)
        assert got.status_code == 200 and got.content == PDF
        assert got.headers["content-type"] == "application/pdf"
        assert got.headers["content-disposition"].startswith("attachment;")
        assert got.headers["x-content-type-options"] == "nosniff"
        action = f"/providers/{mine}/documents/verification"
        csrf = form_of(shown.text, action)
        bad = await client.post(action, data={**csrf, "kind": "insurance"})
        assert bad.status_code == 400 and 'href="#expires-day"' in bad.text
        verified = await client.post(
            action, data={**csrf, "kind": "insurance", **date_fields("expires", READ_ON_IT)}
        )
        assert verified.status_code == 303, verified.text
        after = await client.get(verified.headers["location"])
        assert "The document is verified" in after.text
    held = await record(registry, mine)
    assert held["documents_awaiting_verification"] == []
    insurance = [d for d in held["documents"] if d["kind"] == "insurance"]  # type: ignore[union-attr]
    assert insurance == [{"kind": "insurance", "expires_on": READ_ON_IT.isoformat()}]


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
