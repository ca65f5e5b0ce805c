"""Settings for every process, read from the environment with the `DPS_` prefix.

One class per service only where defaults differ (the HTTP port); everything else is
common so an operator configures all four services the same way.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.envelope import DEFAULT_SCHEMA_BASE

SERVICE_PORTS: dict[str, int] = {
    "provider_registry": 8001,
    "procurement": 8002,
    "placements": 8003,
    "monitoring": 8004,
}
SERVICES: tuple[str, ...] = tuple(SERVICE_PORTS)


class CommonSettings(BaseSettings):
    """What every process (services and the `dps` command) needs to know."""

    model_config = SettingsConfigDict(env_prefix="DPS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path(".data"), description="SQLite files, secrets, logs")
    kafka_bootstrap: str = "127.0.0.1:9092"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    jwt_secret: str = Field(default="", description="HS256 signing key; generated if empty")
    log_level: str = "INFO"
    log_json: bool = True
    otlp_endpoint: str = Field(
        default="",
        description="OTLP/HTTP traces endpoint (e.g. http://otel-collector:4318/v1/traces); "
        "empty: spans are not exported (the trace context still travels with events)",
    )
    event_schema_base: str = Field(
        default=DEFAULT_SCHEMA_BASE,
        description="Absolute URL where docs/schemas is published; events' dataschema "
        "attribute points into it (CloudEvents requires an absolute URI)",
    )

    @field_validator("event_schema_base")
    @classmethod
    def _absolute_schema_base(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("DPS_EVENT_SCHEMA_BASE must be an absolute http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("DPS_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    def signing_secret(self) -> str:
        """The JWT secret: from DPS_JWT_SECRET, else a local one kept in the data dir.

        A generated secret is shared by `dps token` and the services on one machine,
        which is all a development stack needs; production sets DPS_JWT_SECRET.
        """
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt-secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


class ServiceSettings(CommonSettings):
    """Settings of one service process."""

    service: ClassVar[str] = ""

    database_url: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 0
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="Largest request body a route takes (413 above it); a route may "
        "declare its own (placements' POST /ehc-events takes 4 MiB)",
    )
    trust_forwarded_proto: bool = Field(
        default=False,
        description="Behind a TLS-terminating proxy that sets X-Forwarded-Proto: trust it "
        "to decide HSTS. Leave false when clients reach the service directly.",
    )
    trust_forwarded_for: bool = Field(
        default=False,
        description="Behind a proxy that appends the client's address to X-Forwarded-For: "
        "rate-limit by that address. Leave false when clients reach the service directly.",
    )
    rate_limit_storage_uri: str = Field(
        default="memory://",
        description="Where rate-limit counters live: memory:// (one process) or a store "
        "several replicas share, e.g. redis://redis:6379 (needs the redis package)",
    )
    rate_limit_auth_failures: str = Field(
        default="30/minute",
        description="Failed authentications (401) one client address may make; past it "
        "every request from that address is a 429 until the window moves on",
    )
    rate_limit_writes: str = Field(
        default="6000/minute",
        description="POST/PUT/PATCH/DELETE requests one token subject may make (429 past it)",
    )
    idempotency_retention_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 30,
        description="How long an Idempotency-Key and its answer are kept (then pruned)",
    )
    expose_docs: bool = Field(
        default=True, description="Serve /docs and /openapi.json; production sets false"
    )
    expose_metrics: bool = Field(
        default=True,
        description="Serve /metrics on the API port; false closes it there (scrape an "
        "internal port instead, DPS_METRICS_PORT)",
    )
    metrics_port: int = Field(
        default=0, ge=0, le=65535, description="Serve /metrics on this internal port (0: none)"
    )
    # Tansu joins a group in about max(1 s, session_timeout/2): keep it short locally.
    # Apache Kafka refuses less than its group.min.session.timeout.ms (6 s by default),
    # so production sets DPS_CONSUMER_SESSION_TIMEOUT_MS=10000 (docker-compose, k8s).
    consumer_session_timeout_ms: int = Field(default=3000, ge=1000, le=300_000)
    consumer_batch_size: int = Field(default=500, ge=1, le=10_000)
    # How long a fetch may wait for data. Apache Kafka answers a waiting fetch as soon as
    # data arrives, but Tansu holds it to the end (docs/performance.md), so this
    # wait is the floor of every hop's latency there: 20 ms keeps a hop under ~25 ms at
    # the cost of an idle fetch every 20 ms per subscription.
    consumer_fetch_max_wait_ms: int = Field(default=20, ge=1, le=10_000)
    consumer_max_attempts: int = Field(default=3, ge=1, le=20)
    consumer_retry_backoff_s: float = Field(default=0.2, ge=0, le=60)
    outbox_batch_size: int = Field(default=500, ge=1, le=10_000)
    outbox_poll_interval_s: float = Field(default=0.5, gt=0, le=60)
    outbox_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Published outbox rows are kept this long: the window `dps replay` "
        "and the broker-loss watch can publish again.",
    )
    inbox_retention_days: int = Field(
        default=60,
        ge=2,
        le=3650,
        description="Applied event ids are kept this long so a redelivery is recognised. "
        "Must be longer than every producing service's outbox retention (its replay "
        "window), else a replayed event older than the inbox would be applied twice.",
    )
    migrate_on_start: bool = Field(
        default=True,
        description="Apply migrations when the process starts (under a PostgreSQL "
        "advisory lock). Deployments that run `dps migrate` as a Job set it false.",
    )
    lease_ttl_s: float = Field(
        default=15.0,
        ge=2,
        le=600,
        description="How long a replica holds the outbox-relay and periodic-job leases "
        "without renewing; a standby takes over after that.",
    )
    maintenance_interval_s: float = Field(
        default=300.0, gt=0, le=86_400, description="Pruning runs this often (one replica)."
    )
    # Dead letters keep their payload this long (to be retried), then the fields the
    # contracts mark personal are redacted (UK GDPR Art. 5(1)(e), storage limitation).
    dead_letter_retention_days: int = Field(default=30, ge=1, le=3650)
    # Placements: a closed need's, an ended placement's and a ceased plan's child data is
    # pseudonymised this long after (docs/law/children-data.md for the default).
    child_data_retention_days: int = Field(default=365, ge=1, le=3650)
    child_pseudonym_key: str = Field(
        default="", description="HMAC key of child pseudonyms; generated if empty"
    )
    # Apache Kafka in production: 3 replicas; Tansu and a single-node Kafka: 1.
    kafka_replication_factor: int = Field(default=1, ge=1, le=5)
    consumer_group: str = Field(default="", description="overrides dps.<service>")
    broker_watch_interval_s: float = Field(default=2.0, gt=0, le=300)
    broker_loss_watch: bool = Field(
        default=True,
        description="Watch for a broker that lost its data (the embedded in-memory Tansu "
        "forgets everything on restart) and replay the outbox when it does. A durable "
        "production Kafka (replicated topics) does not lose data that way: set false "
        "(docker-compose and deploy/k8s do); its recovery is a runbook (docs/operations.md).",
    )

    temporal_metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port where the Temporal SDK's Core serves its Prometheus metrics "
        "(workflow task schedule-to-start latency, task failures) on DPS_HTTP_HOST; they "
        "cannot share /metrics. 0: off (the embedded stack); docker-compose and deploy/k8s "
        "set 9464.",
    )

    def temporal_metrics_address(self) -> str:
        """Where Core's metrics are served, or "" when off."""
        port = self.temporal_metrics_port
        return f"{self.http_host}:{port}" if port else ""

    def pseudonym_key(self) -> bytes:
        """The key child references are pseudonymised with: DPS_CHILD_PSEUDONYM_KEY, else
        one kept in the data dir. Keep it secret and stable: the same child must get the
        same pseudonym, and only the key's holder can link a pseudonym to a reference."""
        if self.child_pseudonym_key:
            return self.child_pseudonym_key.encode()
        path = self.data_dir / "child-pseudonym-key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    @field_validator("rate_limit_auth_failures", "rate_limit_writes")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate such as '30/minute' or '10 per second'")
        return value

    @model_validator(mode="after")
    def _inbox_outlives_replay(self) -> ServiceSettings:
        if self.inbox_retention_days <= self.outbox_retention_days:
            raise ValueError(
                "DPS_INBOX_RETENTION_DAYS must be longer than DPS_OUTBOX_RETENTION_DAYS "
                "(the replay window), or replayed events could be applied twice"
            )
        return self

    @property
    def task_queue(self) -> str:
        return f"dps.{self.service}"

    @property
    def group_id(self) -> str:
        """The service's consumer group prefix, so each service scales on its own."""
        return self.consumer_group or f"dps.{self.service}"

    def group_for(self, topic: str) -> str:
        """One group per service and topic.

        Tansu (the embedded broker) mishandles a group whose several members all leave
        at once: the next process's member loops in JoinGroup and never starts (seen in
        most restarts with three topics in one group, never with a group per topic).
        Kafka treats topics independently anyway, so nothing is lost by splitting.
        """
        return f"{self.group_id}.{topic}"

    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.service}.db').resolve()}"

    def effective_http_port(self) -> int:
        return self.http_port or SERVICE_PORTS[self.service]


def settings_for(service: str, **overrides: object) -> ServiceSettings:
    """Build the settings class of `service` (a name from SERVICES)."""
    if service not in SERVICE_PORTS:
        raise ValueError(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}")
    cls: type[ServiceSettings] = type(
        f"{service.title().replace('_', '')}Settings", (ServiceSettings,), {"service": service}
    )
    return cls(**overrides)  # type: ignore[arg-type]
