"""The thin slice with every service its own process: kill -9 the consumer mid-stream,
restart it, and every provider is recorded by monitoring exactly once."""

from __future__ import annotations

import time

import pytest

from shared.contracts.common import Role
from tests.e2e.conftest import RunningStack
from tests.fixtures import provider_body

pytestmark = pytest.mark.e2e


def wait_until(check, within: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within}s")
        time.sleep(0.2)


def test_consumer_killed_mid_stream_converges_without_loss_or_duplicates(
    running_stack: RunningStack, tokens
) -> None:
    registry = running_stack.client("provider_registry", tokens[Role.COMMISSIONER])
    admin = tokens[Role.ADMIN]
    registered: list[str] = []

    def register(count: int, first_urn: int) -> None:
        for urn in range(first_urn, first_urn + count):
            response = registry.post("/providers", json=provider_body(urn=urn))
            assert response.status_code == 201, response.text
            registered.append(response.json()["provider_id"])

    register(10, 400000)
    running_stack.kill("monitoring")  # SIGKILL, wherever it was
    register(10, 400100)
    running_stack.restart("monitoring")
    register(10, 400200)

    monitoring = running_stack.client("monitoring", tokens[Role.MONITORING_OFFICER])
    operator = running_stack.client("monitoring", admin)

    def all_recorded() -> bool:
        seen = [p["provider_id"] for p in monitoring.get("/providers").json()]
        return sorted(seen) == sorted(registered)

    wait_until(all_recorded)

    def caught_up() -> bool:
        lag = operator.get("/admin/status").json()["consumer_lag"]
        return all(topic["lag"] in (0, None) for topic in lag)

    wait_until(caught_up, within=30)
