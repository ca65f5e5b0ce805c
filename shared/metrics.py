"""Prometheus metrics every service exports on /metrics, labelled by service."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

EVENTS_CONSUMED = Counter(
    "dps_events_consumed", "Events applied by a consumer", ["service", "topic", "type"]
)
EVENTS_DUPLICATE = Counter(
    "dps_events_duplicate", "Redelivered events the inbox ignored", ["service", "topic"]
)
EVENTS_PUBLISHED = Counter(
    "dps_events_published", "Events the outbox relay published", ["service", "topic", "type"]
)
EVENTS_DEAD_LETTERED = Counter(
    "dps_events_dead_lettered",
    "Messages sent to a dead-letter topic",
    ["service", "topic", "reason"],
)
HANDLER_SECONDS = Histogram(
    "dps_handler_seconds",
    "Time to apply one batch of events in one transaction",
    ["service", "topic"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_BACKLOG = Gauge("dps_outbox_backlog", "Outbox rows not yet published", ["service"])
# Measured from the database by a task of its own, so it keeps rising while the broker
# is down (the relay's publishing never runs then).
OUTBOX_OLDEST_AGE = Gauge(
    "dps_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest outbox row not yet published (0 when none)",
    ["service"],
)
CONSUMER_LAG = Gauge(
    "dps_consumer_lag",
    "Records in a partition this replica has not yet read (high watermark - position)",
    ["service", "topic", "partition"],
)
LEASE_HELD = Gauge(
    "dps_lease_held",
    "1 if this replica holds the service's lease of that name",
    ["service", "lease"],
)
ROWS_PRUNED = Counter(
    "dps_rows_pruned", "Outbox and inbox rows deleted after their retention", ["service", "table"]
)
TASK_RESTARTS = Counter(
    "dps_task_restarts", "Background tasks that died and were restarted", ["service", "task"]
)
TASK_UNHEALTHY = Gauge(
    "dps_task_unhealthy",
    "1 while a background task keeps dying (the process answers /healthz 503)",
    ["service", "task"],
)
BROKER_DATA_LOSS = Counter(
    "dps_broker_data_loss", "Times the broker was found to have lost its topics", ["service"]
)
HTTP_REQUESTS = Counter(
    "dps_http_requests", "HTTP requests served", ["service", "method", "route", "status"]
)
HTTP_SECONDS = Histogram("dps_http_request_seconds", "HTTP request latency", ["service", "route"])
ACTIVITY_FAILURES = Counter(
    "dps_activity_failures",
    "Failed activity attempts (Temporal retries them)",
    ["service", "activity"],
)
WORKFLOW_FAILURES = Counter(
    "dps_workflow_failures",
    "Workflow runs that failed (kind=workflow) or workflow tasks that failed (kind=task)",
    ["service", "workflow", "kind"],
)


class DatabasePools(Collector):
    """dps_db_pool_in_use and dps_db_pool_size per service, read from SQLAlchemy's pools
    when /metrics is scraped (so never stale). PostgreSQL only: a SQLite file has no pool
    worth watching. Several runtimes of one service in a process (tests) add up."""

    def __init__(self) -> None:
        self._pools: dict[int, tuple[str, Callable[[], int], int]] = {}

    def track(self, owner: object, service: str, in_use: Callable[[], int], size: int) -> None:
        self._pools[id(owner)] = (service, in_use, size)

    def forget(self, owner: object) -> None:
        self._pools.pop(id(owner), None)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        in_use = GaugeMetricFamily(
            "dps_db_pool_in_use", "Database connections checked out of the pool", labels=["service"]
        )
        size = GaugeMetricFamily(
            "dps_db_pool_size",
            "Connections the pool may open (pool size + overflow)",
            labels=["service"],
        )
        totals: dict[str, tuple[int, int]] = {}
        for service, used, limit in list(self._pools.values()):
            was_used, was_limit = totals.get(service, (0, 0))
            totals[service] = (was_used + used(), was_limit + limit)
        for service, (used_now, limit) in sorted(totals.items()):
            in_use.add_metric([service], used_now)
            size.add_metric([service], limit)
        yield in_use
        yield size


DB_POOLS = DatabasePools()
REGISTRY.register(DB_POOLS)
