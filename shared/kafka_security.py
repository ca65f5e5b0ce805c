"""TLS and SASL for every Kafka client: FastStream's broker, aiokafka admin, consumers and
producers (the broker-loss watch, readiness, lag, `dps` tools).

One function builds the connection options from TransportSettings, so no client can be
configured differently from the others (DPS_KAFKA_* in docs/operations.md).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Any

import httpx
from aiokafka.abc import AbstractTokenProvider
from aiokafka.helpers import create_ssl_context
from faststream.security import (
    BaseSecurity,
    SASLOAuthBearer,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)

from shared.settings import TransportSettings

# Refresh an OAuth token this long before it expires so no connection presents a stale one.
TOKEN_REFRESH_MARGIN_S = 30.0


class ClientCredentialsToken(AbstractTokenProvider):  # type: ignore[misc]
    """OAUTHBEARER tokens from the identity provider's token endpoint (RFC 6749 §4.4),
    kept until shortly before they expire (aiokafka asks on every new connection)."""

    def __init__(self, url: str, client_id: str, client_secret: str, scope: str = "") -> None:
        self.url = url
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self._token = ""
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            if self._token and time.monotonic() < self._expires_at - TOKEN_REFRESH_MARGIN_S:
                return self._token
            form = {"grant_type": "client_credentials"}
            if self.scope:
                form["scope"] = self.scope
            async with httpx.AsyncClient(timeout=10.0) as http:
                answer = await http.post(
                    self.url, data=form, auth=(self.client_id, self.client_secret)
                )
            answer.raise_for_status()
            body = answer.json()
            self._token = str(body["access_token"])
            self._expires_at = time.monotonic() + float(body.get("expires_in", 300))
            return self._token


def ssl_context(settings: TransportSettings) -> ssl.SSLContext | None:
    """The TLS context of SSL and SASL_SSL (server verified; a client certificate if set)."""
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    context: ssl.SSLContext = create_ssl_context(
        cafile=settings.kafka_ssl_cafile or None,
        certfile=settings.kafka_ssl_certfile or None,
        keyfile=settings.kafka_ssl_keyfile or None,
        password=settings.kafka_ssl_key_password.get_secret_value() or None,
    )
    context.check_hostname = settings.kafka_ssl_check_hostname
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def token_provider(settings: TransportSettings) -> ClientCredentialsToken | None:
    if not (
        settings.kafka_security_protocol.startswith("SASL")
        and settings.kafka_sasl_mechanism == "OAUTHBEARER"
    ):
        return None
    return ClientCredentialsToken(
        settings.kafka_oauth_token_url,
        settings.kafka_oauth_client_id,
        settings.kafka_oauth_client_secret.get_secret_value(),
        settings.kafka_oauth_scope,
    )


def client_options(settings: TransportSettings) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client (AIOKafkaConsumer, AIOKafkaProducer,
    AIOKafkaAdminClient): security protocol, TLS context and SASL credentials."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if protocol.startswith("SASL"):
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        provider = token_provider(settings)
        if provider is not None:
            options["sasl_oauth_token_provider"] = provider
        else:
            options["sasl_plain_username"] = settings.kafka_sasl_username
            options["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return options


def broker_security(settings: TransportSettings) -> BaseSecurity | None:
    """FastStream's description of the same options (it also documents them in AsyncAPI)."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl_context(settings)
    use_ssl = context is not None
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    mechanism = settings.kafka_sasl_mechanism
    if mechanism == "OAUTHBEARER":
        return SASLOAuthBearer(ssl_context=context, use_ssl=use_ssl)
    user = settings.kafka_sasl_username
    password = settings.kafka_sasl_password.get_secret_value()
    kind = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
    return kind[mechanism](user, password, ssl_context=context, use_ssl=use_ssl)
