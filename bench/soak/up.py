"""`dps up` exactly as `make up` runs it, except that each service may be given its own
database URL (`DPS_SOAK_DATABASE_URLS`, a JSON object service -> URL).

`dps up` has no option for per-service database URLs (StackPlan.database_urls is only
reachable from Python), so the PostgreSQL soak runs the same CLI entry point with the
plan's default filled in; with the variable unset this is `dps up` itself.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import dps.stack

URLS: dict[str, str] = json.loads(os.environ.get("DPS_SOAK_DATABASE_URLS") or "{}")


@dataclass
class SoakPlan(dps.stack.StackPlan):
    def __post_init__(self) -> None:
        self.database_urls = {**URLS, **self.database_urls}


dps.stack.StackPlan = SoakPlan  # type: ignore[misc]

if __name__ == "__main__":
    from dps.cli import app

    app(prog_name="dps")
