"""A search page is answered again only while the register is unchanged: the database
raises the register's version on every change to a provider row, whoever makes it (the
service's own writes, another replica's, or SQL typed by hand), and a page is kept by
that version, the query, the day and who may see what."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import pytest
from sqlalchemy import text

from services.provider_registry import store
from services.provider_registry.api import search
from shared.runtime import ServiceRuntime
from tests.harness import client_for
from tests.service.provider_registry.conftest import provider_token, register

SEARCH = {"need": "ASD", "near": "ME14 1XX", "within_km": 40}
PRIVATE = {"capacity", "places_in_use", "documents", "documents_valid"}


async def _state(registry: ServiceRuntime) -> store.RegisterState:
    async with registry.db.session() as session:
        state = await store.register_state(session)
    assert state is not None
    return state


async def _page(client: httpx.AsyncClient, **params: object) -> dict:
    response = await client.get("/providers", params={**SEARCH, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


async def _sql(registry: ServiceRuntime, statement: str, **values: object) -> None:
    async with registry.db.transaction() as session:
        await session.execute(text(statement), values)


async def test_every_change_to_a_provider_row_raises_the_version(
    registry: ServiceRuntime, commissioner
) -> None:
    epoch, version = await _state(registry)
    provider_id = await register(commissioner, urn=430001)  # insert
    assert (await _state(registry))[1] > version
    for change in (
        "UPDATE provider SET capacity = 61 WHERE id = :id",
        "DELETE FROM provider WHERE id = :id",
    ):
        before = (await _state(registry))[1]
        await _sql(registry, change, id=provider_id)
        after = await _state(registry)
        assert after == (epoch, before + 1), change
    untouched = (await _state(registry))[1]
    await _sql(registry, "UPDATE provider SET capacity = 1 WHERE id = 'no-such-provider'")
    assert (await _state(registry))[1] == untouched  # no row changed, no new version


async def test_a_page_is_answered_again_until_a_provider_changes_by_any_means(
    registry: ServiceRuntime, commissioner
) -> None:
    first = await register(commissioner, urn=430011)
    await register(commissioner, urn=430012, name="Beech House")
    before = await _page(commissioner)
    state = await _state(registry)
    assert search.PAGES.version == state and search.PAGES.answers  # kept
    assert await _page(commissioner) == before
    # Another process's write, as a replica or an operator would make it.
    await _sql(registry, "UPDATE provider SET status = 'suspended' WHERE id = :id", id=first)
    suspended = await _page(commissioner)
    statuses = {h["provider"]["provider_id"]: h["provider"]["status"] for h in suspended["items"]}
    assert statuses[first] == "suspended" and suspended != before
    # The service's own write.
    changed = await commissioner.patch(f"/providers/{first}", json={"capacity": 75})
    assert changed.status_code == 200, changed.text
    after = await _page(commissioner)
    hit = next(h["provider"] for h in after["items"] if h["provider"]["provider_id"] == first)
    assert hit == changed.json()
    # Removed by hand: gone from the page at once.
    await _sql(registry, "DELETE FROM provider WHERE id = :id", id=first)
    gone = await _page(commissioner)
    assert first not in {h["provider"]["provider_id"] for h in gone["items"]}
    assert gone["total"] == after["total"] - 1


async def test_a_kept_page_is_of_its_query_and_its_caller(
    registry: ServiceRuntime, commissioner
) -> None:
    own = await register(commissioner, urn=430021)
    other = await register(commissioner, urn=430022)
    full = await _page(commissioner)  # the council's page, kept first
    async with client_for(registry, provider_token(own)) as client:
        seen = {h["provider"]["provider_id"]: h["provider"] for h in (await _page(client))["items"]}
    assert not PRIVATE - set(seen[own])  # its own record in full
    assert PRIVATE.isdisjoint(seen[other])  # a competitor's public fields only
    async with client_for(registry, provider_token(other)) as client:
        theirs = {
            h["provider"]["provider_id"]: h["provider"] for h in (await _page(client))["items"]
        }
    assert PRIVATE.isdisjoint(theirs[own]) and not PRIVATE - set(theirs[other])
    assert (await _page(commissioner, limit=1))["items"] == full["items"][:1]
    assert (await _page(commissioner, offset=1))["items"] == full["items"][1:]
    assert (await _page(commissioner, need="SEMH"))["total"] == 0
    assert await _page(commissioner) == full


async def test_a_kept_page_is_of_its_day(
    registry: ServiceRuntime, commissioner, monkeypatch: pytest.MonkeyPatch
) -> None:
    await register(commissioner, urn=430031)  # its documents expire on 2030-01-01

    class Day(date):
        today_is = date(2029, 12, 31)

        @classmethod
        def today(cls) -> date:
            return cls.today_is

    monkeypatch.setattr(search, "date", Day)
    valid = (await _page(commissioner))["items"][0]["provider"]["documents_valid"]
    Day.today_is = date(2030, 1, 2)
    expired = (await _page(commissioner))["items"][0]["provider"]["documents_valid"]
    assert valid and not expired


async def test_concurrent_changes_all_commit_and_each_raises_the_version(
    registry: ServiceRuntime, commissioner
) -> None:
    """Two writers changing providers at once (two replicas, or a consumer and an
    officer): neither waits for the other until it commits, so neither deadlocks."""
    if registry.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: nothing can interleave")
    ids = [await register(commissioner, urn=430041 + n) for n in range(2)]
    _, version = await _state(registry)
    update = text("UPDATE provider SET capacity = capacity + 1 WHERE id = :id")
    async with registry.db.engine.connect() as a, registry.db.engine.connect() as b:
        await a.begin()
        await b.begin()
        await asyncio.wait_for(a.execute(update, {"id": ids[0]}), 10)
        await asyncio.wait_for(b.execute(update, {"id": ids[1]}), 10)
        # a now waits for b's row; b must not wait for a (as it would for a version
        # row a had raised already): b commits, then a.
        waiting = asyncio.ensure_future(a.execute(update, {"id": ids[1]}))
        await asyncio.wait_for(b.commit(), 10)
        await asyncio.wait_for(waiting, 10)
        await asyncio.wait_for(a.commit(), 10)
    assert (await _state(registry))[1] == version + 3
