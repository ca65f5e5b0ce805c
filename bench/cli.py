"""Wall time of the `dps` commands people type most: `dps token` and `dps status`.

    python -m bench.cli [--runs 9]

Each command is run as a fresh process, as a person runs it (the `dps` script of this
interpreter's environment, else `python -m dps.cli`), ``--runs`` times, interleaved
round-robin with the baseline, an empty interpreter (`python -c pass`, same interpreter
and environment, so the same `site` start-up), so that a busy machine slows all three
alike. Figures: median and best wall time, median user+system CPU of the child, and the
median ÷ the baseline's median.

The data folder is a fresh temporary one with no stack running (a signing secret is
made in it on first use, as `dps token` does for a new folder); no stack pointer. Each
service's URL (``DPS_URL_<SERVICE>``) points at a closed port on 127.0.0.1, so that
`dps status` meets no service even if something else listens on the default ports:
it signs an operator token, asks each of the four services for ``/readyz`` and
``/admin/status`` (every connection refused at once), prints its table with each
service "down" and exits 1. That is the command's own cost (imports, settings, token,
HTTP client set-up, table); against a running stack the services' answers add to it.

Prints figures; it is not a test and asserts nothing beyond each command's exit code.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.report import record

SERVICES = ("provider_registry", "procurement", "placements", "monitoring")
TARGET_S = 0.5


@dataclass
class Samples:
    label: str
    argv: list[str]
    expect_code: int
    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    output: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.wall_s)


def dps_command() -> list[str]:
    """How a person runs `dps` in this environment."""
    script = Path(sys.executable).with_name("dps")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dps.cli"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def no_stack_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DPS_")}
    env.update(
        DPS_DATA_DIR=str(data_dir),
        DPS_STACK_POINTER=str(data_dir / "no-pointer.json"),
        **{f"DPS_URL_{name.upper()}": f"http://127.0.0.1:{closed_port()}" for name in SERVICES},
    )
    return env


def run_once(samples: Samples, env: dict[str, str], cwd: Path) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(samples.argv, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != samples.expect_code:
        raise SystemExit(
            f"{samples.label} exited {done.returncode}, expected {samples.expect_code}:\n"
            f"{done.stdout}{done.stderr}"
        )
    samples.wall_s.append(wall)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    samples.cpu_s.append(cpu)
    samples.output = done.stdout + done.stderr


def measure(runs: int) -> list[Samples]:
    dps = dps_command()
    with tempfile.TemporaryDirectory(prefix="dps-bench-cli-") as scratch:
        root = Path(scratch)
        data_dir = root / "data"
        data_dir.mkdir()
        env = no_stack_env(data_dir)
        chosen = [
            Samples("python -c pass", [sys.executable, "-c", "pass"], 0),
            Samples("dps token --role commissioner", [*dps, "token", "--role", "commissioner"], 0),
            Samples("dps status (no stack)", [*dps, "status"], 1),
        ]
        for one in chosen:  # warm the file cache and make the signing secret; not counted
            run_once(one, env, root)
            one.wall_s.clear()
            one.cpu_s.clear()
        for _ in range(runs):
            for one in chosen:
                run_once(one, env, root)
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    baseline, *commands = measure(args.runs)
    load = os.getloadavg()[0]
    print(f"{args.runs} runs each, interleaved; 1-minute load average {load:.1f}")
    print(f"  {'command':<32} {'median s':>9} {'best s':>8} {'CPU s':>7} {'÷ pass':>7}")
    for one in (baseline, *commands):
        print(
            f"  {one.label:<32} {one.median:9.3f} {min(one.wall_s):8.3f} "
            f"{statistics.median(one.cpu_s):7.3f} {one.median / baseline.median:7.1f}"
        )
    print(f"  target: each command under {TARGET_S} s wall time")
    status = commands[1].output.strip().splitlines()
    print(f"  `dps status` with no stack ends: {status[-1] if status else '(nothing)'}")
    for one in commands:
        record(
            f"`{one.label.removesuffix(' (no stack)')}` wall time, no stack running, "
            f"median of {args.runs}",
            f"{one.median:.3f} s (best {min(one.wall_s):.3f} s)",
            f"`python -c pass` {baseline.median:.3f} s",
            one.median / baseline.median,
            f"< {TARGET_S} s",
        )


if __name__ == "__main__":
    main()
