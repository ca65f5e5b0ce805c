"""A council without Kafka: it builds its event with the official CloudEvents SDK, POSTs
it to placements' HTTP ingest, and placements applies it from the real broker (the
outbox relay publishes it to ehc.plans.v1, the consumer reads it back)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.v1.event import CloudEvent

from shared.contracts.common import Role
from shared.runtime import ServiceRuntime
from tests.harness import client_for, eventually
from tests.integration.placements.conftest import needs_of
from tests.service.placements.builders import requested_data

pytestmark = pytest.mark.integration


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
            return len(await needs_of(placements, child)) == 1

        await eventually(applied, within=30)
        [need] = await needs_of(placements, child)
        assert need.source_event_id == event.get_id()

        again = await client.post("/ehc-events", content=message.body, headers=message.headers)
        assert again.json()["results"][0]["status"] == "duplicate"
