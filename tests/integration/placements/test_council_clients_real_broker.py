"""A council's integration, with clients that are not the project's: confluent-kafka
(librdkafka 2.16) with `partitioner=murmur2_random` and the official CloudEvents SDK, on
the real embedded broker. Events go in, in binary and structured mode, and placements
applies them; our published events come out and the SDK reads them.

The same journey with kafkajs (Node.js): test_council_node_real_broker.py.
"""

from __future__ import annotations

import asyncio
import uuid
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from sqlmodel import select

from services.placements.commands import derived_id
from shared.bus import PARTITIONS
from shared.contracts.common import Role
from shared.infra_models import DeadLetter
from shared.runtime import ServiceRuntime
from tests.harness import client_for, eventually
from tests.integration.placements.conftest import needs_of
from tests.service.placements.builders import requested_data

pytestmark = pytest.mark.integration

TOPIC = "ehc.plans.v1"


def _child() -> str:
    return f"KCC-EHC-{uuid.uuid4().hex[:10].upper()}"


def _council_event(child: str, **attributes: Any) -> CloudEvent:
    return CloudEvent(
        {
            "id": str(uuid.uuid4()),
            "type": "ehc.placement.requested",
            "source": "urn:council:886:send-case-system",
            "subject": child,
            "time": datetime.now(UTC),
            "datacontenttype": "application/json",
            **attributes,
        },
        requested_data(child),
    )


def _produce(
    bootstrap: str, message: ce_kafka.KafkaMessage, partitioner: str = "murmur2_random"
) -> int:
    """Send as a council's librdkafka client would; return the partition it landed on."""
    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": partitioner, "acks": "all"})
    landed: list[int] = []

    def delivered(error: Any, record: Any) -> None:
        assert error is None, error
        landed.append(record.partition())

    producer.produce(
        TOPIC,
        value=message.value,
        key=message.key,
        headers=list(message.headers.items()),
        on_delivery=delivered,
    )
    assert producer.flush(15) == 0
    return landed[0]


@pytest.mark.parametrize("mode", ["binary", "structured"])
async def test_a_council_publishes_with_librdkafka_and_placements_applies_it(
    placements: ServiceRuntime, kafka_bootstrap: str, mode: str
) -> None:
    child = _child()
    event = _council_event(child)
    to_kafka = ce_kafka.to_binary_event if mode == "binary" else ce_kafka.to_structured_event
    message = to_kafka(event, key_mapper=lambda e: e.get_subject())
    partition = await asyncio.to_thread(_produce, kafka_bootstrap, message)

    async def applied() -> bool:
        return len(await needs_of(placements, child)) == 1

    await eventually(applied, within=30)
    [need] = await needs_of(placements, child)
    assert need.source_event_id == event.get_id()
    # murmur2_random puts the key where our services' aiokafka producers would.
    ours = DefaultPartitioner()(child.encode(), list(range(PARTITIONS)), list(range(PARTITIONS)))
    assert partition == ours

    await asyncio.to_thread(_produce, kafka_bootstrap, message)  # the council redelivers
    await asyncio.sleep(1.0)
    assert len(await needs_of(placements, child)) == 1


async def test_an_event_without_an_id_is_dead_lettered_with_the_reason(
    placements: ServiceRuntime, kafka_bootstrap: str
) -> None:
    child = _child()
    message = ce_kafka.to_binary_event(_council_event(child), key_mapper=lambda e: e.get_subject())
    headers = {k: v for k, v in message.headers.items() if k != "ce_id"}
    no_id = ce_kafka.KafkaMessage(headers=headers, key=message.key, value=message.value)
    await asyncio.to_thread(_produce, kafka_bootstrap, no_id)

    async def dead() -> list[DeadLetter]:
        async with placements.db.session() as session:
            rows = await session.exec(select(DeadLetter).where(DeadLetter.key == child))
            return list(rows.all())

    async def dead_lettered() -> bool:
        return len(await dead()) == 1

    await eventually(dead_lettered, within=30)
    [letter] = await dead()
    assert "missing required CloudEvents attribute(s): id" in letter.reason
    assert await needs_of(placements, child) == []


def _consume_need_raised(bootstrap: str, need_id: str) -> Any:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"council-{need_id}",
            "enable.auto.commit": False,
        }
    )
    consumer.assign(
        [TopicPartition("placements.v1", p, OFFSET_BEGINNING) for p in range(PARTITIONS)]
    )
    try:
        deadline = datetime.now(UTC).timestamp() + 30
        while datetime.now(UTC).timestamp() < deadline:
            record = consumer.poll(0.5)
            if record is None or record.error():
                continue
            message = ce_kafka.KafkaMessage(
                headers=dict(record.headers() or []), key=record.key(), value=record.value()
            )
            event = ce_kafka.from_kafka_event(message)  # mode chosen as the binding says
            data = event.get_data()
            if event.get_type() == "placement.need.raised" and data["need_id"] == need_id:
                return event, ce_kafka.from_structured_event(message)
        raise AssertionError(f"no placement.need.raised with need id {need_id}")
    finally:
        consumer.close()


async def test_a_council_reads_our_events_with_librdkafka_and_the_sdk(
    placements: ServiceRuntime, kafka_bootstrap: str
) -> None:
    council_event = _council_event(_child())
    message = ce_kafka.to_structured_event(council_event, key_mapper=lambda e: e.get_subject())
    await asyncio.to_thread(_produce, kafka_bootstrap, message)
    # The need carries no child reference (issue 12): it is found by the id placements
    # derives from the council's event id.
    need_id = derived_id("need", council_event.get_id())
    event, structured = await asyncio.to_thread(_consume_need_raised, kafka_bootstrap, need_id)
    assert "child_ref" not in event.get_data() or event.get_data()["child_ref"] is None
    assert event.get_id() == structured.get_id()
    assert event.get_source() == "dps/placements"
    assert event.get_dataschema() == (
        "https://send-dps.example/schemas/placements.v1.json#placement.need.raised"
    )
    assert event.get_extension("correlationid")


async def test_a_retried_dead_letter_returns_to_the_partition_a_crc32_producer_chose(
    placements: ServiceRuntime, kafka_bootstrap: str, tokens: dict[Role, str]
) -> None:
    all_partitions = list(range(PARTITIONS))
    child = next(
        c
        for c in (_child() for _ in range(100))
        if zlib.crc32(c.encode()) % PARTITIONS
        != DefaultPartitioner()(c.encode(), all_partitions, all_partitions)
    )
    event = _council_event(child)
    event.get_data()["date_of_birth"] = "2099-01-01"  # type: ignore[index]  # after issue
    message = ce_kafka.to_binary_event(event, key_mapper=lambda e: e.get_subject())
    landed = await asyncio.to_thread(_produce, kafka_bootstrap, message, "consistent_random")
    assert landed == zlib.crc32(child.encode()) % PARTITIONS  # librdkafka's default

    async def dead() -> list[DeadLetter]:
        async with placements.db.session() as session:
            rows = await session.exec(select(DeadLetter).where(DeadLetter.key == child))
            return list(rows.all())

    async def dead_lettered(n: int) -> bool:
        return len(await dead()) == n

    await eventually(lambda: dead_lettered(1), within=30)
    [first] = await dead()
    assert first.partition == landed
    async with client_for(placements, tokens[Role.ADMIN]) as client:
        retried = await client.post(f"/admin/dead-letters/{first.id}/retry")
    assert retried.status_code == 200
    await eventually(lambda: dead_lettered(2), within=30)  # still invalid: dead again
    second = next(d for d in await dead() if d.id != first.id)
    assert second.partition == landed
    assert second.headers is not None and second.headers["ce_id"] == event.get_id()
