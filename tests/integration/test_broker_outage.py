"""The broker is down for a minute; the API keeps taking writes; all arrive once (issue 17).

A real Tansu sits behind a TCP proxy on a port of its own. Closing the proxy is the broker
going away (every client connection drops, new ones are refused); the api role answers
201 to a write every two seconds for a minute (each waits in the outbox); the proxy opens
again on the same port and the relay replica publishes what waited: every write's event
is on its topic exactly once.

Why a proxy rather than restarting the Tansu process: Tansu keeps everything in memory,
so a restarted one has lost its topics, which is another failure ("Broker lost data",
tests/integration/test_broker_watch.py) whose recovery replays the outbox (at least once;
the consumers' inboxes drop the copies). A durable Kafka that was down comes back with
its data, which is what the proxy gives.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from sqlmodel import select

from dps import processes
from shared.contracts.common import Role
from shared.infra_models import OutboxMessage
from shared.outbox import pending_count
from shared.runtime import ProcessRole, ServiceRuntime
from tests.fixtures import provider_body
from tests.harness import client_for, eventually, make_runtime

pytestmark = pytest.mark.integration

OUTAGE_S = 60.0
WRITE_EVERY_S = 2.0
WRITES = int(OUTAGE_S / WRITE_EVERY_S)


class Outage:
    """A TCP proxy from `port` to the broker's own port that can be taken down."""

    def __init__(self, port: int, broker_port: int) -> None:
        self.port = port
        self.broker_port = broker_port
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def up(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def down(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        self.writers.clear()
        await self.server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream = await asyncio.open_connection("127.0.0.1", self.broker_port)
        except OSError:
            writer.close()
            return
        self.writers += [writer, upstream]
        await asyncio.gather(
            _pipe(reader, upstream), _pipe(upstream_reader, writer), return_exceptions=True
        )


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    finally:
        with contextlib.suppress(Exception):
            sink.close()


async def _published(runtime: ServiceRuntime) -> Counter[str]:
    """Every event id on the topics this service's outbox wrote to, counted."""
    async with runtime.db.session() as session:
        topics = sorted(set((await session.exec(select(OutboxMessage.topic))).all()))
    reader = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=runtime.settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await reader.start()
    seen: Counter[str] = Counter()
    try:
        quiet = 0
        while quiet < 6:  # three seconds with nothing new: all there (and nothing twice)
            batches = await reader.getmany(timeout_ms=500)
            records = [r for rs in batches.values() for r in rs]
            quiet = 0 if records else quiet + 1
            seen.update(json.loads(r.value)["id"] for r in records if r.value)
    finally:
        await reader.stop()
    return seen


async def _written(runtime: ServiceRuntime) -> list[str]:
    async with runtime.db.session() as session:
        return list((await session.exec(select(OutboxMessage.event_id))).all())


async def _drained(runtime: ServiceRuntime) -> bool:
    return await pending_count(runtime.db) == 0


async def test_writes_made_during_a_minute_long_broker_outage_all_arrive_once(
    tmp_path: Path, tokens: dict[Role, str]
) -> None:
    inner, port = processes.free_port(), processes.free_port()
    broker = processes.Managed(
        "kafka (tansu)",
        [
            processes.tansu_binary(),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{inner}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{port}",  # clients reach it through the proxy only
        ],
        tmp_path / "tansu.log",
    )
    broker.start()
    processes.wait_for_port(broker, inner, timeout=20)
    outage = Outage(port, inner)
    await outage.up()
    url = f"sqlite+aiosqlite:///{tmp_path / 'outage.db'}"
    kafka = f"127.0.0.1:{port}"
    api = make_runtime("provider_registry", url, tmp_path, roles=frozenset({ProcessRole.API}))
    relay = make_runtime(
        "provider_registry", url, tmp_path, kafka=kafka, roles=frozenset({ProcessRole.RELAY})
    )
    await api.start()
    await relay.start()
    statuses: list[int] = []
    down_for = 0.0
    try:
        async with client_for(api, tokens[Role.COMMISSIONER]) as client:
            before = await client.post("/providers", json=provider_body(urn=300000))
            assert before.status_code == 201, before.text
            await eventually(lambda: _drained(relay), within=30)

            await outage.down()
            # One write on each 2-second tick of the minute, whatever a write costs on a
            # loaded machine: the count is fixed, the outage lasts the whole minute.
            loop = asyncio.get_running_loop()
            began = loop.time()
            for tick in range(WRITES):
                await asyncio.sleep(max(0.0, began + tick * WRITE_EVERY_S - loop.time()))
                created = await client.post("/providers", json=provider_body(urn=300001 + tick))
                statuses.append(created.status_code)
            down_for = loop.time() - began
            assert await pending_count(api.db) >= len(statuses)  # all waiting

            await outage.up()  # the same port, the broker with its data
            await eventually(lambda: _drained(relay), within=120, interval=0.5)
        written = await _written(api)
        seen = await _published(relay)
    finally:
        await relay.stop()
        await api.stop()
        with contextlib.suppress(Exception):
            await outage.down()
        broker.stop()
    assert down_for >= OUTAGE_S - WRITE_EVERY_S  # every write came while it was down
    assert len(statuses) == WRITES
    assert set(statuses) == {201}
    assert len(written) >= len(statuses) + 1
    assert set(seen) == set(written), "an event was lost"
    assert [i for i, n in seen.items() if n > 1] == [], "an event arrived twice"
    assert relay.broker_losses() == 0  # the broker kept its data: no replay
