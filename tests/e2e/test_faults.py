"""Faults, with every service its own process and effects counted through the public
APIs (not deliveries): kill -9 of each service mid-stream, loss of the in-memory broker,
a Temporal server restart under a waiting workflow, poison messages on every consumed
topic, and two processes of one service sharing its partitions."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing._timeskipping import TimeSkipper

from dps import processes
from shared.contracts.common import Role
from tests.conftest import TEST_SECRET
from tests.e2e.conftest import RunningStack
from tests.e2e.steps import ok, placement_request, send, token, wait_for
from tests.fixtures import provider_body

pytestmark = pytest.mark.e2e

# Where each consumed topic is applied, and by whom (DESIGN.md's services table).
CONSUMERS = {
    "ehc.plans.v1": ["placements"],
    "providers.v1": ["procurement", "placements", "monitoring"],
    "placements.v1": ["procurement", "monitoring"],
    "procurement.v1": ["placements", "monitoring"],
    "quality.v1": ["provider_registry"],
}


def report(fault: str, *, sent: int, faults: int) -> None:
    """The figures docs/reliability.md quotes (pytest -s shows them). Loss and double
    application were both checked by Stream.converged before this line is reached."""
    print(
        f"\nRELIABILITY {fault}: events sent {sent}, faults injected {faults}, "
        "events lost 0, duplicates applied 0"
    )


class Stream:
    """Events flowing into the system, and the effects they must have."""

    def __init__(self, stack: RunningStack, tag: str) -> None:
        self.stack = stack
        self.tag = tag
        self.providers: list[str] = []
        self.children: list[str] = []
        self.registry = stack.client("provider_registry", token(Role.COMMISSIONER))

    def providers_batch(self, count: int) -> None:
        for _ in range(count):
            urn = 600000 + len(self.providers) + 1000 * (hash(self.tag) % 300)
            body = provider_body(urn=urn, name=f"{self.tag} school {len(self.providers)}")
            self.providers.append(
                ok(self.registry.post("/providers", json=body), 201)["provider_id"]
            )

    async def requests_batch(self, count: int) -> None:
        children = [f"{self.tag}-{len(self.children) + i:04d}".upper() for i in range(count)]
        self.children += children
        await send(
            self.stack.plan.kafka_bootstrap,
            "ehc.plans.v1",
            *[placement_request(child) for child in children],
        )

    def converged(self) -> bool:
        """Every provider known to monitoring once; every child has exactly one need."""
        monitoring = self.stack.client("monitoring", token(Role.ADMIN))
        known = {p["provider_id"] for p in monitoring.get("/providers").json()}
        if not set(self.providers) <= known:
            return False
        placements = self.stack.client("placements", token(Role.ADMIN))
        for child in self.children:
            needs = placements.get("/needs", params={"child_ref": child}).json()
            if needs["total"] != 1:
                assert needs["total"] < 2, f"{child} has {needs['total']} needs: applied twice"
                return False
        return True


async def test_kill_9_each_service_mid_stream(running_stack: RunningStack) -> None:
    stream = Stream(running_stack, "kill")
    kills = 0
    for service in ("monitoring", "placements", "procurement", "provider_registry"):
        stream.providers_batch(3)
        await stream.requests_batch(5)
        running_stack.kill(service)  # SIGKILL, wherever it was
        kills += 1
        await stream.requests_batch(5)  # flows on while it is down (broker keeps it)
        running_stack.restart(service)
        stream.providers_batch(2)
    wait_for(stream.converged, within=120)
    report(
        "kill -9 of each service", sent=len(stream.providers) + len(stream.children), faults=kills
    )


async def test_broker_loses_everything_and_the_outbox_restores_it(
    running_stack: RunningStack,
) -> None:
    stream = Stream(running_stack, "broker")
    stream.providers_batch(5)
    await stream.requests_batch(5)
    wait_for(stream.converged, within=90)
    broker = running_stack.stack.broker
    assert broker is not None
    broker.kill()  # Tansu keeps everything in memory: topics, offsets and messages go
    broker.start()
    processes.wait_for_port(broker, running_stack.plan.kafka_port, timeout=20)
    stream.providers_batch(5)  # published by the outbox once the broker is back
    await stream.requests_batch(5)
    wait_for(stream.converged, within=120)
    report(
        "broker restart (data lost)", sent=len(stream.providers) + len(stream.children), faults=1
    )


async def test_temporal_restart_keeps_waiting_timers(running_stack: RunningStack) -> None:
    """A critical alert's escalation timer survives a kill -9 of the Temporal server."""
    stream = Stream(running_stack, "temporal")
    stream.providers_batch(1)
    provider_id = stream.providers[0]
    inspection = {"inspected_on": str(date.today() - timedelta(days=1)), "overall": "inadequate"}
    ok(stream.registry.post(f"/providers/{provider_id}/inspections", json=inspection), 201)
    monitoring = running_stack.client("monitoring", token(Role.MONITORING_OFFICER))
    alert = wait_for(
        lambda: monitoring.get(
            "/alerts", params={"status": "open", "severity": "critical", "provider_id": provider_id}
        ).json()
    )[0]
    client = await Client.connect(running_stack.plan.temporal_address)
    handle = client.get_workflow_handle(f"alert-escalation-{alert['alert_id']}")
    await eventually_started(handle)
    server = running_stack.stack.temporal
    assert server is not None
    server.kill()
    server.start()
    processes.wait_for_port(server, running_stack.plan.temporal_port, timeout=60)
    client = await connect_when_healthy(running_stack.plan.temporal_address)
    handle = client.get_workflow_handle(f"alert-escalation-{alert['alert_id']}")
    await TimeSkipper(client).fast_forward(handle, timedelta(days=5))
    escalated = wait_for(
        lambda: (a := monitoring.get(f"/alerts/{alert['alert_id']}").json())["escalated_at"] and a,
        within=90,
    )
    assert escalated["status"] == "open"


async def connect_when_healthy(address: str) -> Client:
    """The port opens before the frontend is healthy ("Frontend is not healthy yet")."""
    for _ in range(120):
        try:
            return await Client.connect(address)
        except RuntimeError:
            await asyncio.sleep(0.5)
    raise AssertionError(f"Temporal at {address} never became healthy")


async def eventually_started(handle: Any) -> None:
    for _ in range(120):
        try:
            await handle.describe()
            return
        except RPCError:
            await asyncio.sleep(0.5)
    raise AssertionError(f"workflow {handle.id} never started")


async def test_poison_on_every_topic_is_set_aside_and_flow_goes_on(
    running_stack: RunningStack,
) -> None:
    for topic in CONSUMERS:
        await send(running_stack.plan.kafka_bootstrap, topic, b"\x00 poison for " + topic.encode())
    stream = Stream(running_stack, "poison")
    stream.providers_batch(2)
    await stream.requests_batch(2)
    wait_for(stream.converged, within=90)  # the partitions kept flowing
    admin = token(Role.ADMIN)
    for topic, services in CONSUMERS.items():
        for service in services:
            client = running_stack.client(service, admin)
            wait_for(
                lambda c=client, t=topic: [
                    d for d in c.get("/admin/dead-letters").json() if d["topic"] == t
                ]
            )
    # An operator inspects and re-drives with the CLI.
    env = {
        **os.environ,
        "DPS_JWT_SECRET": TEST_SECRET,
        **{f"DPS_URL_{s.upper()}": running_stack.url(s) for s in running_stack.plan.service_ports},
    }
    listing = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "dps.cli", "dlq", "list", "monitoring"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "providers.v1" in listing.stdout and "not JSON" in listing.stdout
    first_id = listing.stdout.split()[0].lstrip("#")
    retried = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "dps.cli", "dlq", "retry", "monitoring", first_id],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "re-published" in retried.stdout


async def test_two_processes_share_partitions_and_one_dies(running_stack: RunningStack) -> None:
    replica = running_stack.stack.start_replica("placements", processes.free_port())
    try:
        stream = Stream(running_stack, "scale")
        await stream.requests_batch(20)
        replica.kill()  # its partitions move to the other process
        await stream.requests_batch(20)
        wait_for(stream.converged, within=120)
    finally:
        replica.stop()
    report("scale-out, one of two consumers killed", sent=len(stream.children), faults=1)
