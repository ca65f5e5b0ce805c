"""What a provider may see of others, and who sets compliance documents' expiry."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from dps.services import definition_of
from services.provider_registry.models import ProviderRow, draft_from_json
from shared.contracts.common import Role
from shared.db import migrate
from shared.infra_models import AuditEntry
from shared.runtime import ServiceRuntime
from tests.harness import client_for
from tests.service.procurement.test_retitle_migration import downgrade
from tests.service.provider_registry.conftest import outbox_types, provider_token, register

PRIVATE = {"capacity", "places_in_use", "documents", "documents_valid"}


async def test_a_provider_sees_its_own_record_in_full_and_others_public_fields_only(
    registry: ServiceRuntime, commissioner
) -> None:
    own = await register(commissioner, urn=410001)
    other = await register(commissioner, urn=410002)
    async with client_for(registry, provider_token(own)) as client:
        mine = (await client.get(f"/providers/{own}")).json()
        theirs = (await client.get(f"/providers/{other}")).json()
        found = (await client.get("/providers")).json()["items"]
        own_history = await client.get(f"/providers/{own}/status-changes")
        their_history = await client.get(f"/providers/{other}/status-changes")
    assert mine["capacity"] == 60 and len(mine["documents"]) == 3
    assert theirs["name"] == "Oakfield School" and theirs["status"] == "registered"
    assert PRIVATE.isdisjoint(theirs), theirs
    by_id = {hit["provider"]["provider_id"]: hit["provider"] for hit in found}
    assert by_id[own]["capacity"] == 60 and PRIVATE.isdisjoint(by_id[other])
    assert own_history.status_code == 200
    assert their_history.status_code == 403  # status reasons are not competitors'
    async with client_for(registry, provider_token(other)) as client:
        assert PRIVATE.isdisjoint((await client.get(f"/providers/{own}")).json())


async def test_a_provider_proposes_a_document_and_an_officer_verifies_it_and_sets_expiry(
    registry: ServiceRuntime, commissioner, tokens
) -> None:
    provider_id = await register(commissioner, urn=410003)
    url = f"/providers/{provider_id}"
    proposal = {"kind": "insurance", "expires_on": "2040-12-31", "reference": "ins-2040.pdf"}
    async with client_for(registry, provider_token(provider_id)) as provider:
        proposed = await provider.patch(url, json={"documents": [proposal]})
        assert proposed.status_code == 200, proposed.text
        record = proposed.json()
        # The verified documents are as they were: the provider's expiry counts for nothing.
        assert {d["expires_on"] for d in record["documents"]} == {"2030-01-01"}
        assert len(record["documents"]) == 3
        assert record["documents_awaiting_verification"] == [
            {"kind": "insurance", "proposed_expires_on": "2040-12-31", "reference": "ins-2040.pdf"}
        ]
        self_verified = await provider.post(
            f"{url}/documents/insurance/verification", json={"expires_on": "2040-12-31"}
        )
        assert self_verified.status_code == 403
    async with client_for(registry, tokens[Role.MONITORING_OFFICER]) as officer:
        verified = await officer.post(
            f"{url}/documents/insurance/verification", json={"expires_on": "2031-06-30"}
        )
        assert verified.status_code == 200, verified.text
        again = await officer.post(
            f"{url}/documents/insurance/verification", json={"expires_on": "2031-06-30"}
        )
        assert again.status_code == 409 and again.json()["detail"][0]["field"] == "kind"
    insurance = [d for d in verified.json()["documents"] if d["kind"] == "insurance"]
    assert insurance == [{"kind": "insurance", "expires_on": "2031-06-30"}]  # the officer's
    assert verified.json()["documents_awaiting_verification"] == []
    assert (await outbox_types(registry))[-2:] == ["provider.updated", "provider.updated"]
    async with registry.db.session() as session:
        audit = (
            await session.exec(
                select(AuditEntry).where(AuditEntry.action == "provider.document_verified")
            )
        ).one()
    assert (audit.actor, audit.role) == ("dev-monitoring_officer", "monitoring_officer")


async def test_a_provider_cannot_move_or_remove_a_verified_expiry(
    registry: ServiceRuntime, commissioner
) -> None:
    provider_id = await register(commissioner, urn=410004)
    async with client_for(registry, provider_token(provider_id)) as provider:
        emptied = await provider.patch(f"/providers/{provider_id}", json={"documents": []})
    assert emptied.status_code == 200
    assert len(emptied.json()["documents"]) == 3 and emptied.json()["documents_valid"] is True


async def test_migration_0007_keeps_documents_held_before_it_verified(
    registry: ServiceRuntime, commissioner
) -> None:
    provider_id = await register(commissioner, urn=410005)
    async with client_for(registry, provider_token(provider_id)) as provider:
        proposal = {"kind": "insurance", "expires_on": "2040-01-01"}
        await provider.patch(f"/providers/{provider_id}", json={"documents": [proposal]})
    migrations = definition_of("provider_registry").migrations_dir
    await asyncio.to_thread(downgrade, registry.db.url, migrations, "0006")
    await asyncio.to_thread(migrate, registry.db.url, migrations)
    async with registry.db.session() as session:
        documents = draft_from_json((await session.get(ProviderRow, provider_id)).details).documents
    assert {d.verified_by for d in documents} == {"before-0007"}  # proposals were dropped
    assert len(documents) == 3
