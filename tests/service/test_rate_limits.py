"""Rate limits (issue 13, "Hostile input"): failed authentications per client address and
writes per client, each a 429 with Retry-After, and lifted when the window moves on."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from prometheus_client import REGISTRY

from dps import processes
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.runtime import ServiceRuntime
from shared.settings import settings_for
from tests.conftest import TEST_SECRET
from tests.fixtures import provider_body
from tests.harness import make_runtime


def _client(runtime: ServiceRuntime, address: str = "192.0.2.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=runtime.build_app(), client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_failed_authentications_block_the_address_until_the_window_moves_on(
    tmp_path: Path, tokens: dict[Role, str]
) -> None:
    runtime = make_runtime(
        "provider_registry",
        "sqlite+aiosqlite://",
        tmp_path,
        rate_limit_auth_failures="3 per 2 seconds",
    )
    app = runtime.build_app()
    attacker = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("192.0.2.1", 1)), base_url="http://t"
    )
    neighbour = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("192.0.2.2", 1)), base_url="http://t"
    )
    async with attacker, neighbour:
        guesses = [
            (await attacker.get("/providers", headers=_bearer(f"guess-{i}"))).status_code
            for i in range(3)
        ]
        blocked = await attacker.get("/providers", headers=_bearer(tokens[Role.ADMIN]))
        probe = await attacker.get("/healthz")
        other = await neighbour.get("/providers", headers=_bearer("guess"))
        await asyncio.sleep(int(blocked.headers["Retry-After"]) + 0.1)
        after = await attacker.get("/providers", headers=_bearer("another-guess"))
    assert guesses == [401, 401, 401]
    # Past the limit even a good token is refused: the address may not try any more.
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 2
    assert "failed authentications" in blocked.json()["detail"]
    assert blocked.headers["x-content-type-options"] == "nosniff"
    assert (probe.status_code, other.status_code) == (200, 401)
    assert after.status_code == 401  # let through again, to authentication


@pytest.mark.parametrize(("trusted", "limited"), [(True, False), (False, True)])
async def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(
    tmp_path: Path, trusted: bool, limited: bool
) -> None:
    runtime = make_runtime(
        "provider_registry",
        "sqlite+aiosqlite://",
        tmp_path,
        rate_limit_auth_failures="1 per minute",
        trust_forwarded_for=trusted,
    )
    async with _client(runtime, "10.0.0.1") as proxy:  # every client comes through it
        for client_address in ("198.51.100.1", "198.51.100.2"):
            headers = {"X-Forwarded-For": f"spoofed, {client_address}", **_bearer("bad")}
            response = await proxy.get("/providers", headers=headers)
    assert (response.status_code == 429) is limited


async def test_writes_per_client_are_limited_and_reads_are_not(
    tmp_path: Path, tokens: dict[Role, str]
) -> None:
    broker = KafkaBroker()
    runtime = make_runtime(
        "provider_registry",
        f"sqlite+aiosqlite:///{tmp_path}/r.db",
        tmp_path,
        shared_broker=broker,
        rate_limit_writes="2 per 2 seconds",
    )
    other = issue_token(TEST_SECRET, Role.COMMISSIONER, subject="another-officer")
    async with TestKafkaBroker(broker):
        await runtime.start()
        try:
            async with _client(runtime) as client:
                me = _bearer(tokens[Role.COMMISSIONER])
                made = [
                    (await client.post("/providers", json=provider_body(100000 + i), headers=me))
                    for i in range(2)
                ]
                refused = await client.post("/providers", json=provider_body(100009), headers=me)
                read = await client.get("/providers", headers=me)
                theirs = await client.post(
                    "/providers", json=provider_body(100010), headers=_bearer(other)
                )
                await asyncio.sleep(int(refused.headers["Retry-After"]) + 0.1)
                again = await client.post("/providers", json=provider_body(100011), headers=me)
        finally:
            await runtime.stop()
    assert [r.status_code for r in made] == [201, 201]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    assert "writes by this client" in refused.json()["detail"]
    assert (read.status_code, theirs.status_code, again.status_code) == (200, 201, 201)


def test_a_rate_that_is_not_one_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="rate_limit_writes"):
        settings_for("placements", rate_limit_writes="as many as you like")


@pytest.fixture
def redis_uri(tmp_path: Path) -> Iterator[str]:
    """A real Redis server on a free port (Debian's redis-server; .ci/run installs it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = processes.free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not processes.port_open("127.0.0.1", port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


async def test_replicas_share_their_counters_through_redis(redis_uri: str, tmp_path: Path) -> None:
    replicas = [
        make_runtime(
            "provider_registry",
            "sqlite+aiosqlite://",
            tmp_path,
            rate_limit_auth_failures="2 per minute",
            rate_limit_storage_uri=redis_uri,
        )
        for _ in range(2)
    ]
    first, second = (_client(replica) for replica in replicas)
    async with first, second:
        one = await first.get("/providers", headers=_bearer("guess-1"))
        two = await second.get("/providers", headers=_bearer("guess-2"))
        three = await first.get("/providers", headers=_bearer("guess-3"))
    assert (one.status_code, two.status_code) == (401, 401)
    assert three.status_code == 429  # each replica saw one failure; together, two
    assert 1 <= int(three.headers["Retry-After"]) <= 60


async def test_an_unreachable_counter_store_never_stops_the_service(tmp_path: Path) -> None:
    """The limits are a brake, not a gate: with Redis down requests are answered as usual
    (not 5xx) and the skipped checks are counted."""
    runtime = make_runtime(
        "provider_registry",
        "sqlite+aiosqlite://",
        tmp_path,
        rate_limit_auth_failures="1 per minute",
        rate_limit_storage_uri="redis://127.0.0.1:1/0",  # nothing listens on port 1
    )
    before = REGISTRY.get_sample_value(
        "dps_rate_limit_store_errors_total", {"service": "provider_registry"}
    )
    async with _client(runtime) as client:
        answers = [await client.get("/providers", headers=_bearer("guess")) for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 401]
    after = REGISTRY.get_sample_value(
        "dps_rate_limit_store_errors_total", {"service": "provider_registry"}
    )
    assert (after or 0) - (before or 0) >= 3
