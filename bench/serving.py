"""A benchmark's HTTP server in a child process of its own, on a socket this process
opened (so the port is known before the child starts), and waiting until it answers."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def cpu_s(self) -> float:
        """User+system CPU seconds the server has used, its threads' included (Linux
        /proc; nan elsewhere)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def served(module: str, *args: str) -> Iterator[str]:
    """Runs `python -m module *args --fd N` serving on a fresh listening socket; yields
    its base URL and terminates the child on exit."""
    with serving(module, *args) as server:
        yield server.url


@contextmanager
def serving(module: str, *args: str) -> Iterator[Server]:
    """As `served`, yielding the child's URL and process id."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    port = listener.getsockname()[1]
    command = [sys.executable, "-m", module, *args, "--fd", str(listener.fileno())]
    child = subprocess.Popen(
        command, pass_fds=[listener.fileno()], cwd=Path(__file__).resolve().parent.parent
    )
    listener.close()
    try:
        yield Server(f"http://127.0.0.1:{port}", child.pid)
    finally:
        child.terminate()
        child.wait(timeout=15)


async def ready(client: httpx.AsyncClient, base: str, seconds: float, poll: float) -> None:
    """Waits until `base`/healthz answers 200; a refused connection after `seconds` raises."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if (await client.get(f"{base}/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(poll)
