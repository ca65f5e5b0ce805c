"""`make bench` / `python -m bench [NAME ...]`: run every benchmark and print its figures.

Each benchmark is a module of this package with a `main()` that prints its own table,
every figure next to a baseline measured in the same run. They are measurements, not
tests: nothing here passes or fails on a number.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import report

BENCHMARKS = {
    "provider_search": "provider search by need and distance over 5,000 providers",
    "event_to_alert": "inspection event to quality alert latency at a steady rate",
    "ehc_ingest": "EHC plan events ingested per second by placements",
    "procurement": "evaluation of 200 bids; competitions closed per second by the worker",
    "api_reads": "commonest reads over HTTP at fixed concurrency, each vs /healthz",
    "workflows": "placements brought under lifecycle management (parked on the first timer) vs no-op starts",
    "national_replay": "640k EHC plans + a year of updates into one placements process",
    "scale_out": "EHC ingest with one and with two placements consumer processes in a group",
    "console": "the console's five busiest pages, 8 sessions, vs the same API calls alone",
    "cli": "wall time of `dps token` and `dps status` vs an empty interpreter",
}


def main(names: list[str]) -> int:
    chosen = names or list(BENCHMARKS)
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    failures = 0
    with tempfile.TemporaryDirectory(prefix="dps-bench-") as scratch:
        rows_file = Path(scratch) / "rows.jsonl"
        env = {**os.environ, report.REPORT_ENV: str(rows_file)}
        for name in chosen:
            print(f"\n=== {name}: {BENCHMARKS[name]} ===", flush=True)
            started = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", f"bench.{name}"], env=env, check=False)
            print(f"--- {name} took {time.perf_counter() - started:.1f}s", flush=True)
            failures += result.returncode != 0
        print("\n=== summary: every figure beside its baseline from this run ===")
        print(report.table(report.read(rows_file)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
