"""Inspections applied as one consumer batch (one read of what the batch needs) end as
they do applied one by one: same alerts, same evidence trail, same profiles."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import ConsumerRecord

from services.monitoring.models import EvidenceRecord, ProviderProfile
from shared.contracts import providers_v1
from shared.envelope import Envelope
from shared.infra_models import InboxEntry
from tests.service.monitoring import events
from tests.service.monitoring.conftest import Monitoring


def _records(envelopes: Sequence[Envelope]) -> list[ConsumerRecord[bytes, bytes]]:
    return [
        ConsumerRecord(
            topic=providers_v1.TOPIC,
            partition=0,
            offset=offset,
            timestamp=0,
            timestamp_type=0,
            key=e.key,
            value=e.to_bytes(),
            checksum=None,
            serialized_key_size=len(e.key),
            serialized_value_size=len(e.to_bytes()),
            headers=[("content-type", b"application/cloudevents+json")],
        )
        for offset, e in enumerate(envelopes)
    ]


async def _state(monitoring: Monitoring) -> tuple[object, ...]:
    alerts = sorted(
        (a.rule_id, a.provider_id, a.open_key, len(a.evidence_refs))
        for a in await monitoring.alerts()
    )
    raised = len(await monitoring.outbox("quality.alert.raised"))
    evidence = await monitoring.count(EvidenceRecord)
    async with monitoring.runtime.db.session() as session:
        profile = await session.get(ProviderProfile, "p-1")
    judgement = profile.ofsted_judgement if profile else None
    return alerts, raised, evidence, judgement


async def test_a_batch_of_inspections_ends_as_one_by_one(monitoring: Monitoring) -> None:
    first, again, other = (
        events.inspection("p-1"),
        events.inspection("p-1"),
        events.inspection("p-2"),
    )
    consumer = next(c for c in monitoring.runtime.consumers if c.topic == providers_v1.TOPIC)
    # A duplicate in the batch is applied once; the second inspection of p-1 joins the
    # alert the first one raised earlier in the same batch.
    await consumer.process(_records([first, again, first, other]))
    batched = await _state(monitoring)
    assert await monitoring.count(InboxEntry) == 3

    # The same events again (a redelivery) change nothing.
    await consumer.process(_records([first, again, other]))
    assert await _state(monitoring) == batched

    alerts, raised, evidence, judgement = batched
    assert raised == len(alerts) and evidence == 3 and judgement == "inadequate"
    assert {provider for _, provider, _, _ in alerts} == {"p-1", "p-2"}
    assert all(open_key for _, _, open_key, _ in alerts)
    assert sorted(refs for _, provider, _, refs in alerts if provider == "p-1") == sorted(
        refs * 2 for _, provider, _, refs in alerts if provider == "p-2"
    )


async def test_one_by_one_matches_the_batch(monitoring: Monitoring) -> None:
    for event in (events.inspection("p-1"), events.inspection("p-1"), events.inspection("p-2")):
        await monitoring.feed(providers_v1.TOPIC, event)
    alerts, raised, evidence, judgement = await _state(monitoring)
    assert raised == len(alerts) and evidence == 3 and judgement == "inadequate"
    assert sorted(refs for _, provider, _, refs in alerts if provider == "p-1") == sorted(
        refs * 2 for _, provider, _, refs in alerts if provider == "p-2"
    )
