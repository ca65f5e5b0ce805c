"""Idempotency-Key on every POST (issue 13, "Hostile input"): the same key and request
get the first answer again and nothing twice; a different request under the same key is
a 409; keys belong to one subject; concurrent requests under one key create one thing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import httpx
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


async def _register_then_fail(
    registry: ServiceRuntime, tokens: dict[Role, str], key: str, monkeypatch: pytest.MonkeyPatch
) -> int:
    """POST a provider whose change commits and whose answer then fails (a 500)."""
    from services.provider_registry.api import providers

    def broken_view(*_args: object) -> object:
        raise RuntimeError("the process failed after the commit")

    transport = httpx.ASGITransport(app=registry.build_app(), raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {tokens[Role.COMMISSIONER]}", **_key(key)}
    with monkeypatch.context() as patch:
        patch.setattr(providers, "view", broken_view)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            failed = await client.post("/providers", json=provider_body(888888), headers=headers)
    return failed.status_code


async def _claim(runtime: ServiceRuntime, key: str) -> IdempotencyRecord:
    async with runtime.db.session() as session:
        rows = await session.exec(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
        return rows.one()


async def _as_a_crash_leaves_it(
    runtime: ServiceRuntime, key: str, age: timedelta, *, changed: bool = True
) -> None:
    """No answer kept, claimed `age` ago (what a kill -9 mid-request leaves); `changed`:
    whether it died after its change committed."""
    from shared.infra_models import utcnow

    async with runtime.db.transaction() as session:
        rows = await session.exec(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
        row = rows.one()
        row.status_code = row.content_type = row.response_body = None
        row.created_at = utcnow() - age
        if not changed:
            row.committed_at = None


async def test_a_request_that_failed_after_its_change_is_never_carried_out_again(
    registry: ServiceRuntime, tokens: dict[Role, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await _register_then_fail(registry, tokens, "k-8", monkeypatch) == 500
    assert await _providers(registry) == 1  # the change was committed
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        again = await client.post("/providers", json=provider_body(888888), headers=_key("k-8"))
    assert again.status_code == 409
    [error] = again.json()["detail"]
    assert (error["field"], error["rule"]) == ("Idempotency-Key", "answer_lost")
    assert "will not be carried out again" in error["message"]
    assert await _providers(registry) == 1


async def test_a_request_killed_between_its_commit_and_its_answer_is_not_carried_out_twice(
    registry: ServiceRuntime, tokens: dict[Role, str]
) -> None:
    """What the soak found (docs/reliability.md): the process dies after the commit and
    before the answer is stored. The claim stays "in progress" for STALE_CLAIM, then the
    retry is told the request was carried out instead of carrying it out again."""
    from shared.idempotency import STALE_CLAIM

    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        first = await client.post("/providers", json=provider_body(999999), headers=_key("k-9"))
        assert first.status_code == 201
        assert (await _claim(registry, "k-9")).committed_at is not None  # in the change's commit
        await _as_a_crash_leaves_it(registry, "k-9", STALE_CLAIM / 2)
        early = await client.post("/providers", json=provider_body(999999), headers=_key("k-9"))
        await _as_a_crash_leaves_it(registry, "k-9", STALE_CLAIM * 2)
        late = await client.post("/providers", json=provider_body(999999), headers=_key("k-9"))
    assert early.json()["detail"][0]["rule"] == "in_progress"  # it may still be answering
    assert late.status_code == 409
    assert late.json()["detail"][0]["rule"] == "answer_lost"
    assert await _providers(registry) == 1


async def test_a_claim_abandoned_before_any_change_is_served_again(
    registry: ServiceRuntime, tokens: dict[Role, str]
) -> None:
    """A process that died before committing anything leaves a claim with no change: after
    STALE_CLAIM the retry is carried out (once)."""
    from shared.idempotency import STALE_CLAIM

    body = provider_body(121212)
    async with client_for(registry, tokens[Role.COMMISSIONER]) as client:
        first = await client.post("/providers", json=body, headers=_key("k-10"))
        await _as_a_crash_leaves_it(registry, "k-10", STALE_CLAIM * 2, changed=False)
        # The provider from `first` exists, so the re-run is refused as a duplicate URN,
        # which shows it was carried out again (and not answered from the claim).
        again = await client.post("/providers", json=body, headers=_key("k-10"))
    assert first.status_code == 201
    assert again.status_code == 409
    assert "Idempotency-Replayed" not in again.headers
    assert again.json()["detail"][0].get("field") != "Idempotency-Key"
