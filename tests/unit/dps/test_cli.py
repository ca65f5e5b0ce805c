"""`dps token` and `dps status`: fast, find the running stack's data folder, and status
says by its exit code whether every service is ready."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from dps import pointer, processes
from dps.cli import app
from shared.settings import SERVICES

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No stack of the developer's: a pointer in tmp, no data dir or secret from the env."""
    monkeypatch.setenv("DPS_STACK_POINTER", str(tmp_path / "pointer.json"))
    for name in ("DPS_DATA_DIR", "DPS_JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _stack_in(folder: Path, secret: str) -> None:
    folder.mkdir()
    (folder / "jwt-secret").write_text(secret)
    pointer.write_pointer(folder, {"placements": 9103}, os.getpid())


def _claims(token: str, secret: str) -> dict[str, object]:
    return dict(
        jwt.decode(token, secret, algorithms=["HS256"], issuer="send-dps", audience="send-dps")
    )


def test_token_is_signed_with_the_running_stacks_secret(no_stack: Path) -> None:
    _stack_in(no_stack / "elsewhere", "the-running-stacks-secret-0123456789")
    result = runner.invoke(app, ["token", "--role", "commissioner"])
    assert result.exit_code == 0, result.output
    claims = _claims(result.output.strip(), "the-running-stacks-secret-0123456789")
    assert claims["role"] == "commissioner"


def test_token_lives_as_long_as_the_setting_says(
    no_stack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stack_in(no_stack / "elsewhere", "the-running-stacks-secret-0123456789")
    monkeypatch.setenv("DPS_DEV_TOKEN_TTL_S", "600")
    result = runner.invoke(app, ["token", "--role", "admin"])
    claims = _claims(result.output.strip(), "the-running-stacks-secret-0123456789")
    assert int(str(claims["exp"])) - int(str(claims["iat"])) == 600


def test_token_takes_data_dir_over_the_pointer(no_stack: Path) -> None:
    _stack_in(no_stack / "running", "the-running-stacks-secret-0123456789")
    other = no_stack / "other"
    other.mkdir()
    (other / "jwt-secret").write_text("another-stacks-secret-0123456789abcd")
    result = runner.invoke(app, ["token", "--role", "admin", "--data-dir", str(other)])
    assert _claims(result.output.strip(), "another-stacks-secret-0123456789abcd")["role"] == "admin"


def test_a_stack_running_from_here_wins_over_the_pointer(no_stack: Path) -> None:
    # Another stack (say a test run's) took the pointer; this folder's own stack runs.
    _stack_in(no_stack / "elsewhere", "another-stacks-secret-0123456789abcd")
    here = no_stack / ".data"
    here.mkdir()
    (here / "jwt-secret").write_text("this-folders-stack-secret-0123456789")
    (here / "stack.json").write_text(json.dumps({"supervisor": os.getpid()}))
    result = runner.invoke(app, ["token", "--role", "commissioner"])
    assert result.exit_code == 0, result.output
    claims = _claims(result.output.strip(), "this-folders-stack-secret-0123456789")
    assert claims["role"] == "commissioner"


def test_a_pointer_left_by_a_dead_stack_is_ignored(no_stack: Path) -> None:
    folder = no_stack / "gone"
    _stack_in(folder, "a-dead-stacks-secret-0123456789abcdef")
    record = json.loads(pointer.pointer_path().read_text())
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    record["pid"] = int(dead.stdout)
    pointer.pointer_path().write_text(json.dumps(record))
    assert pointer.stack_data_dir(None) is None


SERVICE_FRAMEWORK = (
    *("fastapi", "sqlalchemy", "sqlmodel", "aiokafka", "temporalio", "faststream"),
    *("services.placements", "shared.runtime"),
)
OTHER_COMMANDS = (
    *("dps.cli_stack", "dps.cli_import", "dps.cli_returns", "dps.clock_cli"),
    "services.provider_registry.cli",
)


def _imported_by(argv: list[str], modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported after running `dps ARGV`."""
    probe = (
        "import sys; from dps.cli import app\n"
        f"try:\n    app({argv!r})\nexcept SystemExit: pass\n"
        f"print([m for m in {modules!r} if m in sys.modules], file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return list(ast.literal_eval(done.stderr.strip().splitlines()[-1]))


def test_token_imports_no_service_framework() -> None:
    """What kept `dps token` at 1-4 s: FastAPI, the services, Kafka and Temporal clients;
    nor the modules of other commands, nor an HTTP client."""
    argv = ["token", "--role", "commissioner"]
    assert _imported_by(argv, (*SERVICE_FRAMEWORK, *OTHER_COMMANDS, "httpx", "rich")) == []


def test_status_imports_no_service_framework(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nor pydantic's settings and PyJWT: its settings and token are read and signed as
    `dps token`'s are (shared.issuer_settings, shared.tokens)."""
    for name in SERVICES:
        monkeypatch.setenv(f"DPS_URL_{name.upper()}", f"http://127.0.0.1:{processes.free_port()}")
    lean = ("pydantic", "pydantic_settings", "jwt", "cryptography", "asyncio")
    assert _imported_by(["status"], (*SERVICE_FRAMEWORK, *OTHER_COMMANDS, *lean)) == []


def test_every_command_is_listed_in_order_and_builds() -> None:
    """Commands of other modules are built on first use (dps.cli.LazyCommands): every one
    is there, in the order `dps --help` has always listed them, and is what typer builds."""
    from typer.main import get_command

    from dps.cli import ELSEWHERE, ORDER

    group = get_command(app)
    names = list(group.commands)  # type: ignore[attr-defined]
    assert names == list(ORDER)
    assert set(ELSEWHERE) <= set(names)
    for name in names:
        command = group.commands[name]  # type: ignore[attr-defined]
        assert command.name == name
        assert command.help or command.hidden, name
    assert set(group.commands["dlq"].commands) == {"list", "retry"}  # type: ignore[attr-defined]


def test_a_mistyped_command_is_still_suggested() -> None:
    result = runner.invoke(app, ["tokn"])
    assert result.exit_code == 2
    assert "Did you mean 'token'?" in result.output


def test_status_exits_non_zero_when_services_are_down(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SERVICES:
        monkeypatch.setenv(f"DPS_URL_{name.upper()}", f"http://127.0.0.1:{processes.free_port()}")
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 1
    assert "not ready: provider_registry, procurement, placements, monitoring" in result.output


class _ReadyService(BaseHTTPRequestHandler):
    bearers: list[str] = []  # every request's Authorization header, in order

    def do_GET(self) -> None:
        self.bearers.append(self.headers.get("Authorization", ""))
        body: dict[str, object] = {"ready": True, "checks": {}}
        if self.path.startswith("/admin/status"):
            body = {
                "consumer_lag": [],
                "outbox_backlog": 0,
                "dead_letters_not_retried": 0,
                "dead_letters": 0,
                "running_workflows": None,
            }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def ready_service() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ReadyService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_status_exits_zero_only_when_every_service_is_ready(
    monkeypatch: pytest.MonkeyPatch, ready_service: str
) -> None:
    for name in SERVICES:
        monkeypatch.setenv(f"DPS_URL_{name.upper()}", ready_service)
    assert runner.invoke(app, ["status"]).exit_code == 0
    monkeypatch.setenv("DPS_URL_PLACEMENTS", f"http://127.0.0.1:{processes.free_port()}")
    stopped = runner.invoke(app, ["status"])
    assert stopped.exit_code == 1
    assert "not ready: placements" in stopped.output


def test_status_signs_in_with_the_stacks_secret(
    monkeypatch: pytest.MonkeyPatch, no_stack: Path, ready_service: str
) -> None:
    _stack_in(no_stack / "elsewhere", "the-running-stacks-secret-0123456789")
    for name in SERVICES:
        monkeypatch.setenv(f"DPS_URL_{name.upper()}", ready_service)
    _ReadyService.bearers.clear()
    assert runner.invoke(app, ["status"]).exit_code == 0
    assert len(_ReadyService.bearers) == 2 * len(SERVICES)  # /admin/status carry the token
    tokens = {b.removeprefix("Bearer ") for b in _ReadyService.bearers if b}
    assert len(tokens) == 1
    claims = _claims(tokens.pop(), "the-running-stacks-secret-0123456789")
    assert (claims["role"], claims["sub"]) == ("admin", "dps-operator")


def test_status_refuses_a_bad_setting_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DPS_LOG_LEVEL", "nonsense")
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2
    assert "bad configuration" in result.output and "DPS_LOG_LEVEL" in result.output


def test_status_finds_a_stack_started_with_other_ports(
    monkeypatch: pytest.MonkeyPatch, no_stack: Path, ready_service: str
) -> None:
    for name in SERVICES:
        monkeypatch.delenv(f"DPS_URL_{name.upper()}", raising=False)
    port = int(ready_service.rsplit(":", 1)[1])
    folder = no_stack / "moved"
    _stack_in(folder, "the-running-stacks-secret-0123456789")
    ports = dict.fromkeys(SERVICES, port)
    (folder / "stack.json").write_text(
        json.dumps({"supervisor": os.getpid(), "service_ports": ports})
    )
    assert runner.invoke(app, ["status"]).exit_code == 0
    (folder / "stack.json").unlink()  # the default ports: nothing listens there in tests
    monkeypatch.setattr(
        "dps.cli_common.SERVICE_PORTS", dict.fromkeys(SERVICES, processes.free_port())
    )
    assert runner.invoke(app, ["status"]).exit_code == 1


def test_the_module_runs_as_a_program(no_stack: Path) -> None:
    """`python -m dps.cli` is how `dps up` starts each service process: the module must
    run its app when executed, lazily built commands included."""
    done = subprocess.run(
        [sys.executable, "-m", "dps.cli", "token", "--role", "commissioner"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().count(".") == 2  # a JWT: header.claims.signature
