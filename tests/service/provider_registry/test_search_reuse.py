"""A search reuses the providers and views it built for unchanged records (store
`_built`, bodies `search_view`): whatever it reuses, its answer is the one built afresh
would be, after a change to a record, for each kind of caller and on each day."""

from __future__ import annotations

from datetime import date

import httpx

from services.provider_registry import domain, store
from services.provider_registry.api import bodies, search
from services.provider_registry.api.bodies import search_view
from shared.contracts.common import Role
from shared.runtime import ServiceRuntime
from shared.unit_of_work import Actor
from tests.harness import client_for
from tests.service.provider_registry.conftest import provider_token, register

SEARCH = {"need": "ASD", "near": "ME14 1XX", "within_km": 40}
PRIVATE = {"capacity", "places_in_use", "documents", "documents_valid"}


async def _found(client: httpx.AsyncClient) -> dict[str, dict]:
    response = await client.get("/providers", params=SEARCH)
    assert response.status_code == 200, response.text
    return {hit["provider"]["provider_id"]: hit["provider"] for hit in response.json()["items"]}


async def test_a_changed_record_is_answered_as_changed(
    registry: ServiceRuntime, commissioner
) -> None:
    first = await register(commissioner, urn=420001)
    second = await register(commissioner, urn=420002, name="Beech House")
    before = await _found(commissioner)
    assert before == await _found(commissioner)  # reused, and the same answer
    changed = await commissioner.patch(f"/providers/{first}", json={"capacity": 75})
    assert changed.status_code == 200, changed.text
    moved = await commissioner.post(
        f"/providers/{second}/status", json={"status": "active", "reason": "admitted"}
    )
    assert moved.status_code == 200, moved.text
    after = await _found(commissioner)
    assert after[first]["capacity"] == 75 and before[first]["capacity"] == 60
    assert after[second]["status"] == "active" and before[second]["status"] == "registered"
    assert after[first] == (await commissioner.get(f"/providers/{first}")).json()
    assert after[second] == (await commissioner.get(f"/providers/{second}")).json()


async def test_each_caller_gets_its_own_view_of_a_reused_record(
    registry: ServiceRuntime, commissioner
) -> None:
    own = await register(commissioner, urn=420011)
    other = await register(commissioner, urn=420012)
    full = await _found(commissioner)  # the council's full records, built first
    assert not PRIVATE - set(full[other])
    async with client_for(registry, provider_token(own)) as client:
        seen = await _found(client)
    assert seen[own] == full[own]  # its own record in full
    assert PRIVATE.isdisjoint(seen[other]), seen[other]  # a competitor's public fields
    assert await _found(commissioner) == full  # and the council's still in full


async def _provider(registry: ServiceRuntime, provider_id: str) -> domain.Provider:
    """The provider as a search reads it (the object a repeated search reuses)."""
    everything = domain.ProviderSearch(
        need_types=frozenset(),
        age=None,
        attendance=None,
        statuses=frozenset(),
        minimum_judgement=None,
        near=None,
        within_km=None,
    )
    async with registry.db.session() as session:
        _, page = await store.page_by_name(session, everything, 200, 0)
    return next(provider for provider, _ in page if provider.provider_id == provider_id)


async def test_a_reused_view_is_of_its_day_and_its_caller(
    registry: ServiceRuntime, commissioner
) -> None:
    provider_id = await register(commissioner, urn=420021)  # documents expire 2030-01-01
    provider = await _provider(registry, provider_id)
    assert provider is await _provider(registry, provider_id)  # the record is unchanged
    council = Actor(id="c", role=Role.COMMISSIONER.value)
    on_time = search_view(provider, council, date(2029, 12, 31))
    assert search_view(provider, council, date(2029, 12, 31)) is on_time  # reused
    expired = search_view(provider, council, date(2030, 1, 2))
    assert on_time.documents_valid and not expired.documents_valid
    stranger = Actor(id="p", role=Role.PROVIDER.value, provider_id="another")
    public = search_view(provider, stranger, date(2029, 12, 31))
    assert PRIVATE.isdisjoint(public.model_dump()), public
    assert search_view(provider, council, date(2029, 12, 31)) is on_time


async def test_reuse_is_bounded(registry: ServiceRuntime, commissioner, monkeypatch) -> None:
    monkeypatch.setattr(bodies, "_SEARCH_VIEWS_MAX", 3)
    monkeypatch.setattr(store, "_BUILT_MAX", 3)
    monkeypatch.setattr(search.PAGES, "get", lambda state, key: None)  # pages built afresh
    for n in range(5):
        await register(commissioner, urn=420031 + n)
    assert len(await _found(commissioner)) == 5
    assert 0 < len(store._built) <= 3 and 0 < len(bodies._search_views) <= 3
    assert len(await _found(commissioner)) == 5  # and answers the same after emptying
