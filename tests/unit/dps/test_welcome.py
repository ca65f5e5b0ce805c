"""`dps up` prints the console's address first, before the services' APIs."""

from __future__ import annotations

from pathlib import Path

import jwt
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


def test_the_token_printed_is_signed_for_the_stacks_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`dps up --data-dir X` printed a token signed with the default data dir's secret,
    which X's services refused ("Signature verification failed")."""
    stack_dir, default_dir = tmp_path / "stack", tmp_path / "default"
    print_welcome(StackPlan(data_dir=stack_dir), CommonSettings(data_dir=default_dir))
    line = next(x for x in capsys.readouterr().out.splitlines() if "export TOKEN=" in x)
    token = line.split("export TOKEN=", 1)[1]
    stacks_secret = CommonSettings(data_dir=stack_dir).signing_secret()
    claims = jwt.decode(token, stacks_secret, algorithms=["HS256"], audience="send-dps")
    assert claims["role"] == "commissioner"
    assert not (default_dir / "jwt-secret").exists()
