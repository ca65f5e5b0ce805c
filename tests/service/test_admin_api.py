"""Operator routes every service serves: status, dead letters and their retry, replay."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from sqlmodel import select

from shared.contracts.common import REDACTED, Role
from shared.infra_models import DeadLetter, OutboxMessage
from shared.runtime import ServiceRuntime
from tests.harness import client_for, eventually, make_runtime


@pytest.fixture
async def monitoring(
    database_url: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[tuple[ServiceRuntime, KafkaBroker]]:
    broker = KafkaBroker()
    runtime = make_runtime("monitoring", database_url("monitoring"), tmp_path, shared_broker=broker)
    async with TestKafkaBroker(broker):
        await runtime.start()
        yield runtime, broker
        await runtime.stop()


async def test_admin_routes_need_the_admin_role(monitoring, tokens) -> None:
    runtime, _ = monitoring
    async with client_for(runtime, tokens[Role.COMMISSIONER]) as client:
        assert (await client.get("/admin/status")).status_code == 403
    async with client_for(runtime) as client:
        assert (await client.get("/admin/dead-letters")).status_code == 401


async def test_dead_letter_is_listed_retried_once_and_counted(monitoring, tokens) -> None:
    runtime, broker = monitoring
    await broker.publish(b'{"specversion": "1.0"}', "providers.v1", key=b"k")
    async with client_for(runtime, tokens[Role.ADMIN]) as client:

        async def listed() -> bool:
            return len((await client.get("/admin/dead-letters")).json()) == 1

        await eventually(listed)
        [row] = (await client.get("/admin/dead-letters")).json()
        assert row["topic"] == "providers.v1" and row["reason"].startswith("bad envelope")
        status = (await client.get("/admin/status")).json()
        assert status["dead_letters_not_retried"] == 1

        retried = await client.post(f"/admin/dead-letters/{row['id']}/retry")
        assert retried.status_code == 200 and retried.json()["retried_at"]
        again = await client.post(f"/admin/dead-letters/{row['id']}/retry")
        assert again.status_code == 422
        missing = await client.post("/admin/dead-letters/999/retry")
        assert missing.status_code == 404
    async with runtime.db.session() as session:
        republished = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.topic == "providers.v1"))
        ).all()
    assert [m.payload for m in republished] == [b'{"specversion": "1.0"}']


async def test_an_operator_sees_a_dead_letter_without_the_childs_data(monitoring, tokens) -> None:
    """Admin operates the platform and may not see children's data: the preview, key and
    headers are redacted as retention would; the stored row keeps them for a retry."""
    runtime, _ = monitoring
    child = "KCC-EHC-000123"
    event = {"type": "ehc.plan.issued", "data": {"child_ref": child, "date_of_birth": "2015-01-02"}}
    stored = json.dumps(event).encode()
    async with runtime.db.transaction() as session:
        session.add(
            DeadLetter(
                topic="ehc.plans.v1",
                partition=0,
                offset=7,
                key=child,
                reason="handler failed",
                payload=stored,
                headers={"ce_subject": child, "ce_type": "ehc.plan.issued"},
            )
        )
    async with client_for(runtime, tokens[Role.ADMIN]) as client:
        [row] = (await client.get("/admin/dead-letters")).json()
    assert child not in json.dumps(row) and "2015-01-02" not in json.dumps(row)
    assert row["key"] == REDACTED and row["headers"]["ce_subject"] == REDACTED
    assert row["headers"]["ce_type"] == "ehc.plan.issued"
    assert json.loads(row["payload_preview"])["type"] == "ehc.plan.issued"
    async with runtime.db.session() as session:
        [kept] = (await session.exec(select(DeadLetter))).all()
    assert kept.payload == stored and kept.key == child
