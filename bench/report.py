"""The summary table `make bench` ends with: one row per figure, beside its baseline.

Each benchmark calls `record(...)` for the figures it measures; `python -m bench` points
`DPS_BENCH_REPORT` at a JSON-lines file for the run and prints every row at the end, so
one run gives the whole table (docs/performance.md) with the baselines of that run.
A benchmark run on its own (`python -m bench.NAME`) prints its own output only.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

REPORT_ENV = "DPS_BENCH_REPORT"


@dataclass(frozen=True)
class Row:
    figure: str  # what was measured, in the table's words
    result: str  # the figure itself, with its unit
    baseline: str  # what it is divided by, measured in the same run
    ratio: float | None  # result ÷ baseline (or the inverse where the table says so)
    target: str  # the target from the issue, e.g. "at most 3 times"; "" when there is none


def record(figure: str, result: str, baseline: str, ratio: float | None, target: str = "") -> None:
    """Append one row to this run's report, if `python -m bench` asked for one."""
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    row = Row(figure, result, baseline, None if ratio is None else round(ratio, 3), target)
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(row)) + "\n")


def read(path: Path) -> list[Row]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Row(**json.loads(line)) for line in lines if line.strip()]


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table, ready to paste into docs/performance.md."""
    head = "| figure | result | baseline (same run) | ratio | target |\n|---|---|---|---|---|"
    body = [
        f"| {r.figure} | {r.result} | {r.baseline} | "
        f"{'' if r.ratio is None else f'{r.ratio:g}'} | {r.target} |"
        for r in rows
    ]
    return "\n".join([head, *body])
