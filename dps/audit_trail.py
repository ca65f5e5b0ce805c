"""`dps audit`: verify and export every service's audit trail over its auditor routes
(GET /audit/verify, GET /audit/export), so the same command works against a cluster."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx


async def verify_all(clients: Mapping[str, httpx.AsyncClient]) -> dict[str, dict[str, Any]]:
    """Each service's chain verdict; a service that cannot answer is reported, not skipped."""
    verdicts: dict[str, dict[str, Any]] = {}
    for service, client in clients.items():
        try:
            answer = await client.get("/audit/verify", timeout=300)
        except httpx.HTTPError as exc:
            verdicts[service] = {"intact": False, "error": f"unreachable: {exc}"}
            continue
        if answer.status_code != 200:
            verdicts[service] = {"intact": False, "error": f"answered {answer.status_code}"}
        else:
            verdicts[service] = answer.json()
    return verdicts


async def export_one(
    client: httpx.AsyncClient, out: Path, fmt: str, filters: Mapping[str, str]
) -> int:
    """Stream one service's matching rows into `out`; return the lines written."""
    lines = 0
    params = {**filters, "format": fmt}
    async with client.stream("GET", "/audit/export", params=params, timeout=300) as answer:
        if answer.status_code != 200:
            await answer.aread()
            raise RuntimeError(f"answered {answer.status_code}: {answer.text}")
        with out.open("w", encoding="utf-8", newline="") as file:
            async for line in answer.aiter_lines():
                file.write(line + "\n")
                lines += 1
    return lines - 1 if fmt == "csv" else lines  # the CSV header is not a row
