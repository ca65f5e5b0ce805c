"""A council's Node.js system (kafkajs 2.2.4, from npm) publishes EHC events in binary
and structured mode and placements applies them; it reads our events back. kafkajs is
installed by the session fixture into tests/integration/node only (never globally)."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner

from services.placements.commands import derived_id
from shared.bus import PARTITIONS
from shared.runtime import ServiceRuntime
from tests.harness import eventually
from tests.integration.placements.conftest import needs_of
from tests.service.placements.builders import requested_data

pytestmark = pytest.mark.integration

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


@pytest.fixture(scope="session")
def council_js() -> Path:
    """kafkajs installed from package-lock.json into tests/integration/node."""
    if not (NODE_DIR / "node_modules" / "kafkajs").exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed for the kafkajs tests"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=NODE_DIR,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return NODE_DIR / "council.js"


async def _node(script: Path, *args: str) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is needed for the kafkajs tests"
    process = await asyncio.create_subprocess_exec(
        node, str(script), *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=90)
    assert process.returncode == 0, err.decode()
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


def _event(child: str) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "type": "ehc.placement.requested",
        "source": "urn:council:886:send-case-system",
        "subject": child,
        "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": requested_data(child),
    }


@pytest.mark.parametrize("mode", ["binary", "structured"])
async def test_a_council_publishes_with_kafkajs_and_placements_applies_it(
    placements: ServiceRuntime, kafka_bootstrap: str, council_js: Path, tmp_path: Path, mode: str
) -> None:
    child = f"KCC-EHC-{uuid.uuid4().hex[:10].upper()}"
    event = _event(child)
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))
    sent = await _node(council_js, "produce", kafka_bootstrap, mode, str(event_file))

    async def applied() -> bool:
        return len(await needs_of(placements, child)) == 1

    await eventually(applied, within=30)
    [need] = await needs_of(placements, child)
    assert need.source_event_id == event["id"]
    ours = DefaultPartitioner()(child.encode(), list(range(PARTITIONS)), list(range(PARTITIONS)))
    assert sent["partition"] == ours  # kafkajs' default is Java's murmur2, as ours


async def test_a_council_reads_our_events_with_kafkajs(
    placements: ServiceRuntime, kafka_bootstrap: str, council_js: Path, tmp_path: Path
) -> None:
    child = f"KCC-EHC-{uuid.uuid4().hex[:10].upper()}"
    event = _event(child)
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))
    await _node(council_js, "produce", kafka_bootstrap, "structured", str(event_file))
    need_id = derived_id("need", event["id"])  # the need carries no child reference
    found = await _node(
        council_js, "consume", kafka_bootstrap, "placements.v1", "placement.need.raised", need_id
    )
    assert not [name for name in found["headers"] if name.startswith("ce_")]
    assert found["event"]["specversion"] == "1.0" and found["event"]["id"]
    assert found["event"]["dataschema"].startswith("https://")
