"""A council without Kafka: it builds its event with the official CloudEvents SDK, POSTs
it to placements' HTTP ingest, and placements applies it from the real broker (the
outbox relay publishes it to ehc.plans.v1, the consumer reads it back)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.v1.event import CloudEvent
from sqlmodel import select

from services.placements.models import NeedRow
from shared.contracts.common import Role
from shared.runtime import ServiceRuntime
from tests.harness import client_for, eventually, make_runtime
from tests.service.placements.builders import requested_data

pytestmark = pytest.mark.integration


@pytest.fixture
async def placements(
    kafka_bootstrap: str, database_url: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[ServiceRuntime]:
    runtime = make_runtime(
        "placements",
        database_url("placements"),
        tmp_path,
        kafka=kafka_bootstrap,
        consumer_group=f"g-http-{tmp_path.name}",
    )
    await runtime.start()
    yield runtime
    await runtime.stop()


async def _needs_of(runtime: ServiceRuntime, child: str) -> list[NeedRow]:
    async with runtime.db.session() as session:
        return list((await session.exec(select(NeedRow).where(NeedRow.child_ref == child))).all())


async def test_an_event_posted_over_http_is_applied_from_the_broker(
    placements: ServiceRuntime, tokens: dict[Role, str]
) -> None:
    child = f"KCC-EHC-{uuid.uuid4().hex[:10].upper()}"
    event = CloudEvent(
        {
            "id": str(uuid.uuid4()),
            "type": "ehc.placement.requested",
            "source": "urn:council:886:send-case-system",
            "subject": child,
            "time": datetime.now(UTC),
            "datacontenttype": "application/json",
        },
        requested_data(child),
    )
    message = ce_http.to_structured_event(event)
    async with client_for(placements, tokens[Role.COUNCIL_SYSTEM]) as client:
        response = await client.post("/ehc-events", content=message.body, headers=message.headers)
        assert response.status_code == 200, response.text
        assert response.json()["results"][0]["status"] == "accepted"

        async def applied() -> bool:
            return len(await _needs_of(placements, child)) == 1

        await eventually(applied, within=30)
        [need] = await _needs_of(placements, child)
        assert need.source_event_id == event.get_id()

        again = await client.post("/ehc-events", content=message.body, headers=message.headers)
        assert again.json()["results"][0]["status"] == "duplicate"
