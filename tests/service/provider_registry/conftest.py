"""A provider_registry runtime on FastStream's in-memory broker, and small helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from sqlmodel import func, select

from shared.auth import issue_token
from shared.contracts.common import Role
from shared.infra_models import OutboxMessage
from shared.outbox import pending_count
from shared.runtime import ServiceRuntime
from tests.conftest import TEST_SECRET
from tests.fixtures import provider_body
from tests.harness import client_for, eventually, make_runtime


@pytest.fixture
async def broker_and_registry(
    database_url: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[tuple[KafkaBroker, ServiceRuntime]]:
    broker = KafkaBroker()
    registry = make_runtime(
        "provider_registry", database_url("registry"), tmp_path, shared_broker=broker
    )
    async with TestKafkaBroker(broker):
        await registry.start()
        yield broker, registry
        # Let the relay finish publishing first: stopping it in the middle of a
        # publish to the in-memory broker has been seen to hang the teardown.
        await eventually(lambda: _drained(registry))
        await registry.stop()


async def _drained(runtime: ServiceRuntime) -> bool:
    return await pending_count(runtime.db) == 0


@pytest.fixture
def registry(broker_and_registry: tuple[KafkaBroker, ServiceRuntime]) -> ServiceRuntime:
    return broker_and_registry[1]


@pytest.fixture
async def commissioner(
    registry: ServiceRuntime, tokens: dict[Role, str]
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        yield client


def provider_token(provider_id: str) -> str:
    return issue_token(TEST_SECRET, Role.PROVIDER, provider_id=provider_id)


async def register(client: httpx.AsyncClient, urn: int = 123456, **overrides: Any) -> str:
    response = await client.post("/providers", json=provider_body(urn=urn, **overrides))
    assert response.status_code == 201, response.text
    return str(response.json()["provider_id"])


async def outbox_types(runtime: ServiceRuntime) -> list[str]:
    async with runtime.db.session() as session:
        rows = await session.exec(select(OutboxMessage).order_by(OutboxMessage.seq))
        return [row.event_type for row in rows.all() if row.topic == "providers.v1"]


async def count(runtime: ServiceRuntime, model: type) -> int:
    async with runtime.db.session() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


def fields_of(response: httpx.Response) -> set[str]:
    return {error["field"] for error in response.json()["detail"]}
