"""The `dps` script answers `dps token` without typer or pydantic (dps.quick): the token
typer's command prints, and everything else (help, mistakes, refusals) is typer's own."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from dps.cli import app
from dps.quick import quick_token

runner = CliRunner()
SECRET = "the-running-stacks-secret-0123456789"
OTHER_SECRET = "another-stacks-secret-0123456789abcd"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A stack's data folder named by DPS_DATA_DIR, with its secret; no other setting."""
    for name in list(os.environ):
        if name.lower().startswith("dps_") or name.endswith("_COMPLETE"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DPS_STACK_POINTER", str(tmp_path / "pointer.json"))
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    (data / "jwt-secret").write_text(SECRET)
    monkeypatch.setenv("DPS_DATA_DIR", str(data))
    other = tmp_path / "other"
    other.mkdir()
    (other / "jwt-secret").write_text(OTHER_SECRET)
    return tmp_path


def _read(token: str, secret: str) -> tuple[dict[str, object], dict[str, object]]:
    """The header, and the verified claims with the lifetime instead of the times."""
    claims = dict(
        jwt.decode(token, secret, algorithms=["HS256"], issuer="send-dps", audience="send-dps")
    )
    claims["lifetime"] = int(str(claims.pop("exp"))) - int(str(claims.pop("iat")))
    return jwt.get_unverified_header(token), claims


def _argv(argv: list[str], stack: Path) -> list[str]:
    return [arg.replace("{other}", str(stack / "other")) for arg in argv]


@pytest.mark.parametrize(
    ("argv", "secret"),
    [
        (["token", "--role", "commissioner"], SECRET),
        (["token", "--role=admin"], SECRET),
        (["token", "--role", "provider", "--provider-id", "p-1"], SECRET),
        (["token", "--subject", "Zoë Ådams", "--role", "monitoring_officer"], SECRET),
        (["token", "--role", "auditor", "--data-dir", "{other}"], OTHER_SECRET),
        (["token", "--data-dir={other}", "--role=supplier", "--subject=a=b"], OTHER_SECRET),
    ],
)
def test_the_quick_token_is_the_one_typer_prints(stack: Path, argv: list[str], secret: str) -> None:
    argv = _argv(argv, stack)
    quick = quick_token(argv)
    assert quick is not None
    typed = runner.invoke(app, argv)
    assert typed.exit_code == 0, typed.output
    assert _read(quick, secret) == _read(typed.stdout.strip(), secret)


@pytest.mark.parametrize(
    "variables",
    [
        {"DPS_DEV_TOKEN_TTL_S": "600"},
        {"DPS_DEV_TOKENS": "true"},
        {"DPS_JWT_SECRET": "a-key-from-the-environment-0123456789"},
        {"DPS_URL_PLACEMENTS": "http://127.0.0.1:1"},  # not a setting
    ],
)
def test_the_quick_token_reads_the_settings_typer_reads(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    secret = variables.get("DPS_JWT_SECRET", SECRET)
    quick = quick_token(["token", "--role", "admin"])
    assert quick is not None
    typed = runner.invoke(app, ["token", "--role", "admin"])
    assert _read(quick, secret) == _read(typed.stdout.strip(), secret)


def test_a_fresh_data_folder_gets_the_secret_typer_then_reads(stack: Path) -> None:
    fresh = str(stack / "fresh")
    quick = quick_token(["token", "--role", "admin", "--data-dir", fresh])
    assert quick is not None
    made = (stack / "fresh" / "jwt-secret").read_text()
    typed = runner.invoke(app, ["token", "--role", "admin", "--data-dir", fresh])
    assert _read(quick, made) == _read(typed.stdout.strip(), made)


DECLINED = [
    [],
    ["--help"],
    ["token"],
    ["token", "--help"],
    ["token", "-h"],
    ["token", "--role", "COMMISSIONER"],
    ["token", "--role", "nobody"],
    ["token", "--role", "provider"],
    ["token", "--role", "provider", "--provider-id="],
    ["token", "--role", "admin", "--role", "auditor"],
    ["token", "--role", "admin", "--subject"],
    ["token", "--role", "admin", "--subject", ""],
    ["token", "--role", "admin", "--subject", "--data-dir"],
    ["token", "--role", "admin", "extra"],
    ["token", "--role", "admin", "--"],
    ["token", "--rol", "admin"],
    ["tokn", "--role", "admin"],
    ["status"],
    ["--install-completion", "token"],
]


@pytest.mark.parametrize("argv", DECLINED)
def test_anything_but_a_plain_token_is_typers(argv: list[str]) -> None:
    assert quick_token(argv) is None


@pytest.mark.parametrize(
    "variables",
    [
        {"DPS_DEV_TOKENS": "false"},
        {"DPS_ENV": "production"},
        {"DPS_LOG_LEVEL": "nonsense"},
        {"DPS_DEV_TOKEN_TTL_S": "12"},
        {"_DPS_COMPLETE": "bash_source"},
    ],
)
def test_a_refusal_or_another_setting_is_typers(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert quick_token(["token", "--role", "admin"]) is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_an_unreadable_data_folder_is_typers(stack: Path) -> None:
    (stack / "other").chmod(0)
    try:
        assert quick_token(["token", "--role", "admin", "--data-dir", str(stack / "other")]) is None
    finally:
        (stack / "other").chmod(0o700)


def _run(entry: str, argv: list[str], env: dict[str, str] | None = None) -> tuple[str, str, int]:
    """`dps ARGV` through `entry`, as the script runs it (argv[0] "dps")."""
    code = f"import sys; sys.argv[0] = 'dps'; {entry}"
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "100", **(env or {})},
    )
    return done.stdout, done.stderr, done.returncode


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["--help"], None),
        (["token", "--help"], None),
        (["token"], None),
        (["token", "--role", "nobody"], None),
        (["token", "--role", "provider"], None),
        (["token", "--role", "admin", "--subject"], None),
        (["tokn", "--role", "admin"], None),
        (["token", "--role", "admin"], {"DPS_DEV_TOKENS": "false"}),
        (["token", "--role", "admin"], {"DPS_DEV_TOKEN_TTL_S": "abc"}),
        (["status", "--help"], None),
    ],
)
def test_the_script_prints_what_typer_prints(argv: list[str], env: dict[str, str] | None) -> None:
    script = _run("from dps.quick import main; main()", argv, env)
    typed = _run("from dps.cli import app; app()", argv, env)
    assert script == typed
    assert script[2] != 0 or "Usage: dps" in script[0]


def test_the_dps_script_is_the_quick_one() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["dps"] == "dps.quick:main"


def test_the_quick_token_imports_no_framework() -> None:
    """What `dps token` spent most of its time importing (docs/performance.md)."""
    heavy = ("typer", "click", "rich", "pydantic", "pydantic_settings", "jwt", "cryptography")
    probe = (
        "import sys; sys.argv = ['dps', 'token', '--role', 'commissioner']\n"
        "from dps.quick import main; main()\n"
        f"print([m for m in {heavy!r} if m in sys.modules], file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert ast.literal_eval(done.stderr.strip().splitlines()[-1]) == []
    assert _read(done.stdout.strip(), SECRET)[1]["role"] == "commissioner"
