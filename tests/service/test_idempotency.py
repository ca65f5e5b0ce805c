"""Idempotency-Key on every POST (issue 13, "Hostile input"): the same key and request
get the first answer again and nothing twice; a different request under the same key is
a 409; keys belong to one subject; concurrent requests under one key create one thing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from sqlmodel import func, select

from services.provider_registry.models import ProviderRow
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.idempotency import prune
from shared.infra_models import IdempotencyRecord
from shared.runtime import ServiceRuntime
from tests.conftest import TEST_SECRET
from tests.fixtures import provider_body
from tests.harness import client_for, make_runtime


@pytest.fixture
async def registry(
    database_url: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[ServiceRuntime]:
    broker = KafkaBroker()
    runtime = make_runtime(
        "provider_registry", database_url("registry"), tmp_path, shared_broker=broker
    )
    async with TestKafkaBroker(broker):
        await runtime.start()
        try:
            yield runtime
        finally:
            await runtime.stop()


async def _providers(runtime: ServiceRuntime) -> int:
    async with runtime.db.session() as session:
        return int((await session.exec(select(func.count()).select_from(ProviderRow))).one())


def _key(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def test_the_same_key_and_body_get_the_first_answer_again(
    registry: ServiceRuntime, tokens: dict[Role, str]
) -> None:
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        first = await client.post("/providers", json=provider_body(), headers=_key("k-1"))
        again = await client.post("/providers", json=provider_body(), headers=_key("k-1"))
        unkeyed = await client.post("/providers", json=provider_body())
    assert first.status_code == 201
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.headers["content-type"] == "application/json"
    assert "Idempotency-Replayed" not in first.headers
    assert unkeyed.status_code == 409  # without a key the URN is simply registered already
    assert await _providers(registry) == 1


async def test_the_same_key_with_another_body_is_a_409(
    registry: ServiceRuntime, tokens: dict[Role, str]
) -> None:
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        await client.post("/providers", json=provider_body(111111), headers=_key("k-2"))
        other = await client.post("/providers", json=provider_body(222222), headers=_key("k-2"))
    assert other.status_code == 409
    [error] = other.json()["detail"]
    assert (error["field"], error["rule"]) == ("Idempotency-Key", "reused")
    assert "different request" in error["message"]
    assert await _providers(registry) == 1


async def test_keys_belong_to_one_subject(
    registry: ServiceRuntime, tokens: dict[Role, str]
) -> None:
    someone_else = issue_token(TEST_SECRET, Role.COMMISSIONER, subject="another-officer")
    async with client_for(registry, tokens[Role.COMMISSIONER]) as mine:
        first = await mine.post("/providers", json=provider_body(333333), headers=_key("k-3"))
    async with client_for(registry, someone_else) as theirs:
        # Their key is theirs: not my answer replayed, their own request served.
        second = await theirs.post("/providers", json=provider_body(444444), headers=_key("k-3"))
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["provider_id"] != second.json()["provider_id"]


async def test_concurrent_requests_with_one_key_create_one_thing(
    registry: ServiceRuntime, tokens: dict[Role, str]
) -> None:
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        answers = await asyncio.gather(
            *(
                client.post("/providers", json=provider_body(555555), headers=_key("k-4"))
                for _ in range(4)
            )
        )
    codes = sorted(a.status_code for a in answers)
    created = [a for a in answers if a.status_code == 201]
    assert codes.count(201) >= 1 and set(codes) <= {201, 409}, codes
    assert len({a.json()["provider_id"] for a in created}) == 1  # replays of one create
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json()["detail"][0]["rule"] == "in_progress"
        assert refused.headers["Retry-After"] == "1"
    assert await _providers(registry) == 1


async def test_a_refused_request_is_replayed_but_a_bad_key_is_a_422(
    registry: ServiceRuntime, tokens: dict[Role, str]
) -> None:
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        invalid = await client.post("/providers", json={"urn": 1}, headers=_key("k-5"))
        replayed = await client.post("/providers", json={"urn": 1}, headers=_key("k-5"))
        bad_key = await client.post("/providers", json=provider_body(), headers=_key("two words"))
        long_key = await client.post("/providers", json=provider_body(), headers=_key("k" * 256))
    assert (invalid.status_code, replayed.status_code) == (422, 422)
    assert replayed.json() == invalid.json()
    for response in (bad_key, long_key):
        assert response.status_code == 422
        assert response.json()["detail"][0]["field"] == "Idempotency-Key"
    assert await _providers(registry) == 0


async def test_keys_are_pruned_after_their_retention(
    registry: ServiceRuntime, tokens: dict[Role, str]
) -> None:
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        await client.post("/providers", json=provider_body(666666), headers=_key("k-6"))
    assert await prune(registry.db, timedelta(hours=1)) == 0
    assert await prune(registry.db, timedelta(seconds=0)) == 1
    async with registry.db.session() as session:
        assert (await session.exec(select(IdempotencyRecord))).all() == []
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        # The key is free again: this is a new request (the URN is registered already).
        reused = await client.post("/providers", json=provider_body(777777), headers=_key("k-6"))
    assert reused.status_code == 201


async def test_get_requests_ignore_the_header(
    registry: ServiceRuntime, tokens: dict[Role, str]
) -> None:
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        for _ in range(2):
            response = await client.get("/providers", headers=_key("k-7"))
            assert response.status_code == 200
            assert "Idempotency-Replayed" not in response.headers
    async with registry.db.session() as session:
        assert (await session.exec(select(IdempotencyRecord))).all() == []


def test_the_table_has_the_primary_key_that_makes_claims_exclusive() -> None:
    assert [c.name for c in IdempotencyRecord.__table__.primary_key] == ["subject", "key"]  # type: ignore[attr-defined]
