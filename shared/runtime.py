"""One service process: database, Kafka subscribers, outbox relay, broker watch, Temporal
worker and HTTP API, each switchable by role so operators can run them apart.

Every service's `app.py` describes itself with a ServiceDefinition; this module does the
rest the same way for all four.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Union
from wsgiref.simple_server import WSGIServer

from fastapi import APIRouter, Depends, FastAPI, Request
from faststream.kafka import KafkaBroker
from prometheus_client import start_http_server
from temporalio.client import Client
from temporalio.runtime import Runtime

from shared import clock, temporal
from shared.bus import (
    BrokerWatch,
    InTurn,
    RewindAfterLoss,
    broker_publisher,
    ensure_topics,
    make_broker,
    subscribe,
)
from shared.consumer import EventConsumer, Handler, redact_dead_letters
from shared.contracts import dlq_topic, topic_module
from shared.db import Database, migrate
from shared.envelope import set_schema_base
from shared.guard import guard
from shared.http import (
    ERROR_RESPONSES,
    SERVER_KEEP_ALIVE_S,
    EdgeSettings,
    ReadinessCheck,
    create_app,
)
from shared.idempotency import prune as prune_idempotency_keys
from shared.infra_models import utcnow
from shared.kafka_security import client_options
from shared.leases import Lease
from shared.logging import configure_logging, get_logger
from shared.loop_watch import LoopWatch
from shared.metrics import (
    CONSUMER_LAG,
    DB_POOLS,
    ROWS_PRUNED,
    TASK_RESTARTS,
    TASK_UNHEALTHY,
)
from shared.oidc import OidcVerifier
from shared.outbox import OutboxRelay, prune, prune_inbox, refresh_gauges
from shared.settings import ServiceSettings
from shared.tracing import configure_tracing

log = get_logger(__name__)


class ProcessRole(StrEnum):
    API = "api"  # HTTP routes
    CONSUMER = "consumer"  # Kafka subscribers
    RELAY = "relay"  # outbox relay and broker watch
    WORKER = "worker"  # Temporal worker


ALL_ROLES = frozenset(ProcessRole)


class StartupError(RuntimeError):
    """A dependency is missing at start; the message says what to do, in one line."""


Subscriptions = dict[str, dict[str, Handler]]
TaskFactory = Callable[[], Awaitable[None]]

TASK_MAX_FAILURES = 5  # quick deaths in a row before the process reports unhealthy
TASK_HEALTHY_RUN_S = 60.0  # a task that ran this long before dying starts counting anew
TASK_FIRST_BACKOFF_S = 0.5
TASK_MAX_BACKOFF_S = 30.0
GAUGE_REFRESH_S = 5.0
TEMPORAL_CONNECT_TIMEOUT_S = 5.0


@dataclass
class ServiceDefinition:
    name: str
    title: str
    migrations_dir: Path
    publishes: Sequence[str]
    routers: Sequence[APIRouter] = ()
    subscriptions: Callable[[ServiceRuntime], Subscriptions] = lambda _rt: {}
    workflows: Sequence[type] = ()
    activities: Callable[[ServiceRuntime], Sequence[Callable[..., Any]]] = lambda _rt: ()
    on_start: Sequence[Callable[[ServiceRuntime], Awaitable[None]]] = ()
    description: str = ""


@dataclass
class ServiceRuntime:
    definition: ServiceDefinition
    settings: ServiceSettings
    roles: frozenset[ProcessRole] = ALL_ROLES
    use_temporal: bool = True
    watch_broker: bool = True
    # Tests pass one broker to several runtimes so FastStream's test broker routes
    # events between services in memory.
    shared_broker: KafkaBroker | None = None
    db: Database = field(init=False)
    broker: KafkaBroker = field(init=False)
    temporal: Client | None = field(init=False, default=None)
    core: Runtime | None = field(init=False, default=None)
    watch: BrokerWatch | None = field(init=False, default=None)
    consumers: list[EventConsumer] = field(init=False, default_factory=list)
    subscribers: list[Any] = field(init=False, default_factory=list)
    rewinders: list[RewindAfterLoss] = field(init=False, default_factory=list)
    turns: list[InTurn] = field(init=False, default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)
    _leases: list[Lease] = field(init=False, default_factory=list)
    _metrics_server: WSGIServer | None = field(init=False, default=None)
    _singletons: Lease | None = field(init=False, default=None)
    _hooks_ran: bool = field(init=False, default=False)
    _loop_watch: LoopWatch | None = field(init=False, default=None)
    # Background tasks that keep dying, by name, with why (served by /healthz).
    unhealthy: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if problems := self.settings.identity_problems():
            # Before anything opens: a production service never serves with weak sign-in.
            raise StartupError("refusing to start: " + "; ".join(problems))
        set_schema_base(self.settings.event_schema_base)
        self.db = Database(self.settings.effective_database_url())
        if self.db.pool_capacity:
            DB_POOLS.track(self.db, self.name, self.db.connections_in_use, self.db.pool_capacity)
        self.broker = self.shared_broker or make_broker(self.settings)
        if ProcessRole.CONSUMER in self.roles:
            self._register_subscribers()
        self._document_publications()

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def source(self) -> str:
        return f"dps/{self.name}"

    @property
    def topics(self) -> list[str]:
        consumed = [c.topic for c in self.consumers]
        dlqs = [dlq_topic(t) for t in consumed]
        return sorted({*self.definition.publishes, *consumed, *dlqs})

    def _register_subscribers(self) -> None:
        for topic, handlers in self.definition.subscriptions(self).items():
            consumer = EventConsumer(
                service=self.name,
                topic=topic,
                handlers=handlers,
                db=self.db,
                max_attempts=self.settings.consumer_max_attempts,
                retry_backoff_s=self.settings.consumer_retry_backoff_s,
            )
            self.consumers.append(consumer)
            rewinder = RewindAfterLoss(self.broker_losses)
            self.rewinders.append(rewinder)
            turn = InTurn()
            self.turns.append(turn)
            self.subscribers.append(subscribe(self.broker, consumer, self.settings, rewinder, turn))

    def _document_publications(self) -> None:
        """Declare what we publish, for the AsyncAPI document only: the outbox relay
        sends the bytes, but readers of the spec need each topic's event types."""
        for topic in self.definition.publishes:
            models = tuple(topic_module(topic).EVENT_TYPES.values())
            self.broker.publisher(
                topic,
                title=f"{topic}:publish",
                description=f"CloudEvents envelopes; `data` is one of: "
                f"{', '.join(topic_module(topic).EVENT_TYPES)}",
                schema=Union[models],  # noqa: UP007 - a runtime union of the topic's models
            )

    # -- lifecycle ------------------------------------------------------------------
    def migrate(self) -> None:
        migrate(self.db.url, self.definition.migrations_dir)

    @property
    def needs_broker(self) -> bool:
        """The api role only writes its outbox: it starts and serves without Kafka."""
        return bool(self.roles & {ProcessRole.RELAY, ProcessRole.CONSUMER})

    async def start(self) -> None:
        self._loop_watch = LoopWatch(asyncio.get_running_loop())
        self._loop_watch.start()
        clock.configure(  # the training clock, when `dps up --training` started us
            training=self.settings.training,
            production=self.settings.env == "production",
            data_dir=self.settings.data_dir,
        )
        if self.settings.migrate_on_start:
            await asyncio.to_thread(self.migrate)
        if self.watch_broker and self.needs_broker:
            await self._start_broker_watch()
        if self.needs_broker:
            await self._start_broker()
        if self.use_temporal:
            self._start_core()
            await self._connect_temporal()
        if ProcessRole.RELAY in self.roles:
            self._start_relay()
        if ProcessRole.CONSUMER in self.roles and self.watch_broker:
            self.spawn(self._measure_lag, "consumer-lag")
        if ProcessRole.WORKER in self.roles and self.temporal and self.definition.workflows:
            self.spawn(self._run_worker, "temporal-worker")
        if ProcessRole.RELAY in self.roles:
            await self._start_singletons()
        self._start_metrics_port()
        log.info("service.started", roles=sorted(self.roles), topics=self.topics)

    def _start_metrics_port(self) -> None:
        # /metrics on an internal port (the API port's can be closed: DPS_EXPOSE_METRICS).
        if self.settings.metrics_port:
            self._metrics_server, _ = start_http_server(
                self.settings.metrics_port, addr=self.settings.http_host
            )

    def _start_relay(self) -> None:
        # SQLite is one process's file: one relay, no lease (see shared.outbox).
        lease = None if self.db.is_sqlite else self.lease("outbox-relay")
        relay = OutboxRelay(
            self.db,
            broker_publisher(self.broker),
            service=self.name,
            batch_size=self.settings.outbox_batch_size,
            poll_interval_s=self.settings.outbox_poll_interval_s,
            lease=lease,
            broker_intact=self.watch.ensure_intact if self.watch is not None else None,
        )
        self.spawn(relay.run, "outbox-relay")
        self.spawn(self._refresh_outbox_gauges, "outbox-gauges")

    def lease(self, name: str) -> Lease:
        lease = Lease(self.name, name, ttl_s=self.settings.lease_ttl_s)
        self._leases.append(lease)
        return lease

    async def _run_worker(self) -> None:
        assert self.temporal is not None
        worker = temporal.make_worker(
            self.temporal,
            self.settings.task_queue,
            workflows=self.definition.workflows,
            activities=self.definition.activities(self),
            service=self.name,
        )
        await worker.run()

    async def _refresh_outbox_gauges(self) -> None:
        while True:
            await refresh_gauges(self.db, self.name)
            await asyncio.sleep(GAUGE_REFRESH_S)

    async def _measure_lag(self) -> None:
        """Lag per partition from each subscriber's own client: no extra connection.
        A partition another replica took over in a rebalance is no longer reported here,
        so summing over replicas counts each partition once."""
        reported: set[tuple[str, str]] = set()
        while True:
            now: set[tuple[str, str]] = set()
            for subscriber in self.subscribers:
                kafka = getattr(subscriber, "consumer", None)
                if kafka is not None:
                    now |= await record_lag(self.name, kafka)
            for topic, partition in reported - now:
                CONSUMER_LAG.remove(self.name, topic, partition)
            reported = now
            await asyncio.sleep(GAUGE_REFRESH_S)

    # -- once per service -------------------------------------------------------------
    async def _start_singletons(self) -> None:
        """Run the service's on_start hooks (sweeps, schedules) and pruning in one
        replica: the holder of the "singletons" lease. If it can hold it now (a single
        process always can) the hooks run before start() returns; else a standby waits."""
        self._singletons = self.lease("singletons")
        if await self._singletons.try_hold(self.db) and self._temporal_ready():
            await self._run_hooks()
        else:
            self.spawn(self._await_singletons, "singletons")
        self.spawn(self._maintain, "maintenance")

    def _temporal_ready(self) -> bool:
        return not self.use_temporal or self.temporal is not None

    async def _await_singletons(self) -> None:
        assert self._singletons is not None
        while True:
            if await self._singletons.try_hold(self.db) and self._temporal_ready():
                await self._run_hooks()
                return
            await asyncio.sleep(self.settings.lease_ttl_s / 3)

    async def _run_hooks(self) -> None:
        for hook in self.definition.on_start:
            await hook(self)
        self._hooks_ran = True

    async def _maintain(self) -> None:
        """Renew the singletons lease; prune the outbox and the inbox while holding it."""
        assert self._singletons is not None
        loop = asyncio.get_running_loop()
        last_prune = -self.settings.maintenance_interval_s
        while True:
            held = await self._singletons.try_hold(self.db)
            if self._hooks_ran and not held:
                # Another replica took over (we stalled past the ttl): our sweeps must
                # stop, so stop the process (the orchestrator restarts it as a standby).
                self.unhealthy["singletons"] = "lost the singletons lease"
                TASK_UNHEALTHY.labels(self.name, "singletons").set(1)
            if held and loop.time() - last_prune >= self.settings.maintenance_interval_s:
                last_prune = loop.time()
                await prune_kept_rows(self.db, self.name, self.settings)
            await asyncio.sleep(self.settings.lease_ttl_s / 3)

    async def _start_broker_watch(self) -> None:
        self.watch = BrokerWatch(self.settings, self.db, self.topics, on_loss=self.rewind_consumers)
        try:
            await asyncio.wait_for(self.watch.start(), timeout=30)
        except Exception as exc:
            raise StartupError(
                f"cannot reach Kafka at {self.settings.kafka_bootstrap} ({exc!r}); "
                "start it (`dps up` does) or set DPS_KAFKA_BOOTSTRAP"
            ) from exc
        if self.watch.enabled and self.roles & {ProcessRole.RELAY, ProcessRole.CONSUMER}:
            self.spawn(self.watch.run, "broker-watch")

    async def rewind_consumers(self) -> None:
        """After the broker lost its data, read every topic again from its start.

        The new log's offsets mean nothing next to the old ones; the inbox makes the
        re-reading harmless, and skipping would lose events published meanwhile.
        """
        for rewinder in self.rewinders:
            await rewinder.rewind()

    def broker_losses(self) -> int:
        """How often this process saw the broker lose its data (at start or running)."""
        return self.watch.losses if self.watch is not None else 0

    async def _start_broker(self) -> None:
        try:
            await asyncio.wait_for(self.broker.start(), timeout=60)
        except Exception as exc:
            raise StartupError(
                f"cannot reach Kafka at {self.settings.kafka_bootstrap} ({exc!r}); "
                "start it (`dps up` does) or set DPS_KAFKA_BOOTSTRAP"
            ) from exc

    def _start_core(self) -> None:
        address = self.settings.temporal_metrics_address()
        try:
            self.core = temporal.core_runtime(self.name, address)
        except ValueError as exc:
            raise StartupError(
                f"cannot serve Temporal metrics on {address} ({exc}); stop what uses the "
                "port or set DPS_TEMPORAL_METRICS_PORT (0: off)"
            ) from exc

    async def _connect_temporal(self) -> None:
        """The worker cannot start without Temporal; the other roles start anyway and
        connect in the background (an API write whose workflow cannot start yet is
        picked up by the service's sweep once Temporal is back)."""
        if ProcessRole.WORKER not in self.roles:
            try:
                await self._try_temporal(TEMPORAL_CONNECT_TIMEOUT_S)
            except Exception as exc:
                log.warning("temporal.unreachable", error=repr(exc), action="retrying")
                self.spawn(self._reconnect_temporal, "temporal-connect")
            return
        try:
            await self._try_temporal(30)
        except Exception as exc:
            raise StartupError(
                f"cannot reach Temporal at {self.settings.temporal_address} ({exc!r}); "
                "start it (`dps up` does) or set DPS_TEMPORAL_ADDRESS"
            ) from exc

    async def _try_temporal(self, timeout_s: float) -> None:
        self.temporal = await asyncio.wait_for(
            temporal.connect(
                self.settings.temporal_address,
                self.settings.temporal_namespace,
                runtime=self.core,
                settings=self.settings,
            ),
            timeout=timeout_s,
        )

    async def _reconnect_temporal(self) -> None:
        delay = 1.0
        while self.temporal is None:
            await asyncio.sleep(delay)
            try:
                await self._try_temporal(TEMPORAL_CONNECT_TIMEOUT_S)
            except Exception as exc:
                delay = min(TASK_MAX_BACKOFF_S, delay * 2)
                log.warning("temporal.unreachable", error=repr(exc), retry_in_s=delay)
        log.info("temporal.connected")

    def spawn(self, work: TaskFactory, name: str) -> None:
        """Run a background task made by `work`, restarted with backoff when it dies;
        after TASK_MAX_FAILURES quick deaths the process is unhealthy: /healthz answers
        503 naming the task. A factory, not a coroutine: a coroutine could not be run
        again, and one cancelled before it started would never have been awaited."""
        self._tasks.append(asyncio.create_task(self._supervise(work, name), name=name))

    async def _supervise(self, work: TaskFactory, name: str) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        while True:
            started = loop.time()
            try:
                await work()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("task.crashed", task=name, error=repr(exc))
                failures = 1 if loop.time() - started > TASK_HEALTHY_RUN_S else failures + 1
                if failures >= TASK_MAX_FAILURES:
                    self.unhealthy[name] = f"died {failures} times, last {type(exc).__name__}"
                    TASK_UNHEALTHY.labels(self.name, name).set(1)
            TASK_RESTARTS.labels(self.name, name).inc()
            await asyncio.sleep(min(TASK_MAX_BACKOFF_S, TASK_FIRST_BACKOFF_S * 2 ** (failures - 1)))

    async def stop(self, grace_s: float = 15.0) -> None:
        if self._loop_watch is not None:
            self._loop_watch.stop()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # Bounded: a task stuck in a driver call must not keep the process alive.
            _done, stuck = await asyncio.wait(self._tasks, timeout=grace_s)
            for task in stuck:
                log.warning("task.stop_timed_out", task=task.get_name())
        self._tasks.clear()
        if self.watch is not None:
            await self.watch.close()
        for lease in self._leases:
            if lease.held:
                with contextlib.suppress(Exception):  # it expires anyway
                    await lease.release(self.db)
        await self._finish_batches(grace_s)  # committed while the consumers are up
        if self.shared_broker is None and self.needs_broker:
            await self.broker.stop()
        await self._finish_batches(grace_s)  # one handed over while the broker stopped
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server = None
        DB_POOLS.forget(self.db)
        await self.db.dispose()

    async def _finish_batches(self, grace_s: float) -> None:
        for turn in self.turns:  # the batch each subscriber is applying
            await turn.finish(grace_s)

    # -- readiness ------------------------------------------------------------------
    async def check_database(self) -> None:
        await self.db.ping()

    async def check_broker(self) -> None:
        await ensure_topics(
            self.settings.kafka_bootstrap, [], options=client_options(self.settings)
        )

    async def check_temporal(self) -> None:
        if self.temporal is None:
            raise RuntimeError("not connected")
        await self.temporal.service_client.check_health(timeout=timedelta(seconds=2))

    # -- HTTP -----------------------------------------------------------------------
    def readiness_checks(self) -> dict[str, ReadinessCheck]:
        """What this process's roles need to do their work, and nothing more: the api
        role needs only its database (writes wait in the outbox, workflows in the sweep)."""
        checks: dict[str, ReadinessCheck] = {"database": self.check_database}
        if self.watch_broker and self.needs_broker:
            checks["broker"] = self.check_broker
        if self.use_temporal and ProcessRole.WORKER in self.roles:
            checks["temporal"] = self.check_temporal
        return checks

    def build_app(self) -> FastAPI:
        checks = self.readiness_checks()

        app = create_app(
            self.name,
            title=self.definition.title,
            description=self.definition.description,
            jwt_secret=self.settings.signing_secret()
            if self.settings.dev_tokens_enabled()
            else None,
            oidc=OidcVerifier(self.settings, self.name) if self.settings.oidc_issuer else None,
            checks=checks,
            health=lambda: self.unhealthy,
            edge=EdgeSettings(
                max_body_bytes=self.settings.max_body_bytes,
                trust_forwarded_proto=self.settings.trust_forwarded_proto,
                expose_docs=self.settings.expose_docs,
                expose_metrics=self.settings.expose_metrics,
                trust_forwarded_for=self.settings.trust_forwarded_for,
                rate_limit_storage_uri=self.settings.rate_limit_storage_uri,
                rate_limit_auth_failures=self.settings.rate_limit_auth_failures,
                rate_limit_writes=self.settings.rate_limit_writes,
            ),
        )
        app.state.runtime = self
        from shared.admin_api import router as admin_router  # imports this module
        from shared.audit_api import router as audit_router

        # Every route: writes counted, POSTs' Idempotency-Key honoured (shared.guard).
        guarded = [Depends(guard)]
        app.include_router(admin_router, responses=ERROR_RESPONSES, dependencies=guarded)
        app.include_router(audit_router, responses=ERROR_RESPONSES, dependencies=guarded)
        if ProcessRole.API in self.roles:
            for router in self.definition.routers:
                app.include_router(router, responses=ERROR_RESPONSES, dependencies=guarded)
        return app


async def record_lag(service: str, kafka: Any) -> set[tuple[str, str]]:
    """Set dps_consumer_lag for each partition an aiokafka consumer is assigned; return
    the (topic, partition) labels set."""
    found: set[tuple[str, str]] = set()
    for tp in kafka.assignment():
        end = kafka.highwater(tp)
        if end is None:
            continue  # not fetched yet
        committed = await kafka.committed(tp)
        labels = (tp.topic, str(tp.partition))
        CONSUMER_LAG.labels(service, *labels).set(max(0, end - (committed or 0)))
        found.add(labels)
    return found


async def prune_kept_rows(db: Database, service: str, settings: ServiceSettings) -> None:
    """Delete outbox rows past their retention, then inbox entries past theirs (which
    settings keep longer than the outbox's replay window); redact dead letters past
    theirs (UK GDPR Art. 5(1)(e): the personal fields the contracts mark go)."""
    outbox_rows = await prune(db, timedelta(days=settings.outbox_retention_days))
    inbox_rows = await prune_inbox(db, timedelta(days=settings.inbox_retention_days))
    redacted = await redact_dead_letters(
        db, timedelta(days=settings.dead_letter_retention_days), utcnow()
    )
    keys = await prune_idempotency_keys(db, timedelta(hours=settings.idempotency_retention_hours))
    ROWS_PRUNED.labels(service, "outbox").inc(outbox_rows)
    ROWS_PRUNED.labels(service, "inbox").inc(inbox_rows)
    ROWS_PRUNED.labels(service, "idempotency_key").inc(keys)
    if outbox_rows or inbox_rows or redacted or keys:
        log.info(
            "rows.pruned",
            outbox=outbox_rows,
            inbox=inbox_rows,
            dead_letters_redacted=redacted,
            idempotency_keys=keys,
        )


async def runtime_of(request: Request) -> ServiceRuntime:
    """FastAPI dependency: the runtime of the service serving this request (async only
    because FastAPI runs a plain function's dependency in a worker thread: ~0.2 ms)."""
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


async def serve(runtime: ServiceRuntime) -> None:
    """Start the runtime, serve HTTP until stopped, then stop the runtime."""
    import uvicorn

    settings = runtime.settings
    port = settings.effective_http_port()
    if not port_is_free(settings.http_host, port):
        raise StartupError(
            f"port {port} on {settings.http_host} is already in use; stop what uses it "
            f"or set DPS_HTTP_PORT"
        )
    app = runtime.build_app()
    await runtime.start()
    freeze_startup_heap()
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_keep_alive=SERVER_KEEP_ALIVE_S,
    )
    try:
        await uvicorn.Server(config).serve()
    finally:
        await runtime.stop()


def freeze_startup_heap() -> None:
    """Take what is alive once a process has started (its imported modules, app, schemas
    and compiled statements: most of its heap, and all of it for good) out of the cyclic
    collector's view. Otherwise every full collection walks all of it again: a consumer
    batch's allocations set off full collections often enough that, in
    `bench.ehc_ingest_cpu`, the ingest spent a quarter of its CPU on PostgreSQL and an
    eighth on SQLite walking the start-up heap (docs/performance.md). A process entry
    point calls it once, after start-up; never a library or a test, whose later garbage
    it would keep.
    """
    gc.collect()  # what start-up left as garbage goes now, not frozen with the rest
    gc.freeze()


def run_service(
    definition: ServiceDefinition, settings: ServiceSettings, roles: frozenset[ProcessRole]
) -> None:
    """Serve one service until interrupted (what `dps service NAME` and containers run)."""
    configure_logging(definition.name, settings.log_level, settings.log_json)
    configure_tracing(definition.name, settings.otlp_endpoint)
    asyncio.run(serve(ServiceRuntime(definition, settings, roles)))
