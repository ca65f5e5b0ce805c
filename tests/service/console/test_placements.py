"""The console's placement and spend pages against the real placements service in-process
(placements made by events on FastStream's test broker), and monitoring's budgets."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import httpx
from sqlmodel import col, select

from services.console.app import build_app
from services.placements.models import PlacementRow, UpliftRow
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.infra_models import AuditEntry
from shared.runtime import ServiceRuntime
from tests.conftest import RUN_TTL, TEST_SECRET
from tests.fixtures import today
from tests.harness import client_for
from tests.service.console.test_console import console_settings, monitoring, sign_in  # noqa: F401
from tests.service.placements.conftest import Placements, placements  # noqa: F401

PROVIDER = issue_token(TEST_SECRET, Role.PROVIDER, provider_id="p-1", ttl=RUN_TTL)
COMMISSIONER = issue_token(TEST_SECRET, Role.COMMISSIONER, ttl=RUN_TTL)


def console_over(
    service: Placements, tmp_path: Path, monitor: ServiceRuntime | None = None
) -> httpx.AsyncClient:
    overrides = {"placements_url": "http://placements"}
    transports: dict[str, httpx.AsyncBaseTransport] = {
        "placements": httpx.ASGITransport(app=service.runtime.build_app())
    }
    if monitor is None:
        overrides["monitoring_url"] = "http://127.0.0.1:1"  # monitoring is down
    else:
        transports["monitoring"] = httpx.ASGITransport(app=monitor.build_app())
    app = build_app(console_settings(tmp_path, **overrides), transports)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


async def request_uplift(service: Placements, placement_id: str, percent: str) -> str:
    async with client_for(service.runtime, PROVIDER) as provider:
        made = await provider.post(
            f"/placements/{placement_id}/uplifts",
            json={
                "requested_percent": percent,
                "effective_from": (today() + timedelta(days=10)).isoformat(),
                "reason": "staff costs",
            },
        )
    assert made.status_code == 201, made.text
    return str(made.json()["uplift_id"])


async def uplift_row(service: Placements, uplift_id: str) -> UpliftRow:
    async with service.runtime.db.session() as session:
        row = await session.get(UpliftRow, uplift_id)
    assert row is not None
    return row


async def test_placements_are_searched_paged_and_downloaded(
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    ours = await placements.active_placement("KCC-EHC-000801", provider_id="p-1")
    await placements.active_placement("KCC-EHC-000802", provider_id="p-2")
    async with console_over(placements, tmp_path) as client:
        await sign_in(client, "monitoring_officer")
        everything = await client.get("/placements")
        assert everything.status_code == 200 and "2 placements" in everything.text
        assert '<option value="terminated">Terminated</option>' in everything.text
        found = await client.get(
            "/placements", params={"provider_id": "p-1", "reason": "Visit prep 12"}
        )
        assert "1 placement" in found.text and "KCC-EHC-000801" in found.text
        assert "KCC-EHC-000802" not in found.text
        assert f"/placements/{ours.placement_id}?reason=Visit%20prep%2012" in found.text
        bad_date = await client.get("/placements", params={"review_due_before": "31/13/2026"})
        assert bad_date.status_code == 400 and 'href="#review_due_before"' in bad_date.text

        download = await client.get("/placements.csv", params={"status": "active"})
        assert download.headers["content-type"].startswith("text/csv")
        assert "attachment" in download.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(download.text)))
        assert {r["child_ref"] for r in rows} == {"KCC-EHC-000801", "KCC-EHC-000802"}
        assert "date_of_birth" not in download.text

    # The reason the officer gave went with the read into placements' audit trail.
    async with placements.runtime.db.session() as session:
        reads = (
            await session.exec(select(AuditEntry).where(col(AuditEntry.action) == "placement.read"))
        ).all()
    assert {"reason": "Visit prep 12"} in [r.details for r in reads]
    assert all(r.role == "monitoring_officer" for r in reads)


async def test_a_monitoring_officer_reads_a_placement_without_the_forms(
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    row = await placements.active_placement("KCC-EHC-000803", provider_id="p-1")
    await request_uplift(placements, row.placement_id, "2")
    async with console_over(placements, tmp_path) as client:
        csrf = await sign_in(client, "monitoring_officer")
        shown = await client.get(f"/placements/{row.placement_id}")
        assert shown.status_code == 200 and "Awaiting decision" in shown.text
        assert "Record uplift decision" not in shown.text and "End placement" not in shown.text
        # The form's route refuses an officer too (placement decisions are the commissioner's).
        tried = await client.post(
            f"/placements/{row.placement_id}/end",
            data={"csrf_token": csrf, "by": "council", "end_reason": "x"},
        )
        assert tried.status_code == 403
        assert (await client.get("/placements/nope")).status_code == 404


async def test_a_commissioner_decides_an_uplift_records_a_review_and_ends_a_placement(
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    row = await placements.active_placement("KCC-EHC-000804", provider_id="p-1")
    uplift_id = await request_uplift(placements, row.placement_id, "5")  # above the cap
    path = f"/placements/{row.placement_id}"
    async with console_over(placements, tmp_path) as client:
        csrf = await sign_in(client, "commissioner")
        shown = await client.get(path)
        assert "Record uplift decision" in shown.text and "Record review outcome" in shown.text
        decide = f"{path}/uplifts/{uplift_id}/decision"

        nothing = await client.post(decide, data={"csrf_token": csrf})
        assert nothing.status_code == 400 and 'href="#decision"' in nothing.text
        not_a_number = await client.post(
            decide, data={"csrf_token": csrf, "decision": "approved", "approved_percent": "lots"}
        )
        assert not_a_number.status_code == 400 and 'href="#approved_percent"' in not_a_number.text
        # Placements refuses more than was asked: its rule shown against the field.
        too_much = await client.post(
            decide, data={"csrf_token": csrf, "decision": "approved", "approved_percent": "6"}
        )
        assert too_much.status_code == 400 and 'href="#approved_percent"' in too_much.text
        assert "Approved uplift: cannot approve more than was requested" in too_much.text
        assert (await uplift_row(placements, uplift_id)).decision is None

        approval = {
            "csrf_token": csrf,
            "decision": "approved",
            "approved_percent": "4",
            "uplift_reason": "Within the market rate",
            "idempotency_key": "form-key-uplift-1",  # as the drawn form carries
        }
        approved = await client.post(decide, data=approval)
        assert approved.status_code == 303 and approved.headers["location"].endswith("done=uplift")
        # The same form submitted again (a double click) is the service's first answer
        # again, not "already decided".
        twice = await client.post(decide, data=approval)
        assert (
            twice.status_code == 303 and twice.headers["location"] == approved.headers["location"]
        )
        decided = await uplift_row(placements, uplift_id)
        assert decided.decision == "approved" and str(decided.approved_percent).startswith("4")
        after = await client.get(approved.headers["location"])
        assert "The uplift decision was recorded" in after.text and "Approved at 4" in after.text
        again = await client.post(decide, data={"csrf_token": csrf, "decision": "rejected"})
        assert again.status_code == 400 and "already decided" in again.text

        review_id = next(
            r["review_id"]
            for r in (await _placement(placements, row.placement_id))["reviews"]
            if r["outcome"] is None
        )
        review = f"{path}/reviews/{review_id}/outcome"
        no_outcome = await client.post(review, data={"csrf_token": csrf, "outcome": "maybe"})
        assert no_outcome.status_code == 400 and 'href="#outcome"' in no_outcome.text
        held = await client.post(review, data={"csrf_token": csrf, "outcome": "continue"})
        assert held.status_code == 303
        reviews = (await _placement(placements, row.placement_id))["reviews"]
        assert [r["outcome"] for r in reviews] == ["continue", None]

        no_reason = await client.post(
            f"{path}/end", data={"csrf_token": csrf, "by": "council", "end_reason": " "}
        )
        assert no_reason.status_code == 400 and 'href="#end_reason"' in no_reason.text
        ended = await client.post(
            f"{path}/end",
            data={"csrf_token": csrf, "by": "council", "end_reason": "Moved out of area"},
        )
        assert ended.status_code == 303
        async with placements.runtime.db.session() as session:
            placement = await session.get(PlacementRow, row.placement_id)
        assert placement is not None and placement.status == "ending"
        twice = await client.post(
            f"{path}/end",
            data={"csrf_token": csrf, "by": "council", "end_reason": "Moved out of area"},
        )
        assert twice.status_code == 400 and "already ending" in twice.text


async def _placement(service: Placements, placement_id: str) -> dict[str, object]:
    async with client_for(service.runtime, COMMISSIONER) as c:
        found: dict[str, object] = (await c.get(f"/placements/{placement_id}")).json()
    return found


def _financial_year() -> int:
    return today().year if today().month >= 4 else today().year - 1


async def test_spend_against_budget_with_charts_tables_and_csv(
    placements: Placements,  # noqa: F811
    monitoring: ServiceRuntime,  # noqa: F811
    tmp_path: Path,
) -> None:
    await placements.active_placement("KCC-EHC-000805", provider_id="p-1")
    year = _financial_year()
    async with client_for(monitoring, COMMISSIONER) as c:
        put = await c.put(f"/budgets/{year}", json={"amount": "1000000.00", "reason": "set"})
        assert put.status_code == 200, put.text
    async with console_over(placements, tmp_path, monitoring) as client:
        await sign_in(client, "commissioner")
        shown = await client.get("/spend")
        assert shown.status_code == 200
        assert "£1,000,000.00" in shown.text and "On-contract share" in shown.text
        assert "100.00%" in shown.text  # the one placement is on contract
        assert f'<option value="{year}" selected>' in shown.text
        # Each chart is an SVG with the same figures in a table beside it.
        assert shown.text.count("<svg") == 4 and shown.text.count('aria-hidden="true"') >= 4
        assert ">ASD</th>" in shown.text and ">p-1</th>" in shown.text
        download = await client.get("/spend.csv", params={"year": year})
        rows = list(csv.reader(io.StringIO(download.text)))
        assert rows[0] == ["financial_year", "breakdown", "item", "amount", "placements"]
        assert ["budget", "all", "1000000.00"] == rows[2][1:4]
        assert any(r[1:3] == ["need type", "ASD"] and r[4] == "1" for r in rows)
        assert (await client.get("/spend", params={"year": "next"})).status_code == 400


async def test_spend_shows_when_budgets_are_unavailable(
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with console_over(placements, tmp_path) as client:
        await sign_in(client, "monitoring_officer")
        shown = await client.get("/spend", params={"year": 2001})
        assert shown.status_code == 200 and "cannot be reached now" in shown.text
        assert "No spend" in shown.text


def test_a_csv_cell_a_spreadsheet_would_run_is_written_as_text() -> None:
    from services.console.routes.placements import _csv_cell

    assert [_csv_cell(v) for v in ("=HYPERLINK(1)", "+1", "-2", "@x", "KCC-1", None)] == [
        "'=HYPERLINK(1)",
        "'+1",
        "'-2",
        "'@x",
        "KCC-1",
        "",
    ]
