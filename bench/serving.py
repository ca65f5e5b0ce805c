"""A benchmark's HTTP server in a child process of its own, on a socket this process
opened (so the port is known before the child starts), and waiting until it answers."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


@contextmanager
def served(module: str, *args: str) -> Iterator[str]:
    """Runs `python -m module *args --fd N` serving on a fresh listening socket; yields
    its base URL and terminates the child on exit."""
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
        yield f"http://127.0.0.1:{port}"
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
