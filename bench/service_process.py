"""One service's consumer (and relay) in a process of its own, as a deployment runs it,
so that a benchmark's own producer and collector do not share its event loop or core.

    python -m bench.service_process NAME [--roles consumer,relay]

Settings come from the DPS_* environment like any service process. No Temporal and no
HTTP: the pipeline benchmarks measure the consumer, database, outbox and relay. Runs until
SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from dps.services import definition_of
from shared.logging import configure_logging
from shared.runtime import ProcessRole, ServiceRuntime, freeze_startup_heap
from shared.settings import settings_for


async def run(name: str, roles: frozenset[ProcessRole]) -> None:
    """Serve `roles` of service `name` until SIGTERM or SIGINT."""
    settings = settings_for(name)
    configure_logging(name, settings.log_level, settings.log_json)
    runtime = ServiceRuntime(definition_of(name), settings, roles, use_temporal=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    freeze_startup_heap()  # as shared.runtime.serve does
    try:
        await stop.wait()
    finally:
        await runtime.stop()


def spawn(
    name: str, env: dict[str, str], roles: str = "consumer,relay", log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a service process for a benchmark; the caller terminates it."""
    output = log.open("wb") if log else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "bench.service_process", name, "--roles", roles],
        env={**os.environ, **env},
        stdout=output,
        stderr=subprocess.STDOUT,
    )


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (Linux VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("name")
    parser.add_argument("--roles", default="consumer,relay")
    args = parser.parse_args()
    roles = frozenset(ProcessRole(r) for r in args.roles.split(","))
    asyncio.run(run(args.name, roles))


if __name__ == "__main__":
    cli()
