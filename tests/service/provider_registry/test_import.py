"""`dps providers import`: a generated 3,000-row GIAS extract with bad rows, through the
same rules and unit of work as the API; re-importing the same file changes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from services.provider_registry import gias
from services.provider_registry.cli import import_extract, providers_app
from services.provider_registry.models import InspectionRow, ProviderRow
from shared.infra_models import AuditEntry, OutboxMessage
from shared.runtime import ServiceRuntime
from shared.unit_of_work import Actor
from tests.service.provider_registry.conftest import count

TODAY = date(2025, 10, 1)
IMPORTER = Actor(id="cli:test", role="admin")
BAD_EVERY = 50


@pytest.fixture(scope="module")
def extract_text() -> str:
    return gias.write_extract_csv(gias.generate_extract(3000, seed=7, bad_every=BAD_EVERY))


async def test_import_3000_rows_reports_bad_lines_and_reimport_changes_nothing(
    registry: ServiceRuntime, extract_text: str
) -> None:
    summary = await import_extract(extract_text, registry.db, actor=IMPORTER, today=TODAY)

    bad_lines = [i + 2 for i in range(3000) if gias.bad_row_kind(i, BAD_EVERY) is not None]
    assert [r.line for r in summary.rejected] == bad_lines
    assert all(r.reasons for r in summary.rejected)
    assert summary.created == 3000 - len(bad_lines)
    assert (summary.updated, summary.unchanged) == (0, 0)
    first = summary.rejected[0]  # row 50 is spoilt the first way: a 5-digit URN
    assert first.line == 51 and any(reason.startswith("URN") for reason in first.reasons)
    assert await count(registry, ProviderRow) == summary.created
    events = await count(registry, OutboxMessage)
    assert events == summary.created  # one provider.registered each
    audits = await count(registry, AuditEntry)

    again = await import_extract(extract_text, registry.db, actor=IMPORTER, today=TODAY)
    assert (again.created, again.updated, again.unchanged) == (0, 0, summary.created)
    assert [r.line for r in again.rejected] == bad_lines
    assert await count(registry, OutboxMessage) == events
    assert await count(registry, AuditEntry) == audits


async def test_changed_row_updates_and_new_inspection_is_recorded(registry: ServiceRuntime) -> None:
    rows = gias.generate_extract(3, seed=11)
    await import_extract(gias.write_extract_csv(rows), registry.db, actor=IMPORTER, today=TODAY)
    rows[0]["EstablishmentName"] = "Renamed School"
    rows[1] |= {"OfstedRating (name)": "Inadequate", "OfstedLastInsp": "01-09-2025"}
    summary = await import_extract(
        gias.write_extract_csv(rows), registry.db, actor=IMPORTER, today=TODAY
    )
    assert (summary.created, summary.updated, summary.unchanged) == (0, 2, 1)
    async with registry.db.session() as session:
        types = [m.event_type for m in (await session.exec(select(OutboxMessage))).all()]
        renamed = (
            await session.exec(select(ProviderRow).where(ProviderRow.urn == int(rows[0]["URN"])))
        ).one()
    assert types.count("provider.updated") == 1
    assert types.count("provider.inspection_recorded") == 1
    assert renamed.name == "Renamed School"
    assert await count(registry, InspectionRow) >= 1


async def test_urn_repeated_in_file_is_rejected_with_its_line(registry: ServiceRuntime) -> None:
    rows = gias.generate_extract(2, seed=3)
    rows.append(dict(rows[0]))
    summary = await import_extract(
        gias.write_extract_csv(rows), registry.db, actor=IMPORTER, today=TODAY
    )
    assert summary.created == 2
    assert [(r.line, r.reasons) for r in summary.rejected] == [
        (4, ("URN: repeats line 2 of this file",))
    ]


def test_cli_prints_summary_and_rejected_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "extract.csv"
    path.write_text(gias.write_extract_csv(gias.generate_extract(20, seed=5, bad_every=10)))
    monkeypatch.setenv("DPS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DPS_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    result = runner.invoke(providers_app, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "created 18, updated 0, unchanged 0, rejected 2" in result.output
    assert "line 11 (URN" in result.output and "line 21 (URN" in result.output
    again = runner.invoke(providers_app, ["import", str(path)])
    assert "created 0, updated 0, unchanged 18, rejected 2" in again.output
