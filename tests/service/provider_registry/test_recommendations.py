"""quality.v1 suspension recommendations arrive over FastStream's test broker, wait as
pending (never suspending on their own) and are accepted or rejected by a commissioner."""

from __future__ import annotations

from datetime import UTC, datetime

from faststream.kafka import KafkaBroker
from sqlmodel import select

from services.provider_registry.models import RecommendationRow
from shared.contracts import quality_v1
from shared.contracts.common import Role
from shared.envelope import Envelope, new_event
from shared.infra_models import DeadLetter, InboxEntry
from shared.runtime import ServiceRuntime
from tests.harness import client_for, eventually
from tests.service.provider_registry.conftest import count, outbox_types, register


def recommendation(provider_id: str, recommendation_id: str = "rec-1") -> Envelope:
    payload = quality_v1.SuspensionRecommended(
        recommendation_id=recommendation_id,
        provider_id=provider_id,
        reasons=["two critical safeguarding alerts in 30 days"],
        alert_ids=["a-1", "a-2"],
        recommended_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    )
    return new_event(
        payload.TYPE,
        source="dps/monitoring",
        subject=provider_id,
        data=payload,
        topic=quality_v1.TOPIC,
    )


async def deliver(broker: KafkaBroker, envelope: Envelope) -> None:
    await broker.publish(envelope.to_bytes(), quality_v1.TOPIC, key=envelope.subject.encode())


async def _stored(runtime: ServiceRuntime, expected: int) -> bool:
    return await count(runtime, RecommendationRow) == expected


async def _active_provider(client) -> str:
    provider_id = await register(client)
    response = await client.post(
        f"/providers/{provider_id}/status", json={"status": "active", "reason": "admitted"}
    )
    assert response.status_code == 200
    return provider_id


async def test_recommendation_is_stored_pending_and_provider_untouched(
    broker_and_registry, commissioner
) -> None:
    broker, registry = broker_and_registry
    provider_id = await _active_provider(commissioner)
    event = recommendation(provider_id)
    await deliver(broker, event)
    await eventually(lambda: _stored(registry, 1))
    await deliver(broker, event)  # redelivered: applied once
    await deliver(broker, recommendation(provider_id))  # same id, new event id
    assert await count(registry, RecommendationRow) == 1
    assert await count(registry, InboxEntry) == 2
    assert (await commissioner.get(f"/providers/{provider_id}")).json()["status"] == "active"
    pending = (await commissioner.get("/recommendations", params={"status": "pending"})).json()
    assert [(r["recommendation_id"], r["alert_ids"]) for r in pending] == [
        ("rec-1", ["a-1", "a-2"])
    ]


async def test_accepting_suspends_with_the_recommendation_cited(
    broker_and_registry, commissioner
) -> None:
    broker, registry = broker_and_registry
    provider_id = await _active_provider(commissioner)
    await deliver(broker, recommendation(provider_id))
    await eventually(lambda: _stored(registry, 1))
    response = await commissioner.post(
        "/recommendations/rec-1/decision", json={"decision": "accept", "reason": "agreed"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted"
    snapshot = (await commissioner.get(f"/providers/{provider_id}")).json()
    assert snapshot["status"] == "suspended"
    history = (await commissioner.get(f"/providers/{provider_id}/status-changes")).json()
    assert history[-1]["recommendation_id"] == "rec-1"
    assert (await outbox_types(registry))[-1] == "provider.status_changed"
    again = await commissioner.post(
        "/recommendations/rec-1/decision", json={"decision": "reject", "reason": "changed mind"}
    )
    assert again.status_code == 409


async def test_rejecting_leaves_provider_alone(broker_and_registry, commissioner, tokens) -> None:
    broker, registry = broker_and_registry
    provider_id = await _active_provider(commissioner)
    await deliver(broker, recommendation(provider_id, "rec-2"))
    await eventually(lambda: _stored(registry, 1))
    events_before = await outbox_types(registry)
    async with client_for(registry, tokens[Role.MONITORING_OFFICER]) as officer:
        forbidden = await officer.post(
            "/recommendations/rec-2/decision", json={"decision": "reject", "reason": "no"}
        )
        assert forbidden.status_code == 403
        assert (await officer.get("/recommendations")).status_code == 403
    response = await commissioner.post(
        "/recommendations/rec-2/decision", json={"decision": "reject", "reason": "one-off"}
    )
    assert response.json()["status"] == "rejected"
    assert (await commissioner.get(f"/providers/{provider_id}")).json()["status"] == "active"
    # Only the rejection is told (monitoring closes its recommendation); no status change.
    assert await outbox_types(registry) == [*events_before, "provider.recommendation_rejected"]
    missing = await commissioner.post(
        "/recommendations/nope/decision", json={"decision": "reject", "reason": "x"}
    )
    assert missing.status_code == 404
    bad = await commissioner.post(
        "/recommendations/rec-2/decision", json={"decision": "maybe", "reason": "x"}
    )
    assert bad.status_code == 422


async def test_accepting_for_a_provider_not_active_is_409(
    broker_and_registry, commissioner
) -> None:
    broker, registry = broker_and_registry
    provider_id = await register(commissioner)  # still "registered"
    await deliver(broker, recommendation(provider_id, "rec-3"))
    await eventually(lambda: _stored(registry, 1))
    response = await commissioner.post(
        "/recommendations/rec-3/decision", json={"decision": "accept", "reason": "agreed"}
    )
    assert response.status_code == 409
    async with registry.db.session() as session:
        row = (await session.exec(select(RecommendationRow))).one()
    assert row.status == "pending"  # nothing half-written


async def test_invalid_recommendation_is_dead_lettered(broker_and_registry) -> None:
    broker, registry = broker_and_registry
    await broker.publish(
        b'{"specversion": "1.0", "id": "e-1", "type": "quality.provider.suspension_recommended",'
        b' "source": "x", "subject": "p", "time": "2026-01-01T00:00:00Z", "data": {}}',
        quality_v1.TOPIC,
        key=b"p",
    )

    async def dead() -> bool:
        return await count(registry, DeadLetter) == 1

    await eventually(dead)
    assert await count(registry, RecommendationRow) == 0


async def test_recommendation_raised_by_hand_is_marked_with_who_and_why(
    broker_and_registry, commissioner
) -> None:
    broker, registry = broker_and_registry
    provider_id = await _active_provider(commissioner)
    payload = quality_v1.SuspensionRecommended(
        recommendation_id="rec-hand",
        provider_id=provider_id,
        reasons=["Grounds: Safeguarding concern", "Restraint used and not recorded, twice."],
        recommended_at=datetime(2026, 1, 6, 9, 0, tzinfo=UTC),
        raised_by="officer-7",
        grounds=["safeguarding"],
    )
    event = new_event(
        payload.TYPE,
        source="dps/monitoring",
        subject=provider_id,
        data=payload,
        topic=quality_v1.TOPIC,
    )
    await deliver(broker, event)
    await deliver(broker, recommendation(provider_id, "rec-rules"))
    await eventually(lambda: _stored(registry, 2))
    listed = (await commissioner.get("/recommendations", params={"status": "pending"})).json()
    by_id = {r["recommendation_id"]: r for r in listed}
    assert by_id["rec-hand"]["raised_by"] == "officer-7"
    assert by_id["rec-hand"]["grounds"] == ["safeguarding"]
    assert by_id["rec-hand"]["reasons"][-1] == "Restraint used and not recorded, twice."
    assert (by_id["rec-rules"]["raised_by"], by_id["rec-rules"]["grounds"]) == (None, [])
    # Decided the same way as the rules' ones.
    response = await commissioner.post(
        "/recommendations/rec-hand/decision", json={"decision": "accept", "reason": "agreed"}
    )
    assert response.json()["status"] == "accepted"
    assert response.json()["raised_by"] == "officer-7"
    assert (await commissioner.get(f"/providers/{provider_id}")).json()["status"] == "suspended"
