"""The console's settings (DPS_ prefix, like every process). It keeps no business data:
only where the four services are, how it signs its session cookie, and the environment."""

from __future__ import annotations

import secrets
from typing import Literal

from pydantic import Field, model_validator

from shared.identity_settings import weak_key_reason
from shared.settings import (
    DOCUMENT_CEILING_BYTES,
    DOCUMENT_TYPES,
    SERVICE_PORTS,
    CommonSettings,
)

CONSOLE_PORT = 8000


def _local(service: str) -> str:
    return f"http://127.0.0.1:{SERVICE_PORTS[service]}"


class ConsoleSettings(CommonSettings):
    env: Literal["development", "production"] = Field(
        default="development",
        description="production: Secure cookies, no development sign-in",
    )
    http_host: str = "127.0.0.1"
    console_port: int = Field(default=CONSOLE_PORT, ge=1, le=65535)
    provider_registry_url: str = _local("provider_registry")
    procurement_url: str = _local("procurement")
    placements_url: str = _local("placements")
    monitoring_url: str = _local("monitoring")
    upstream_timeout_s: float = Field(default=10.0, gt=0, le=120)
    session_secret: str = Field(
        default="",
        description="cookie signing key, the same for every replica; generated into the "
        "data folder if empty (development only: production refuses to start without it)",
    )
    session_max_age_s: int = Field(default=8 * 3600, ge=300, le=7 * 86400)
    trust_forwarded_proto: bool = False
    # The seam for the council's OpenID Connect sign-in (authorisation code with PKCE):
    # empty means not configured; see services/console/routes/signin.py.
    oidc_issuer: str = ""
    # Where the provider sends people back (/sign-in/callback); empty: from the request.
    oidc_redirect_uri: str = ""
    # The provider register's document file limits (the same DPS_ names, so one setting
    # serves both): the console refuses a larger upload itself, and says both in the hint.
    document_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=DOCUMENT_CEILING_BYTES)
    document_types: str = Field(default=",".join(DOCUMENT_TYPES))

    def allowed_document_types(self) -> tuple[str, ...]:
        names = [n.strip().lower() for n in self.document_types.split(",")]
        return tuple(n for n in dict.fromkeys(names) if n in DOCUMENT_TYPES) or DOCUMENT_TYPES

    @property
    def production(self) -> bool:
        return self.env == "production"

    @model_validator(mode="after")
    def _transport_consistent(self) -> ConsoleSettings:
        # Replaces TransportSettings' check of the same name: the console reaches no
        # broker, workflow engine or database, only the services' HTTP APIs, so it holds
        # none of their credentials (Kafka SASL, Temporal payload keys) and needs none.
        return self

    @model_validator(mode="after")
    def _console_fit_for_production(self) -> ConsoleSettings:
        if problems := self.console_problems():
            raise ValueError("; ".join(problems))
        return self

    def console_problems(self) -> list[str]:
        """What makes this configuration unfit to serve the console, each naming its
        setting. Production only: a development console generates what it lacks."""
        if not self.production:
            return []
        problems = []
        # Replicas behind one Service must share the key, or a person's session (and
        # their form's CSRF token) would be refused by every replica but the one that
        # signed it; a guessable key lets anyone forge a session.
        if not self.session_secret:
            problems.append(
                "DPS_SESSION_SECRET must be set when DPS_ENV=production (every replica "
                "needs the same cookie key; make one with `openssl rand -base64 48`)"
            )
        elif reason := weak_key_reason(self.session_secret) or (
            "a default or placeholder value" if _placeholder(self.session_secret) else None
        ):
            problems.append(f"DPS_SESSION_SECRET is {reason}; use `openssl rand -base64 48`")
        if self.oidc_client_secret and _placeholder(self.oidc_client_secret):
            problems.append(
                "DPS_OIDC_CLIENT_SECRET is a placeholder; set the console's client secret "
                "from the council's provider (or leave it empty for a public PKCE client)"
            )
        return problems

    def service_urls(self) -> dict[str, str]:
        return {
            "provider_registry": self.provider_registry_url,
            "procurement": self.procurement_url,
            "placements": self.placements_url,
            "monitoring": self.monitoring_url,
        }

    def cookie_secret(self) -> str:
        """DPS_SESSION_SECRET, else one kept in the data dir so replicas on one machine
        (and restarts) share it; production must set it (the validator above)."""
        if self.session_secret or self.production:
            return self.session_secret
        path = self.data_dir / "console-session-secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def _placeholder(value: str) -> bool:
    """A value left as shipped: deploy/k8s/secrets.yaml's CHANGE-ME, docker-compose.yml's
    development default (...-not-for-production)."""
    letters = "".join(c for c in value.lower() if c.isalnum())
    return any(word in letters for word in ("changeme", "replace", "placeholder", "notforprod"))
