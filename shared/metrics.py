"""Prometheus metrics every service exports on /metrics, labelled by service."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
BROKER_DATA_LOSS = Counter(
    "dps_broker_data_loss", "Times the broker was found to have lost its topics", ["service"]
)
HTTP_REQUESTS = Counter(
    "dps_http_requests", "HTTP requests served", ["service", "method", "route", "status"]
)
HTTP_SECONDS = Histogram("dps_http_request_seconds", "HTTP request latency", ["service", "route"])
