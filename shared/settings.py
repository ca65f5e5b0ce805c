"""Settings for every process, read from the environment with the `DPS_` prefix.

One class per service only where defaults differ (the HTTP port); everything else is
common so an operator configures all four services the same way.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.envelope import DEFAULT_SCHEMA_BASE
from shared.files import private_dir
from shared.identity_settings import IdentitySettings
from shared.ports import SERVICE_PORTS, SERVICES

# Compliance document files the provider register can tell by their first bytes, and the
# most DPS_DOCUMENT_MAX_BYTES may allow (the route's body cap is this plus form overhead).
DOCUMENT_TYPES: tuple[str, ...] = ("pdf", "png", "jpeg", "docx", "odt")
DOCUMENT_CEILING_BYTES = 32 * 1024 * 1024


# -- Transport and storage security (Kafka, Temporal, PostgreSQL) -------------------------
# One block, separate from identity and access: every process (services, `dps`) reads it.
KafkaProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
KafkaSaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]
PLAINTEXT_PROTOCOLS: frozenset[str] = frozenset({"PLAINTEXT", "SASL_PLAINTEXT"})


class TransportSettings(BaseSettings):
    """How processes reach Kafka, Temporal and PostgreSQL, and how Temporal payloads are
    encrypted. Read by shared/kafka_security.py, shared/temporal.py, shared/db.py."""

    model_config = SettingsConfigDict(env_prefix="DPS_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = Field(
        default="development",
        description="production refuses plaintext Kafka and generated payload keys",
    )
    kafka_security_protocol: KafkaProtocol = Field(
        default="PLAINTEXT",
        description="PLAINTEXT (embedded only), SSL (TLS, optionally client certificates), "
        "SASL_SSL (TLS and SASL); SASL_PLAINTEXT is for tests",
    )
    kafka_ssl_cafile: str = Field(default="", description="CA bundle; empty: system CAs")
    kafka_ssl_certfile: str = Field(default="", description="client certificate (mTLS)")
    kafka_ssl_keyfile: str = Field(default="", description="client certificate's key")
    kafka_ssl_key_password: SecretStr = SecretStr("")
    kafka_ssl_check_hostname: bool = True
    kafka_sasl_mechanism: KafkaSaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_oauth_token_url: str = Field(
        default="", description="OAUTHBEARER: the OAuth 2.0 token endpoint (client credentials)"
    )
    kafka_oauth_client_id: str = ""
    kafka_oauth_client_secret: SecretStr = SecretStr("")
    kafka_oauth_scope: str = ""

    temporal_tls: bool = Field(default=False, description="TLS to the Temporal frontend")
    temporal_tls_ca_file: str = Field(default="", description="server CA; empty: system CAs")
    temporal_tls_cert_file: str = Field(default="", description="client certificate (mTLS)")
    temporal_tls_key_file: str = Field(default="", description="client certificate's key")
    temporal_tls_server_name: str = Field(default="", description="overrides the SNI name")
    temporal_api_key: SecretStr = Field(
        default=SecretStr(""), description="Temporal Cloud API key (implies TLS)"
    )
    temporal_payload_encryption: bool = Field(
        default=True, description="AES-GCM encrypt workflow and activity payloads"
    )
    temporal_payload_keys: SecretStr = Field(
        default=SecretStr(""),
        description="id=base64key,... (32-byte keys); the first encrypts, all decrypt. "
        "Empty: one generated in the data folder (refused in production)",
    )

    codec_cors_origins: str = Field(
        default="http://127.0.0.1:8233,http://localhost:8233",
        description="Temporal UI origins allowed to call the codec endpoint (comma-separated)",
    )
    codec_roles: str = Field(
        default="commissioner",
        description="Roles that may decode payloads through the codec endpoint (they hold "
        "children's data), comma-separated",
    )

    database_sslmode: Literal["", "disable", "prefer", "require", "verify-ca", "verify-full"] = (
        Field(default="", description="PostgreSQL sslmode; empty: the driver's default")
    )
    database_sslrootcert: str = Field(default="", description="PostgreSQL server CA file")
    database_sslcert: str = Field(default="", description="PostgreSQL client certificate")
    database_sslkey: str = Field(default="", description="PostgreSQL client key")

    def database_tls_url(self, url: str) -> str:
        """`url` with DPS_DATABASE_SSL* as libpq parameters (psycopg reads them from the
        URL, so engines, migrations and `dps` commands all connect the same way)."""
        from sqlalchemy.engine import make_url  # not at import: `dps token` stays light

        parsed = make_url(url)
        if parsed.get_backend_name() != "postgresql" or not self.database_sslmode:
            return url
        tls = {
            "sslmode": self.database_sslmode,
            "sslrootcert": self.database_sslrootcert,
            "sslcert": self.database_sslcert,
            "sslkey": self.database_sslkey,
        }
        query = {**parsed.query, **{k: v for k, v in tls.items() if v}}
        return parsed.set(query=query).render_as_string(hide_password=False)

    @model_validator(mode="after")
    def _transport_consistent(self) -> TransportSettings:
        protocol = self.kafka_security_protocol
        if self.env == "production" and protocol in PLAINTEXT_PROTOCOLS:
            raise ValueError(
                f"DPS_KAFKA_SECURITY_PROTOCOL={protocol} is refused when DPS_ENV=production: "
                "children's data would cross the network unencrypted; use SASL_SSL or SSL"
            )
        if bool(self.kafka_ssl_certfile) != bool(self.kafka_ssl_keyfile):
            raise ValueError(
                "set both DPS_KAFKA_SSL_CERTFILE and DPS_KAFKA_SSL_KEYFILE, or neither"
            )
        if protocol.startswith("SASL"):
            if self.kafka_sasl_mechanism == "OAUTHBEARER":
                if not (self.kafka_oauth_token_url and self.kafka_oauth_client_id):
                    raise ValueError(
                        "DPS_KAFKA_SASL_MECHANISM=OAUTHBEARER needs DPS_KAFKA_OAUTH_TOKEN_URL "
                        "and DPS_KAFKA_OAUTH_CLIENT_ID"
                    )
            elif not (self.kafka_sasl_username and self.kafka_sasl_password.get_secret_value()):
                raise ValueError(
                    f"DPS_KAFKA_SECURITY_PROTOCOL={protocol} needs DPS_KAFKA_SASL_USERNAME "
                    "and DPS_KAFKA_SASL_PASSWORD"
                )
        if bool(self.temporal_tls_cert_file) != bool(self.temporal_tls_key_file):
            raise ValueError(
                "set both DPS_TEMPORAL_TLS_CERT_FILE and DPS_TEMPORAL_TLS_KEY_FILE, or neither"
            )
        if (
            self.env == "production"
            and self.temporal_payload_encryption
            and not self.temporal_payload_keys.get_secret_value()
        ):
            raise ValueError(
                "DPS_TEMPORAL_PAYLOAD_KEYS must be set when DPS_ENV=production (every replica "
                "needs the same keys; a key generated in one pod's data folder is not shared)"
            )
        return self


class CommonSettings(IdentitySettings, TransportSettings):
    """What every process (services and the `dps` command) needs to know; sign-in
    (DPS_ENV, DPS_JWT_SECRET, DPS_DEV_TOKENS, DPS_OIDC_*) is in IdentitySettings, transport
    security in TransportSettings."""

    model_config = SettingsConfigDict(env_prefix="DPS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path(".data"), description="SQLite files, secrets, logs")
    kafka_bootstrap: str = "127.0.0.1:9092"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
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

    training: bool = Field(
        default=False,
        description="training clock (`dps up --training`): the services' now follows the "
        "offset in the data folder (shared.clock); refused in production",
    )

    @model_validator(mode="after")
    def _no_training_clock_in_production(self) -> CommonSettings:
        if self.training and self.env == "production":
            from shared.clock import training_refused_in_production

            raise ValueError("DPS_TRAINING=true: " + training_refused_in_production())
        return self

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


class ServiceSettings(CommonSettings):
    """Settings of one service process."""

    service: ClassVar[str] = ""
    # The data dir whose pseudonym key file was read, and the key (pseudonym_key).
    _kept_pseudonym_key: tuple[Path, bytes] | None = PrivateAttr(default=None)

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
    # Provider register: compliance document files a provider uploads (issue 15).
    document_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=DOCUMENT_CEILING_BYTES,
        description="Largest compliance document file the provider register takes (413 "
        "above it); the console shows it in the upload hint",
    )
    document_types: str = Field(
        default=",".join(DOCUMENT_TYPES),
        description="Comma-separated file types the provider register takes, told by "
        f"their first bytes: any of {', '.join(DOCUMENT_TYPES)}",
    )
    # Open Contracting Data Standard output of procurement (docs/integration.md, OCDS).
    ocds_ocid_prefix: str = Field(
        default="ocds-xxxxxx",
        pattern=r"^ocds-[a-z0-9]{6}$",
        description="The council's OCID prefix, registered with the Open Contracting "
        "Partnership (ocds- and six lower-case letters or digits); every contracting "
        "process of the OCDS feed is <prefix>-<scheme id>[-<call-off>]. The default is a "
        "placeholder: set the registered one before publishing",
    )
    ocds_buyer_name: str = Field(
        default="The council",
        min_length=1,
        max_length=300,
        description="The buyer's name in the OCDS output (and its packages' publisher)",
    )
    ocds_buyer_id: str = Field(
        default="",
        pattern=r"^$|^[A-Z]{2}-[A-Z0-9]+-.+$",
        description="The buyer's organisation identifier, org-id style <scheme>-<id>: "
        "GB-PPON-... (its Find a Tender PPON) or GB-LAE-... (the register of local "
        "authorities in England); empty: the party is named only",
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
        held = self._kept_pseudonym_key
        if held is not None and held[0] == self.data_dir:
            return held[1]  # read once: every read of a child's record needs it
        path = self.data_dir / "child-pseudonym-key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        key = path.read_text().strip().encode()
        self._kept_pseudonym_key = (self.data_dir, key)
        return key

    @field_validator("document_types")
    @classmethod
    def _known_types(cls, value: str) -> str:
        names = [name.strip().lower() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - set(DOCUMENT_TYPES))
        if not names or unknown:
            raise ValueError(
                f"DPS_DOCUMENT_TYPES takes one or more of {', '.join(DOCUMENT_TYPES)}"
                + (f"; not {', '.join(unknown)}" if unknown else "")
            )
        return ",".join(dict.fromkeys(names))

    def allowed_document_types(self) -> tuple[str, ...]:
        return tuple(self.document_types.split(","))

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
            return self.database_tls_url(self.database_url)
        private_dir(self.data_dir)
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
