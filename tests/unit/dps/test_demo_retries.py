"""The demo's calls live through a service restarted mid-load by `dps up`'s supervisor:
a connection error is tried again under the same Idempotency-Key, and a key left claimed
by the dead process (409 in_progress) is replaced by a fresh one."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dps import demo


def _demo(handler: Any) -> demo.Demo:
    loaded = demo.Demo(
        seed=1, scale=0.01, urls={"placements": "http://placements"}, secret="x" * 40
    )
    loaded._clients["placements"] = httpx.AsyncClient(
        base_url="http://placements", transport=httpx.MockTransport(handler)
    )
    return loaded


async def test_a_dropped_connection_then_a_dead_claim_still_writes_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(demo.asyncio, "sleep", _no_wait)
    keys: list[str] = []

    def service(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["Idempotency-Key"])
        if len(keys) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        if len(keys) == 2:
            body = {"detail": [{"field": "Idempotency-Key", "rule": "in_progress"}]}
            return httpx.Response(409, json=body)
        return httpx.Response(201, json={"placement_id": "pl-1"})

    answer = await _demo(service).call("placements", "POST", "/placements/import", expect=(201,))
    assert answer == {"placement_id": "pl-1"}
    assert keys[0] == keys[1] != keys[2]  # the same key retried, then a fresh one


async def test_a_real_conflict_is_not_retried() -> None:
    calls: list[int] = []

    def service(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(409, json={"detail": [{"field": "urn", "rule": "duplicate"}]})

    with pytest.raises(RuntimeError, match="409"):
        await _demo(service).call("placements", "POST", "/placements/import", expect=(201,))
    assert calls == [1]


async def _no_wait(_seconds: float) -> None:
    return None
