"""Tests of `dps` never read or write the developer's own stack pointer (dps.pointer)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _own_stack_pointer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DPS_STACK_POINTER", str(tmp_path / "stack-pointer.json"))
