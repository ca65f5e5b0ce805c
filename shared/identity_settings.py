"""Sign-in settings: the council's OpenID Connect provider, the development issuer, and
what production refuses (`DPS_ENV=production`).

A mixin of shared.settings.CommonSettings (so every variable is `DPS_...`), kept in its
own module because it is one concern. `dps token` and `dps status` read the development
issuer's fields without pydantic where they can (shared.issuer_settings).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

from shared.contracts.common import Role
from shared.issuer_settings import kept_signing_secret

# Signing algorithms an identity provider may use: asymmetric only, so that what
# verifies a token (the published JWKS) cannot make one. HS* and "none" are never taken.
ASYMMETRIC_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
MIN_KEY_BYTES = 32  # HS256 wants a key at least as long as its hash (RFC 7518 §3.2)
# Words that mark a key somebody typed rather than generated (compared without case or
# punctuation): `CHANGE-ME`, `changeme`, `secret`, `dev-key`, `password`, ...
_PLACEHOLDER_WORDS = ("changeme", "placeholder", "secret", "password", "example", "default")
_PLACEHOLDER_PREFIXES = ("dev", "test", "demo", "local", "insecure")


def weak_key_reason(key: str) -> str | None:
    """Why a signing key looks short, default or hand-typed; None when it does not."""
    if len(key.encode()) < MIN_KEY_BYTES:
        return f"shorter than {MIN_KEY_BYTES} bytes"
    letters = re.sub(r"[^a-z0-9]", "", key.lower())
    if any(word in letters for word in _PLACEHOLDER_WORDS) or letters.startswith(
        _PLACEHOLDER_PREFIXES
    ):
        return "a default or placeholder value"
    if len(set(key)) < 10:
        return "too few distinct characters to be random"
    return None


class IdentitySettings(BaseSettings):
    """Who may call the services, and how the `dps` command signs in."""

    env: Literal["development", "production"] = Field(
        default="development",
        description="production: refuse development tokens and weak keys; require OIDC",
    )
    jwt_secret: str = Field(
        default="",
        description="HS256 key of the development issuer (`dps token`); generated in the "
        "data folder if empty",
    )
    dev_tokens: bool | None = Field(
        default=None,
        description="Accept tokens of the development issuer (`dps token`); default: on "
        "unless DPS_ENV=production, where true refuses to start",
    )
    dev_token_ttl_s: int = Field(default=3600, ge=60, le=12 * 3600)

    oidc_issuer: str = Field(default="", description="The provider's issuer URL; empty: off")
    oidc_audience: str = Field(
        default="",
        description="The audience tokens must carry: one API audience (api://send-dps), "
        "or one per service with {service} in it (api://send-dps/{service})",
    )
    oidc_jwks_url: str = Field(
        default="", description="Empty: discovered from the issuer's openid-configuration"
    )
    oidc_algorithms: list[str] = Field(default=["RS256", "PS256", "ES256"])
    oidc_leeway_s: int = Field(default=60, ge=0, le=300, description="clock skew allowed")
    oidc_max_token_lifetime_s: int = Field(
        default=5400,
        ge=60,
        le=86_400,
        description="Refuse tokens that live longer (exp - iat): bounds how long a leaked "
        "or revoked client's token works, whatever the provider is configured to issue",
    )
    oidc_roles_claim: str = Field(
        default="roles", description="dotted path, e.g. realm_access.roles"
    )
    oidc_groups_claim: str = Field(default="groups")
    oidc_role_map: dict[str, Role] = Field(
        default_factory=dict,
        description="Values of the roles or groups claim (app-role names, group ids) "
        "mapped to send-dps roles; role names themselves need no entry",
    )
    oidc_client_roles: dict[str, Role] = Field(
        default_factory=dict, description="Machine clients' id → role (client_id/azp claim)"
    )
    oidc_provider_claim: str = Field(
        default="provider_id", description="The claim binding a provider token to its provider"
    )
    oidc_revoked_clients: list[str] = Field(
        default_factory=list,
        description="Client ids whose tokens are refused at once, before they expire",
    )
    oidc_jwks_cache_s: float = Field(default=300, ge=0, le=86_400)
    oidc_jwks_min_refetch_s: float = Field(
        default=10,
        ge=0,
        le=3600,
        description="An unknown key id refetches the JWKS at most this often",
    )
    # How the `dps` command itself signs in in production (client credentials).
    oidc_token_url: str = Field(default="", description="Empty: discovered from the issuer")
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_resource: str = Field(
        default="", description="Resource indicator (RFC 8707) asked for; empty: none"
    )
    oidc_scope: str = ""

    @field_validator("oidc_algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        refused = [alg for alg in value if alg not in ASYMMETRIC_ALGORITHMS]
        if refused or not value:
            raise ValueError(
                f"DPS_OIDC_ALGORITHMS: {refused or 'none given'} not allowed; choose from "
                f"{', '.join(ASYMMETRIC_ALGORITHMS)} (asymmetric only)"
            )
        return value

    @field_validator("oidc_issuer")
    @classmethod
    def _issuer_url(cls, value: str) -> str:
        if value and urlparse(value).scheme not in ("https", "http"):
            raise ValueError("DPS_OIDC_ISSUER must be an http(s) URL")
        return value  # compared with the tokens' `iss` exactly (OIDC Discovery §4.3)

    @property
    def production(self) -> bool:
        return self.env == "production"

    def dev_tokens_enabled(self) -> bool:
        return self.dev_tokens if self.dev_tokens is not None else not self.production

    def dev_token_ttl(self) -> timedelta:
        return timedelta(seconds=self.dev_token_ttl_s)

    def audience_for(self, service: str) -> str:
        return self.oidc_audience.replace("{service}", service)

    def identity_problems(self) -> list[str]:
        """What makes this configuration unfit to run a service, each naming its setting."""
        problems: list[str] = []
        if self.oidc_issuer and not self.oidc_audience:
            problems.append("DPS_OIDC_ISSUER is set but DPS_OIDC_AUDIENCE is empty")
        if not self.production:
            return problems
        if self.dev_tokens:
            problems.append(
                "DPS_DEV_TOKENS=true: the development token issuer is not allowed with "
                "DPS_ENV=production; sign in through DPS_OIDC_ISSUER"
            )
        if self.jwt_secret and (reason := weak_key_reason(self.jwt_secret)):
            problems.append(
                f"DPS_JWT_SECRET is {reason}; with DPS_ENV=production unset it (the "
                "development issuer is off) or use `openssl rand -base64 48`"
            )
        if not self.oidc_issuer:
            problems.append("DPS_ENV=production needs DPS_OIDC_ISSUER (the council's provider)")
        elif urlparse(self.oidc_issuer).scheme != "https":
            problems.append("DPS_OIDC_ISSUER must be https with DPS_ENV=production")
        return problems

    def signing_secret(self) -> str:
        """The development issuer's key: DPS_JWT_SECRET, else one kept in the data dir."""
        return kept_signing_secret(self.jwt_secret, getattr(self, "data_dir", Path(".data")))
