"""`dps returns sen2` and `dps returns lgtc` against a placements API served over HTTP."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from dps import processes
from dps.cli import app
from shared.auth import issue_token
from shared.contracts.common import Role
from tests.conftest import RUN_TTL, TEST_SECRET
from tests.harness import eventually
from tests.service.placements.conftest import Placements
from tests.service.placements.test_returns import _register

CHILD = "KCC-EHC-000820"
COMMISSIONER = issue_token(TEST_SECRET, Role.COMMISSIONER, subject="commissioner-sam", ttl=RUN_TTL)
runner = CliRunner()


@pytest.fixture
async def served(placements: Placements, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    port = processes.free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            placements.runtime.build_app(), host="127.0.0.1", port=port, log_level="error"
        )
    )
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return bool(server.started)

    await eventually(started)
    monkeypatch.setenv("DPS_URL_PLACEMENTS", f"http://127.0.0.1:{port}")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_dps_returns_writes_the_sen2_xml_and_the_contracts_csv(
    placements: Placements, served: str, tmp_path: Path
) -> None:
    await _register(placements, "p-1", 123456)
    placement = await placements.active_placement(CHILD)
    year = datetime.now(UTC).year + 1
    out = tmp_path / "sen2.xml"
    done = await asyncio.to_thread(
        runner.invoke,
        app,
        ["returns", "sen2", "--year", str(year), "--out", str(out), "--token", COMMISSIONER],
    )
    assert done.exit_code == 0, done.output
    assert f"SEN2 {year}: 1 placements" in done.output
    root = ET.fromstring(out.read_bytes())
    assert root.findtext("Persons/Person/ChildRef") == CHILD
    assert root.findtext("Persons/Person/ActivePlans/PlacementDetail/URN") == "123456"

    as_json = await asyncio.to_thread(
        runner.invoke,
        app,
        [
            "returns",
            "sen2",
            "--year",
            str(year),
            "--format",
            "json",
            "--out",
            str(tmp_path / "s.json"),
            "--token",
            COMMISSIONER,
        ],
    )
    assert as_json.exit_code == 0, as_json.output
    assert json.loads((tmp_path / "s.json").read_text())["placements"][0]["URN"] == "123456"

    today = datetime.now(UTC).date()
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    listed = await asyncio.to_thread(
        runner.invoke,
        app,
        [
            "returns",
            "lgtc",
            "--quarter",
            quarter,
            "--out",
            str(tmp_path / "c.csv"),
            "--token",
            COMMISSIONER,
        ],
    )
    assert listed.exit_code == 0, listed.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "c.csv").read_text())))
    assert [r["Reference number"] for r in rows] == [placement.competition_ref]

    refused = await asyncio.to_thread(
        runner.invoke, app, ["returns", "lgtc", "--quarter", "2026-Q9", "--token", COMMISSIONER]
    )
    assert refused.exit_code == 2 and "422" in refused.output
