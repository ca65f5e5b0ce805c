"""Faults under `dps up` exactly as `make up` runs it (its own supervisor restarts what
dies; the tests only kill), with effects counted through the public APIs (not
deliveries): kill -9 of each service, of the broker and of Temporal mid-stream, a
Temporal kill under a waiting workflow, poison messages on every consumed topic, two
processes of one service sharing its partitions, and `dps down` then `dps up`."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
from datetime import date, timedelta
from functools import partial
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing._timeskipping import TimeSkipper

from dps import processes
from shared.contracts.common import Role
from shared.envelope import Envelope
from shared.settings import SERVICES
from tests.conftest import TEST_SECRET
from tests.e2e.conftest import BROKER, TEMPORAL, SupervisedStack
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
# Per fault: EHC requests before the kill, and again while the victim is down or back.
BEFORE, DURING = 100, 50
PROVIDERS = 4  # registrations before the kill and again after it
URNS = itertools.count(600000)  # unique within the module's stack


def report(fault: str, *, sent: int, faults: int) -> None:
    """The figures docs/reliability.md quotes (pytest -s shows them). Loss and double
    application were both checked by Stream.converged before this line is reached."""
    print(
        f"\nRELIABILITY {fault}: events sent {sent}, faults injected {faults}, "
        "events lost 0, duplicates applied 0"
    )


class Stream:
    """Events flowing into the system, and the effects they must have."""

    def __init__(self, stack: SupervisedStack, tag: str) -> None:
        self.stack = stack
        self.tag = tag
        self.providers: list[str] = []
        self.requests: list[Envelope] = []
        self.waiting: set[str] = set()  # children whose need has not been seen yet
        self.registry = stack.client("provider_registry", token(Role.COMMISSIONER))

    @property
    def children(self) -> list[str]:
        return [str(r.subject) for r in self.requests]

    @property
    def sent(self) -> int:
        return len(self.providers) + len(self.requests)

    def providers_batch(self, count: int) -> None:
        for _ in range(count):
            urn = next(URNS)
            body = provider_body(urn=urn, name=f"{self.tag} school {len(self.providers)}")
            self.providers.append(
                ok(self.registry.post("/providers", json=body), 201)["provider_id"]
            )

    async def requests_batch(self, count: int) -> None:
        first = len(self.requests)
        batch = [placement_request(f"{self.tag}-{first + i:04d}".upper()) for i in range(count)]
        self.requests += batch
        self.waiting |= {str(r.subject) for r in batch}
        await send(self.stack.plan.kafka_bootstrap, "ehc.plans.v1", *batch)

    async def send_again(self) -> None:
        """What the council's system does after our broker lost its data: it sends its
        events again (same ids). Only our own outboxes can be replayed by us."""
        await send(self.stack.plan.kafka_bootstrap, "ehc.plans.v1", *self.requests)

    def converged(self) -> bool:
        """Every provider known to monitoring; every child has exactly one need."""
        monitoring = self.stack.client("monitoring", token(Role.COMMISSIONER))
        known = {p["provider_id"] for p in ok(monitoring.get("/providers"))}
        if not set(self.providers) <= known:
            return False
        self.waiting = {c for c in self.waiting if needs_of(self, c) != 1}
        return not self.waiting

    def exactly_once(self) -> None:
        """After convergence and drain: still one need per child (no late double)."""
        for child in self.children:
            assert needs_of(self, child) == 1, child


def needs_of(stream: Stream, child: str) -> int:
    placements = stream.stack.client("placements", token(Role.COMMISSIONER))
    total = int(ok(placements.get("/needs", params={"child_ref": child}))["total"])
    assert total < 2, f"{child} has {total} needs: applied twice"
    return total


def dead_letters_of(client: httpx.Client, topic: str) -> list[dict[str, Any]]:
    return [d for d in ok(client.get("/admin/dead-letters")) if d["topic"] == topic]


def drained(stack: SupervisedStack, *, dead_letters: bool = True) -> bool:
    """No service has events left to publish or to read (or set aside, if counted)."""
    for service in SERVICES:
        status = ok(stack.client(service, token(Role.ADMIN)).get("/admin/status"))
        lags = [t["lag"] for t in status["consumer_lag"]]
        set_aside = status["dead_letters_not_retried"] if dead_letters else 0
        if status["outbox_backlog"] or any(lags) or set_aside:
            return False
    return True


@pytest.mark.parametrize(
    "victims",
    [
        ("monitoring",),
        ("placements",),
        ("procurement",),
        ("provider_registry",),
        pytest.param((BROKER,), id="broker"),
        pytest.param((TEMPORAL,), id="temporal"),
        # A consumer restarted after a broker loss must not resume from offsets of the
        # old log that reached the new broker (RewindAfterLoss).
        pytest.param((BROKER, "monitoring", "placements"), id="broker-then-consumers"),
    ],
)
async def test_kill_9_mid_stream_under_dps_up(
    supervised_stack: SupervisedStack, victims: tuple[str, ...]
) -> None:
    stack = supervised_stack
    tag = "k" + "".join(v.split()[0][:4] for v in victims)  # child refs: letters, digits, -
    stream = Stream(stack, tag)
    stream.providers_batch(PROVIDERS)
    for victim in victims:
        await stream.requests_batch(BEFORE // len(victims))
        pid = stack.kill(victim)  # SIGKILL, wherever it was in the stream
        if victim not in (BROKER, "provider_registry"):
            await stream.requests_batch(DURING // len(victims))  # the broker keeps these
        stack.wait_restarted(victim, pid)  # by `dps up`'s supervisor, not by this test
        assert f"{victim} killed by signal 9 (SIGKILL)" in stack.log()
        if victim == BROKER:
            await stream.send_again()
        if victim in (BROKER, "provider_registry"):
            await stream.requests_batch(DURING // len(victims))
        stream.providers_batch(max(1, PROVIDERS // len(victims)))
    wait_for(stream.converged, within=180)
    wait_for(lambda: drained(stack), within=60)
    stream.exactly_once()
    what = " then ".join(victims)
    report(f"kill -9 of {what} under dps up", sent=stream.sent, faults=len(victims))


async def test_temporal_restart_keeps_waiting_timers(supervised_stack: SupervisedStack) -> None:
    """A critical alert's escalation timer survives a kill -9 of the Temporal server."""
    stack = supervised_stack
    stream = Stream(stack, "temporal")
    stream.providers_batch(1)
    provider_id = stream.providers[0]
    inspection = {"inspected_on": str(date.today() - timedelta(days=1)), "overall": "inadequate"}
    ok(stream.registry.post(f"/providers/{provider_id}/inspections", json=inspection), 201)
    monitoring = stack.client("monitoring", token(Role.MONITORING_OFFICER))
    alert = wait_for(
        lambda: monitoring.get(
            "/alerts", params={"status": "open", "severity": "critical", "provider_id": provider_id}
        ).json()
    )[0]
    client = await Client.connect(stack.plan.temporal_address)
    handle = client.get_workflow_handle(f"alert-escalation-{alert['alert_id']}")
    await eventually_started(handle)
    stack.wait_restarted(TEMPORAL, stack.kill(TEMPORAL))
    client = await connect_when_healthy(stack.plan.temporal_address)
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
    supervised_stack: SupervisedStack,
) -> None:
    for topic in CONSUMERS:
        await send(
            supervised_stack.plan.kafka_bootstrap, topic, b"\x00 poison for " + topic.encode()
        )
    stream = Stream(supervised_stack, "poison")
    stream.providers_batch(2)
    await stream.requests_batch(2)
    wait_for(stream.converged, within=90)  # the partitions kept flowing
    admin = token(Role.ADMIN)
    for topic, services in CONSUMERS.items():
        for service in services:
            client = supervised_stack.client(service, admin)
            wait_for(partial(dead_letters_of, client, topic))
    # An operator inspects and re-drives with the CLI.
    env = {
        **os.environ,
        "DPS_JWT_SECRET": TEST_SECRET,
        **{
            f"DPS_URL_{s.upper()}": supervised_stack.url(s)
            for s in supervised_stack.plan.service_ports
        },
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


async def test_two_processes_share_partitions_and_one_dies(
    supervised_stack: SupervisedStack,
) -> None:
    replica = supervised_stack.stack.start_replica("placements", processes.free_port())
    try:
        stream = Stream(supervised_stack, "scale")
        await stream.requests_batch(20)
        replica.kill()  # its partitions move to the other process
        await stream.requests_batch(20)
        wait_for(stream.converged, within=120)
    finally:
        replica.stop()
    report("scale-out, one of two consumers killed", sent=len(stream.children), faults=1)


async def test_dps_down_then_up_applies_what_was_published_and_not_yet_consumed(
    supervised_stack: SupervisedStack,
) -> None:
    """Tansu forgets everything at `dps down`; at `dps up` every service finds its marker
    gone while its outbox shows it published before, and replays (runs last: it
    restarts the module's stack)."""
    stack = supervised_stack
    stream = Stream(stack, "downup")
    await stream.requests_batch(BEFORE)
    wait_for(lambda: all(needs_of(stream, c) == 1 for c in stream.children), within=120)
    stream.providers_batch(PROVIDERS)  # published by the registry; stopped before all are read
    stack.down()
    assert stack.process is not None and stack.process.returncode == 0, stack.log()
    stack.up()
    wait_for(stream.converged, within=180)
    for service in ("provider_registry", "placements"):
        status = ok(stack.client(service, token(Role.ADMIN)).get("/admin/status"))
        assert status["broker_data_losses"] == 1, f"{service} did not replay at start"
    wait_for(lambda: drained(stack, dead_letters=False), within=60)
    stream.exactly_once()
    report("dps down then dps up", sent=stream.sent, faults=1)


def test_dps_up_restarts_the_console(supervised_stack: SupervisedStack) -> None:
    """The console is supervised like the services: killed with -9, started again."""
    stack = supervised_stack
    pid = stack.kill("console")
    stack.wait_restarted("console", pid)
    assert "console killed by signal 9 (SIGKILL)" in stack.log()
    assert httpx.get(f"{stack.url('console')}/sign-in", timeout=5).status_code == 200
