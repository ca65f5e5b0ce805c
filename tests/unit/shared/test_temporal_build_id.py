"""A worker's build id comes from its workflows' source files, not from temporalio's
walk over every loaded module (seconds on the event loop at each start)."""

from __future__ import annotations

from services.monitoring.app import definition as monitoring
from services.placements.app import definition as placements
from shared.temporal import build_id


def test_the_build_id_names_the_workflow_code() -> None:
    first = build_id(placements.workflows)
    assert first == build_id(list(reversed(placements.workflows)))  # the same code
    assert first.startswith("send-dps-") and len(first) == len("send-dps-") + 16
    assert first != build_id(monitoring.workflows)  # other code, another id
