"""Kafka wiring: the FastStream broker, batch subscribers with commit-after-apply, topic
creation, and the watch that notices a broker which has lost its data.

Works the same against Apache Kafka and the embedded Tansu broker (see DESIGN.md,
"Platform facts": Tansu keeps everything in memory and forgets it on restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.message import StreamMessage

from shared.consumer import EventConsumer, next_offsets
from shared.db import Database
from shared.infra_models import utcnow
from shared.logging import get_logger
from shared.metrics import BROKER_DATA_LOSS
from shared.outbox import Publisher, replay
from shared.settings import ServiceSettings

log = get_logger(__name__)

PARTITIONS = 4  # what Tansu auto-creates; the upper bound on consumers per group
BATCH_POLL_MS = 5  # published outbox rows past retention are deleted hourly


def make_broker(settings: ServiceSettings) -> KafkaBroker:
    """A FastStream broker whose producer waits for every in-sync replica (acks=all)."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        acks="all",
        client_id=f"dps-{settings.service}",
        logger=None,
        graceful_timeout=10.0,
    )


def broker_publisher(broker: KafkaBroker) -> Publisher:
    """The outbox relay's publisher: returns a future per record so a batch is pipelined."""

    async def publish(
        topic: str, key: bytes, value: bytes, headers: dict[str, str]
    ) -> Awaitable[Any]:
        sent = await broker.publish(value, topic, key=key, headers=headers, no_confirm=True)
        if inspect.isawaitable(sent):
            return sent
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(sent)  # FastStream's test broker delivers synchronously
        return done

    return publish


async def _raw_body(message: StreamMessage[Any]) -> Any:
    # We decode envelopes ourselves so that a malformed body reaches our dead-letter
    # logic instead of failing inside FastStream before the handler runs.
    return None


def subscribe(broker: KafkaBroker, consumer: EventConsumer, settings: ServiceSettings) -> Any:
    """Register a batch subscriber that commits offsets only after the batch is applied."""
    subscriber = broker.subscriber(
        consumer.topic,
        batch=True,
        max_records=settings.consumer_batch_size,
        # FastStream sleeps as long again after an empty poll, so an idle subscriber
        # sees a new record up to twice this late: keep it short (docs/performance.md).
        batch_timeout_ms=BATCH_POLL_MS,
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
        group_id=settings.group_for(consumer.topic),
        auto_offset_reset="earliest",
        session_timeout_ms=settings.consumer_session_timeout_ms,
        heartbeat_interval_ms=max(300, settings.consumer_session_timeout_ms // 4),
        ack_policy=AckPolicy.MANUAL,
        decoder=_raw_body,
        title=f"{settings.service}:{consumer.topic}",
        description="Applies: " + ", ".join(sorted(consumer.handlers)),
    )

    async def on_batch(_body: Any, message: KafkaMessage) -> None:
        raw = message.raw_message
        records = tuple(raw) if isinstance(raw, list | tuple) else (raw,)
        try:
            await consumer.process(records)
        except Exception as exc:
            # Only infrastructure failures get here (the database is away): rewind and
            # try again shortly, committing nothing.
            log.error("consumer.retry_later", topic=consumer.topic, error=repr(exc))
            await message.nack()
            await asyncio.sleep(1.0)
            return
        await commit(message, records)

    on_batch.__name__ = f"apply_{consumer.topic.replace('.', '_')}"
    return subscriber(on_batch)


async def commit(message: KafkaMessage, records: Iterable[ConsumerRecord[Any, Any]]) -> None:
    """Commit exactly the processed offsets.

    A commit refused mid-rebalance is not retried in place: the records are rewound, so
    they come again (to us or to the partition's new owner), are recognised by the inbox
    and committed then. Otherwise a quiet partition would show lag forever.
    """
    kafka_consumer = message.consumer
    try:
        if isinstance(kafka_consumer, AIOKafkaConsumer):
            await kafka_consumer.commit(next_offsets(list(records)))
        else:  # FastStream's test broker
            await message.ack()
    except (CommitFailedError, KafkaError) as exc:
        log.warning("consumer.commit_failed", error=repr(exc), action="rewind")
        with contextlib.suppress(Exception):  # partitions may have moved to another member
            await message.nack()


async def ensure_topics(bootstrap: str, topics: Iterable[str], replication: int = 1) -> None:
    """Create topics that do not exist yet (4 partitions); existing ones are left alone."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, PARTITIONS, replication) for t in topics if t not in existing]
        if missing:
            await admin.create_topics(missing)
    finally:
        await admin.close()


class BrokerWatch:
    """Notices a broker that has lost its data and puts our part of it back.

    A sentinel topic holds one record written when we first saw the broker. If that
    record is gone (the topic is missing or empty), the broker restarted without its
    data: recreate our topics, write the sentinel again and replay the outbox's kept
    rows; consumers' inboxes make the redelivery harmless.
    """

    def __init__(
        self,
        settings: ServiceSettings,
        db: Database,
        topics: Iterable[str],
        on_loss: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.topics = sorted(set(topics))
        self.sentinel = f"dps.sentinel.{settings.service}"
        self.on_loss = on_loss
        self.losses = 0

    async def start(self) -> None:
        await ensure_topics(
            self.settings.kafka_bootstrap,
            [*self.topics, self.sentinel],
            self.settings.kafka_replication_factor,
        )
        if not await self._sentinel_present():
            await self._write_sentinel()

    async def run(self) -> None:
        # Pruning the outbox is a once-per-service job: ServiceRuntime runs it under a lease.
        while True:
            await asyncio.sleep(self.settings.broker_watch_interval_s)
            try:
                if not await self._sentinel_present():
                    await self.recover()
            except (KafkaError, OSError, TimeoutError) as exc:
                log.warning("broker.unreachable", error=repr(exc))

    async def recover(self) -> int:
        self.losses += 1
        BROKER_DATA_LOSS.labels(self.settings.service).inc()
        log.warning("broker.data_lost", action="recreate topics and replay outbox")
        await ensure_topics(
            self.settings.kafka_bootstrap,
            [*self.topics, self.sentinel],
            self.settings.kafka_replication_factor,
        )
        since = utcnow() - timedelta(days=self.settings.outbox_retention_days)
        replayed = await replay(self.db, since)
        if self.on_loss:
            await self.on_loss()
        await self._write_sentinel()
        log.warning("broker.recovered", replayed=replayed)
        return replayed

    async def _sentinel_present(self) -> bool:
        client = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap, request_timeout_ms=5000
        )
        await client.start()
        try:
            if self.sentinel not in await client.topics():
                return False
            ends = await client.end_offsets([TopicPartition(self.sentinel, 0)])
            return bool(ends and next(iter(ends.values())) > 0)
        finally:
            await client.stop()

    async def _write_sentinel(self) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.settings.kafka_bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(self.sentinel, b"present", partition=0)
        finally:
            await producer.stop()
