"""The interface documents in docs/ must match the code (regenerate with `dps docs`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dps.docs import documents, render

DOCS = Path(__file__).resolve().parents[2] / "docs"
GENERATED = documents()


@pytest.mark.parametrize("relative", sorted(GENERATED))
def test_published_document_is_current(relative: str) -> None:
    path = DOCS / relative
    assert path.exists(), f"docs/{relative} is missing: run `dps docs`"
    assert path.read_text() == render(GENERATED[relative]), (
        f"docs/{relative} is out of date: run `dps docs`"
    )


def test_inbound_council_events_are_documented() -> None:
    events = GENERATED["schemas/ehc.plans.v1.json"]["events"]
    assert {"ehc.plan.issued", "ehc.placement.requested", "ehc.plan.ceased"} <= set(events)
    requested = events["ehc.placement.requested"]["properties"]
    assert "child_ref" in requested and "name" not in requested
