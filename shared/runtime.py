"""One service process: database, Kafka subscribers, outbox relay, broker watch, Temporal
worker and HTTP API, each switchable by role so operators can run them apart.

Every service's `app.py` describes itself with a ServiceDefinition; this module does the
rest the same way for all four.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Union

from fastapi import APIRouter, FastAPI, Request
from faststream.kafka import KafkaBroker
from temporalio.client import Client

from shared import temporal
from shared.bus import (
    BrokerWatch,
    RewindAfterLoss,
    broker_publisher,
    ensure_topics,
    make_broker,
    subscribe,
)
from shared.consumer import EventConsumer, Handler
from shared.contracts import dlq_topic, topic_module
from shared.db import Database, migrate
from shared.envelope import set_schema_base
from shared.http import create_app
from shared.logging import configure_logging, get_logger
from shared.outbox import OutboxRelay
from shared.settings import ServiceSettings

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
    watch: BrokerWatch | None = field(init=False, default=None)
    consumers: list[EventConsumer] = field(init=False, default_factory=list)
    subscribers: list[Any] = field(init=False, default_factory=list)
    rewinders: list[RewindAfterLoss] = field(init=False, default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        set_schema_base(self.settings.event_schema_base)
        self.db = Database(self.settings.effective_database_url())
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
            self.subscribers.append(subscribe(self.broker, consumer, self.settings, rewinder))

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

    async def start(self) -> None:
        await asyncio.to_thread(self.migrate)
        if self.watch_broker:
            await self._start_broker_watch()
        await self._start_broker()
        if self.use_temporal:
            await self._connect_temporal()
        if ProcessRole.RELAY in self.roles:
            relay = OutboxRelay(
                self.db,
                broker_publisher(self.broker),
                service=self.name,
                batch_size=self.settings.outbox_batch_size,
                poll_interval_s=self.settings.outbox_poll_interval_s,
            )
            self.spawn(relay.run(), "outbox-relay")
        if ProcessRole.WORKER in self.roles and self.temporal and self.definition.workflows:
            worker = temporal.make_worker(
                self.temporal,
                self.settings.task_queue,
                workflows=self.definition.workflows,
                activities=self.definition.activities(self),
            )
            self.spawn(worker.run(), "temporal-worker")
        for hook in self.definition.on_start:
            await hook(self)
        log.info("service.started", roles=sorted(self.roles), topics=self.topics)

    async def _start_broker_watch(self) -> None:
        self.watch = BrokerWatch(self.settings, self.db, self.topics, on_loss=self.rewind_consumers)
        try:
            await asyncio.wait_for(self.watch.start(), timeout=30)
        except Exception as exc:
            raise StartupError(
                f"cannot reach Kafka at {self.settings.kafka_bootstrap} ({exc!r}); "
                "start it (`dps up` does) or set DPS_KAFKA_BOOTSTRAP"
            ) from exc
        if self.roles & {ProcessRole.RELAY, ProcessRole.CONSUMER}:
            self.spawn(self.watch.run(), "broker-watch")

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

    async def _connect_temporal(self) -> None:
        try:
            self.temporal = await asyncio.wait_for(
                temporal.connect(self.settings.temporal_address, self.settings.temporal_namespace),
                timeout=30,
            )
        except Exception as exc:
            raise StartupError(
                f"cannot reach Temporal at {self.settings.temporal_address} ({exc!r}); "
                "start it (`dps up` does) or set DPS_TEMPORAL_ADDRESS"
            ) from exc

    def spawn(self, coro: Awaitable[None], name: str) -> None:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("task.crashed", task=name, error=repr(exc))
                raise

        self._tasks.append(asyncio.create_task(guarded(), name=name))

    async def stop(self, grace_s: float = 15.0) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # Bounded: a task stuck in a driver call must not keep the process alive.
            _done, stuck = await asyncio.wait(self._tasks, timeout=grace_s)
            for task in stuck:
                log.warning("task.stop_timed_out", task=task.get_name())
        self._tasks.clear()
        if self.shared_broker is None:
            await self.broker.stop()
        await self.db.dispose()

    # -- readiness ------------------------------------------------------------------
    async def check_database(self) -> None:
        await self.db.ping()

    async def check_broker(self) -> None:
        await ensure_topics(self.settings.kafka_bootstrap, [])

    async def check_temporal(self) -> None:
        if self.temporal is None:
            raise RuntimeError("not connected")
        await self.temporal.service_client.check_health(timeout=timedelta(seconds=2))

    # -- HTTP -----------------------------------------------------------------------
    def build_app(self) -> FastAPI:
        checks = {"database": self.check_database}
        if self.watch_broker:
            checks["broker"] = self.check_broker
        if self.use_temporal:
            checks["temporal"] = self.check_temporal

        app = create_app(
            self.name,
            title=self.definition.title,
            description=self.definition.description,
            jwt_secret=self.settings.signing_secret(),
            checks=checks,
        )
        app.state.runtime = self
        from shared.admin_api import router as admin_router  # imports this module

        app.include_router(admin_router)
        if ProcessRole.API in self.roles:
            for router in self.definition.routers:
                app.include_router(router)
        return app


def runtime_of(request: Request) -> ServiceRuntime:
    """FastAPI dependency: the runtime of the service serving this request."""
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
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
    )
    try:
        await uvicorn.Server(config).serve()
    finally:
        await runtime.stop()


def run_service(
    definition: ServiceDefinition, settings: ServiceSettings, roles: frozenset[ProcessRole]
) -> None:
    """Serve one service until interrupted (what `dps service NAME` and containers run)."""
    configure_logging(definition.name, settings.log_level, settings.log_json)
    asyncio.run(serve(ServiceRuntime(definition, settings, roles)))
