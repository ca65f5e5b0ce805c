"""Operator routes every service serves (role admin): status, dead letters, replay.

`dps status` and `dps dlq` call these, so an operator sees the same figures whether the
service runs here or in a cluster.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlmodel import col, func, select

from shared import outbox
from shared.api_types import BoundedInt
from shared.consumer import redacted_copy
from shared.contracts.common import Role
from shared.errors import DomainError, NotFound
from shared.infra_models import DeadLetter, OutboxMessage, utcnow
from shared.kafka_security import client_options
from shared.outbox_signal import wake_relay
from shared.policy import Policy, guard, rule
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(prefix="/admin", tags=["operations"])
OPERATE = "operating the platform is the admin's (and only this)"
POLICY: Policy = {
    ("GET", "/admin/status"): rule(Role.ADMIN, why=OPERATE),
    ("GET", "/admin/dead-letters"): rule(Role.ADMIN, why=OPERATE),
    ("POST", "/admin/dead-letters/{dead_letter_id}/retry"): rule(Role.ADMIN, why=OPERATE),
    ("POST", "/admin/replay"): rule(Role.ADMIN, why=OPERATE),
}
"""The operator routes' policy, part of every service's (shared/policy.py)."""
ADMIN = Depends(guard(POLICY))


class TopicLag(BaseModel):
    topic: str
    lag: int | None  # None when the group has not committed yet or the broker is away


class ServiceStatus(BaseModel):
    service: str
    outbox_backlog: int
    dead_letters: int
    dead_letters_not_retried: int
    consumer_lag: list[TopicLag]
    running_workflows: int | None
    broker_data_losses: int


class DeadLetterView(BaseModel):
    id: int
    topic: str
    partition: int
    offset: int
    key: str | None
    event_id: str | None
    event_type: str | None
    reason: str
    dead_lettered_at: datetime
    retried_at: datetime | None
    payload_redacted_at: datetime | None = None
    headers: dict[str, str] | None = None  # the record's Kafka headers (binary mode: ce_*)
    payload_preview: str


@router.get("/status")
async def status(
    _actor: Actor = ADMIN, runtime: ServiceRuntime = Depends(runtime_of)
) -> ServiceStatus:
    async with runtime.db.session() as session:
        dead = int((await session.exec(select(func.count()).select_from(DeadLetter))).one())
        waiting = int(
            (
                await session.exec(select(func.count()).where(col(DeadLetter.retried_at).is_(None)))
            ).one()
        )
    return ServiceStatus(
        service=runtime.name,
        outbox_backlog=await outbox.pending_count(runtime.db),
        dead_letters=dead,
        dead_letters_not_retried=waiting,
        consumer_lag=await consumer_lag(runtime),
        running_workflows=await running_workflows(runtime),
        broker_data_losses=runtime.watch.losses if runtime.watch else 0,
    )


async def consumer_lag(runtime: ServiceRuntime) -> list[TopicLag]:
    """Lag = end offsets minus the group's committed offsets (Tansu has no admin call)."""
    topics = sorted({c.topic for c in runtime.consumers})
    if not runtime.watch_broker:
        return [TopicLag(topic=t, lag=None) for t in topics]
    return [await _lag_of_group(runtime, topic) for topic in topics]


async def _lag_of_group(runtime: ServiceRuntime, topic: str) -> TopicLag:
    client = AIOKafkaConsumer(
        bootstrap_servers=runtime.settings.kafka_bootstrap,
        group_id=runtime.settings.group_for(topic),
        enable_auto_commit=False,
        request_timeout_ms=5000,
        **client_options(runtime.settings),
    )
    try:
        await client.start()
        return await _topic_lag(client, topic)
    except Exception:
        return TopicLag(topic=topic, lag=None)
    finally:
        await client.stop()


async def _topic_lag(client: AIOKafkaConsumer, topic: str) -> TopicLag:
    partitions = client.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    if not tps:
        return TopicLag(topic=topic, lag=None)
    # Tansu answers end_offsets with the start of the last record batch plus one, so
    # with batching producers the end is short and lag is under-stated there (never
    # negative); Apache Kafka answers the true end.
    ends = await client.end_offsets(tps)
    lag = 0
    for tp in tps:
        committed = await client.committed(tp)
        lag += max(0, ends[tp] - (committed or 0))
    return TopicLag(topic=topic, lag=lag)


async def running_workflows(runtime: ServiceRuntime) -> int | None:
    if runtime.temporal is None:
        return None
    query = f"TaskQueue = '{runtime.settings.task_queue}' AND ExecutionStatus = 'Running'"
    try:
        return (await runtime.temporal.count_workflows(query)).count
    except Exception:
        return None


def _view(row: DeadLetter) -> DeadLetterView:
    """An operator's view: enough to see what failed and why, never a child's data (the
    admin role operates the platform; shared/consumer.py redacts as retention does)."""
    assert row.id is not None
    payload, key, headers = redacted_copy(row.topic, row.payload, row.key, row.headers)
    return DeadLetterView(
        **row.model_dump(exclude={"payload", "key", "headers"}),
        key=key,
        headers=headers or None,
        payload_preview=payload[:500].decode(errors="replace"),
    )


@router.get("/dead-letters")
async def dead_letters(
    include_retried: bool = False,
    limit: BoundedInt = 100,
    _actor: Actor = ADMIN,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> list[DeadLetterView]:
    statement = select(DeadLetter).order_by(col(DeadLetter.id)).limit(min(max(limit, 1), 1000))
    if not include_retried:
        statement = statement.where(col(DeadLetter.retried_at).is_(None))
    async with runtime.db.session() as session:
        return [_view(row) for row in (await session.exec(statement)).all()]


@router.post("/dead-letters/{dead_letter_id}/retry")
async def retry_dead_letter(
    dead_letter_id: BoundedInt, actor: Actor = ADMIN, runtime: ServiceRuntime = Depends(runtime_of)
) -> DeadLetterView:
    """Re-drive a dead letter: publish its original bytes and headers to its original
    topic and partition again.

    Consumers that applied it already ignore it (inbox); the one that failed tries anew,
    e.g. after the bug or the bad data behind it was fixed. The partition is the one it
    came from, not the one our partitioner would pick for its key: a producer with another
    partitioner (librdkafka's CRC32) put the key's other events there, and their order
    holds only within one partition.
    """
    async with unit_of_work(runtime.db, runtime.source) as uow:
        row = await uow.session.get(DeadLetter, dead_letter_id)
        if row is None:
            raise NotFound("dead letter", dead_letter_id)
        if row.retried_at is not None:
            raise DomainError("dead_letter", "was already retried")
        if row.payload_redacted_at is not None:
            raise DomainError("dead_letter", "payload was redacted after its retention period")
        row.retried_at = utcnow()
        uow.session.add(row)
        uow.session.add(
            OutboxMessage(
                event_id=f"retry:{row.id}:{row.event_id or ''}",
                topic=row.topic,
                event_type=row.event_type or "unknown",
                key=row.key or "",
                payload=row.payload,
                headers={**(row.headers or {}), "dlq_retry_of": str(row.id)},
                partition=row.partition,
            )
        )
        uow.audit(actor, "dead_letter.retried", "dead_letter", str(row.id), topic=row.topic)
    wake_relay()
    return _view(row)


class ReplayRequest(BaseModel):
    since: datetime
    topics: list[str] | None = None


@router.post("/replay")
async def replay(
    body: ReplayRequest, actor: Actor = ADMIN, runtime: ServiceRuntime = Depends(runtime_of)
) -> dict[str, Any]:
    since = body.since if body.since.tzinfo else body.since.replace(tzinfo=UTC)
    count = await outbox.replay(runtime.db, since, body.topics)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        uow.audit(actor, "outbox.replayed", "outbox", runtime.name, since=since.isoformat())
    return {"service": runtime.name, "queued": count}
