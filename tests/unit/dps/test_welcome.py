"""`dps up` prints the console's address first, before the services' APIs."""

from __future__ import annotations

from pathlib import Path

import pytest

from dps.cli_stack import print_welcome
from dps.stack import StackPlan
from shared.settings import CommonSettings


def test_the_console_is_the_first_address_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    print_welcome(
        StackPlan(data_dir=tmp_path, console_port=8000), CommonSettings(data_dir=tmp_path)
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "send-dps is up."
    assert lines[1].split()[:2] == ["console", "http://127.0.0.1:8000"]


def test_without_a_console_none_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    print_welcome(StackPlan(data_dir=tmp_path), CommonSettings(data_dir=tmp_path))
    assert "console" not in capsys.readouterr().out
