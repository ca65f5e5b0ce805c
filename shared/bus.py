"""Kafka wiring: the FastStream broker, batch subscribers with commit-after-apply, topic
creation, and the watch that notices a broker which has lost its data.

Works the same against Apache Kafka and the embedded Tansu broker (see DESIGN.md,
"Platform facts": Tansu keeps everything in memory and forgets it on restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from datetime import timedelta
from typing import Any

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.message import StreamMessage

from shared.consumer import DecodedBatch, EventConsumer, next_offsets
from shared.db import Database
from shared.infra_models import utcnow
from shared.kafka_security import broker_security, client_options, token_provider
from shared.logging import get_logger
from shared.metrics import BROKER_DATA_LOSS
from shared.outbox import Publisher, published_before, replay
from shared.settings import ServiceSettings

log = get_logger(__name__)

PARTITIONS = 4  # what Tansu auto-creates; the upper bound on consumers per group
# FastStream polls with this timeout and, when nothing came, sleeps as long again, so an
# idle subscriber sees a new record up to twice this late; `_poll_until_records` replaces
# that poll where a Kafka consumer runs.
BATCH_POLL_MS = 5
# How long an idle subscriber's poll waits: a record that arrives ends the wait at once,
# so this costs no latency, only fewer wake-ups (docs/performance.md).
IDLE_POLL_MS = 250
RETRY_AFTER_S = 1.0  # a batch that failed for want of its database is read again after


def make_broker(settings: ServiceSettings) -> KafkaBroker:
    """A FastStream broker whose producer waits for every in-sync replica (acks=all), over
    the TLS and SASL DPS_KAFKA_* configure (its consumers share the same options)."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        security=broker_security(settings),
        sasl_oauth_token_provider=token_provider(settings),
        acks="all",
        client_id=f"dps-{settings.service}",
        logger=None,
        graceful_timeout=10.0,
    )


def broker_publisher(broker: KafkaBroker) -> Publisher:
    """The outbox relay's publisher: returns a future per record so a batch is pipelined."""

    async def publish(
        topic: str, key: bytes, value: bytes, headers: dict[str, str], partition: int | None
    ) -> Awaitable[Any]:
        # A given partition (a retried dead letter's own) wins over the key's partition.
        sent = await broker.publish(
            value, topic, key=key, headers=headers, partition=partition, no_confirm=True
        )
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


class RewindAfterLoss(ConsumerRebalanceListener):  # type: ignore[misc]
    """Reads a subscriber's partitions again from their start after the broker lost its
    data, both at once (`rewind`) and at its next assignment.

    Tansu restarted in memory has no committed offsets, so a consumer that rejoins reads
    from the earliest record (auto_offset_reset). But a batch fetched from the old broker
    can be committed to the new one just before the rejoin, leaving offsets of the old
    log there; a consumer would then skip the new log's records below them. So the first
    assignment after each loss starts from the beginning whatever was committed; the
    inbox makes the re-reading harmless.
    """

    def __init__(self, losses: Callable[[], int]) -> None:
        self.losses = losses
        self.rewound_for = 0  # the loss count at the last rewind on assignment
        self.subscriber: Any = None

    def _consumer(self) -> AIOKafkaConsumer | None:
        found = getattr(self.subscriber, "consumer", None)
        return found if isinstance(found, AIOKafkaConsumer) else None

    async def rewind(self) -> None:
        consumer = self._consumer()
        if consumer is not None and consumer.assignment():
            await consumer.seek_to_beginning(*consumer.assignment())

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer, losses = self._consumer(), self.losses()
        if consumer is None or not assigned:
            return
        if self.rewound_for < losses:
            self.rewound_for = losses
            log.warning("consumer.rewound_after_broker_loss", partitions=len(assigned))
            await consumer.seek_to_beginning(*assigned)
            return
        beyond = await committed_beyond_end(consumer, assigned)
        if beyond:
            # Committed to a broker that has since lost its log: those offsets belong
            # to the old log, and reading from them would skip the new one's records.
            log.warning("consumer.rewound_offsets_beyond_end", partitions=len(beyond))
            await consumer.seek_to_beginning(*beyond)


async def committed_beyond_end(
    consumer: AIOKafkaConsumer, partitions: set[TopicPartition]
) -> list[TopicPartition]:
    """Partitions whose committed offset lies past the end of the log."""
    try:
        ends = await consumer.end_offsets(list(partitions))
        committed = {tp: await consumer.committed(tp) for tp in partitions}
    except KafkaError as exc:  # no worse than before: the committed offsets are used
        log.warning("consumer.offset_check_failed", error=repr(exc))
        return []
    return sorted(
        (tp for tp, offset in committed.items() if offset is not None and offset > ends[tp]),
        key=lambda tp: tp.partition,
    )


Rewound = frozenset[TopicPartition]  # the partitions a failed batch was rewound on


class InTurn:
    """A subscriber's batches applied one at a time, in order, each committed once applied,
    while the next is decoded: decoding is the consumer's own CPU, and it overlaps the
    database's work on the batch before (docs/performance.md).

    Nothing is committed before it is applied, so a process killed at any point reads
    again from its last commit, and the inbox skips what was applied.
    """

    def __init__(self) -> None:
        self.applying: asyncio.Task[Rewound | None] | None = None

    def hand(self, work: Coroutine[Any, Any, Rewound | None]) -> None:
        """Start applying a batch; the caller settled the one before."""
        self.applying = asyncio.create_task(work)

    async def settled(self) -> Rewound | None:
        """Wait for the batch being applied: None once it is applied and committed, or
        the partitions it was rewound on when it failed."""
        task, self.applying = self.applying, None
        return None if task is None else await task

    async def finish(self, timeout_s: float) -> None:
        """At stop: let the batch being applied commit, within a bound (else it is
        cancelled, rolled back, and read again at the next start)."""
        task, self.applying = self.applying, None
        if task is None:
            return
        done, _pending = await asyncio.wait({task}, timeout=timeout_s)
        if not done:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task  # its failure was logged where it happened


def batch_applier(
    consumer: EventConsumer, in_turn: InTurn
) -> Callable[[Any, KafkaMessage], Awaitable[None]]:
    """The subscriber's handler: decode the batch, wait for the one before, hand this one
    over to be applied and committed."""

    async def apply_and_commit(
        message: KafkaMessage, records: tuple[ConsumerRecord[Any, Any], ...], batch: DecodedBatch
    ) -> Rewound | None:
        try:
            await consumer.apply_batch(batch)
        except Exception as exc:
            # Only infrastructure failures get here (the database is away): rewind and
            # try again shortly, committing nothing.
            log.error("consumer.retry_later", topic=consumer.topic, error=repr(exc))
            await message.nack()
            await asyncio.sleep(RETRY_AFTER_S)
            return frozenset(partitions_of(records))
        await commit(message, records)
        return None

    async def on_batch(_body: Any, message: KafkaMessage) -> None:
        raw = message.raw_message
        records = tuple(raw) if isinstance(raw, list | tuple) else (raw,)
        batch = await consumer.decode_batch(records)  # while the batch before is applied
        rewound = await in_turn.settled()
        if rewound is not None:
            # The batch before failed and was rewound: these records come again after
            # it. Rewind this batch's other partitions too, or they would be skipped.
            rewind_to_earliest(message.consumer, records, keep=rewound)
            return
        in_turn.hand(apply_and_commit(message, records, batch))
        if not isinstance(message.consumer, AIOKafkaConsumer):
            await in_turn.settled()  # FastStream's test broker delivers in the publish call

    return on_batch


def partitions_of(records: Iterable[ConsumerRecord[Any, Any]]) -> set[TopicPartition]:
    return {TopicPartition(record.topic, record.partition) for record in records}


def rewind_to_earliest(
    kafka_consumer: Any, records: Sequence[ConsumerRecord[Any, Any]], keep: Rewound
) -> None:
    """Seek each partition of these records, except those in `keep`, to its earliest."""
    if not isinstance(kafka_consumer, AIOKafkaConsumer):
        return
    for tp, offset in sorted(earliest_offsets(records).items()):
        if tp not in keep:
            kafka_consumer.seek(tp, offset)


def earliest_offsets(records: Iterable[ConsumerRecord[Any, Any]]) -> dict[TopicPartition, int]:
    earliest: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        earliest[tp] = min(earliest.get(tp, record.offset), record.offset)
    return earliest


def subscribe(
    broker: KafkaBroker,
    consumer: EventConsumer,
    settings: ServiceSettings,
    listener: RewindAfterLoss | None = None,
    in_turn: InTurn | None = None,
) -> Any:
    """Register a batch subscriber that commits offsets only after the batch is applied
    (and decodes the next batch meanwhile: `InTurn`)."""
    in_turn = in_turn or InTurn()
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
        listener=listener,
    )

    _poll_until_records(subscriber, settings.consumer_batch_size)
    on_batch = batch_applier(consumer, in_turn)
    on_batch.__name__ = f"apply_{consumer.topic.replace('.', '_')}"
    subscriber(on_batch)
    if listener is not None:
        # The subscriber object, not what decorating returns (a call wrapper without the
        # Kafka consumer): the rewinder needs its `consumer` once started.
        listener.subscriber = subscriber
    return subscriber


def _poll_until_records(subscriber: Any, max_records: int) -> None:
    """Have the subscriber's loop wait for records in one poll, not poll and sleep.

    FastStream's batch subscriber polls for `BATCH_POLL_MS` and sleeps as long after an
    empty poll: about a hundred wake-ups a second per idle subscriber (an idle monitoring
    process, three subscribers, used 11-12 % of a core with them, 7-9 % without).
    aiokafka's `getmany` returns as soon as records arrive, so a longer wait delays
    nothing. FastStream's loop calls `self.get_msg(consumer)` and does the rest
    (handling, errors, stop).
    """

    async def get_msg(kafka_consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord[Any, Any], ...]:
        started = asyncio.get_running_loop().time()
        fetched = await kafka_consumer.getmany(timeout_ms=IDLE_POLL_MS, max_records=max_records)
        if not fetched and asyncio.get_running_loop().time() - started < IDLE_POLL_MS / 2000:
            # Returned empty at once (no partitions yet, or stopping): no busy loop.
            await asyncio.sleep(BATCH_POLL_MS / 1000)
        return tuple(record for records in fetched.values() for record in records)

    subscriber.get_msg = get_msg


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


async def ensure_topics(
    bootstrap: str,
    topics: Iterable[str],
    replication: int = 1,
    *,
    options: dict[str, Any] | None = None,
) -> None:
    """Create topics that do not exist yet (4 partitions); existing ones are left alone.
    `options`: shared.kafka_security.client_options (TLS, SASL)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=5000, **(options or {})
    )
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
        self._checker: AIOKafkaConsumer | None = None
        # The relay's check before each batch and the timer's check must not both replay.
        self._checking = asyncio.Lock()

    @property
    def enabled(self) -> bool:
        """Off for a durable Kafka (DPS_BROKER_LOSS_WATCH=false): topics are still created."""
        return self.settings.broker_loss_watch

    async def start(self) -> int:
        """Create our topics; if the broker lost its data while we were down, replay.

        A missing sentinel means a fresh broker. If our outbox shows we published before,
        that broker has lost what we sent (Tansu after `dps down` or a crash), so we put
        it back exactly as when we notice the loss while running. Returns rows replayed.
        With the watch off, only the topics are created.
        """
        await ensure_topics(
            self.settings.kafka_bootstrap,
            [*self.topics, self.sentinel] if self.enabled else self.topics,
            self.settings.kafka_replication_factor,
            options=client_options(self.settings),
        )
        if not self.enabled:
            return 0
        if await self._sentinel_present():
            return 0
        if await published_before(self.db):
            return await self.recover()
        await self._write_sentinel()
        return 0

    async def run(self) -> None:
        # Pruning the outbox is a once-per-service job: ServiceRuntime runs it under a lease.
        try:
            while True:
                await asyncio.sleep(self.settings.broker_watch_interval_s)
                try:
                    await self.ensure_intact()
                except (KafkaError, OSError, TimeoutError) as exc:
                    log.warning("broker.unreachable", error=repr(exc))
        finally:
            await self.close()

    async def ensure_intact(self) -> bool:
        """Put our part of the broker back if it lost its data; whether it had to.

        The outbox relay calls this before each batch it sends, not only the timer: a
        broker restarted empty between two timer ticks would otherwise receive a key's
        newer events before the replay re-sends its older ones, and consumers would apply
        them out of order. Raises the broker's error if it cannot be asked (the relay
        then sends nothing and retries).
        """
        if not self.enabled:
            return False
        async with self._checking:
            try:
                if await self._sentinel_present():
                    return False
            except Exception:
                await self.close()  # a fresh connection at the next check
                raise
            await self.recover()
            return True

    async def recover(self) -> int:
        self.losses += 1
        BROKER_DATA_LOSS.labels(self.settings.service).inc()
        log.warning("broker.data_lost", action="recreate topics and replay outbox")
        await ensure_topics(
            self.settings.kafka_bootstrap,
            [*self.topics, self.sentinel],
            self.settings.kafka_replication_factor,
            options=client_options(self.settings),
        )
        since = utcnow() - timedelta(days=self.settings.outbox_retention_days)
        replayed = await replay(self.db, since)
        if self.on_loss:
            await self.on_loss()
        await self._write_sentinel()
        log.warning("broker.recovered", replayed=replayed)
        return replayed

    async def _sentinel_present(self) -> bool:
        """One round trip while the broker answers for the sentinel: its end offset.

        The relay asks this before every batch, so it is on the event-to-alert path. A
        broker restarted empty answers 0 (Tansu makes the topic on the request) or an
        error; only after an error is the topic list fetched, to tell a missing topic
        (lost) from a broker that cannot be asked (raised, so the relay sends nothing).
        """
        client = await self._client()
        sentinel = TopicPartition(self.sentinel, 0)
        try:
            ends = await client.end_offsets([sentinel])
        except KafkaError:
            if self.sentinel not in await client.topics():
                return False
            ends = await client.end_offsets([sentinel])
        return ends.get(sentinel, 0) > 0

    async def _client(self) -> AIOKafkaConsumer:
        """One metadata client for every check (each fetches fresh metadata and offsets);
        a new one only after a check failed or the watch was closed."""
        if self._checker is None:
            client = AIOKafkaConsumer(
                bootstrap_servers=self.settings.kafka_bootstrap,
                request_timeout_ms=5000,
                **client_options(self.settings),
            )
            await client.start()
            self._checker = client
        return self._checker

    async def close(self) -> None:
        client, self._checker = self._checker, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.stop()

    async def _write_sentinel(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            acks="all",
            **client_options(self.settings),
        )
        await producer.start()
        try:
            await producer.send_and_wait(self.sentinel, b"present", partition=0)
        finally:
            await producer.stop()
