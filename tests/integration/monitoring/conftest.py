"""A broker of monitoring's own for tests that publish onto other services' topics, so
their events never reach tests sharing the session broker (e.g. the thin slice)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dps import processes


@pytest.fixture
def own_kafka(logs_dir: Path) -> Iterator[str]:
    port = processes.free_port()
    broker = processes.tansu(port, logs_dir)
    broker.start()
    processes.wait_for_port(broker, port, timeout=20)
    yield f"127.0.0.1:{port}"
    broker.stop()
