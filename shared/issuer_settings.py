"""The settings `dps token` and `dps status` read, from the environment with the
standard library: pydantic and pydantic-settings cost those commands more than
everything else they do (docs/performance.md, "`dps token` and `dps status`
without pydantic, PyJWT or typer").

`read_issuer_settings` answers only where it reads the environment exactly as
shared.settings.CommonSettings does: every `DPS_` variable that names a setting is one
of DPS_ENV, DPS_JWT_SECRET, DPS_DEV_TOKENS, DPS_DEV_TOKEN_TTL_S and DPS_DATA_DIR, each
holding a value CommonSettings takes as it is; DPS_ENV is not production; no `.env`
file here mentions `DPS_`. Anything else (another setting, a value to refuse or
convert, production's checks) returns None, and the caller builds CommonSettings,
which reads, validates and refuses as it always has.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

# Every field of CommonSettings (tests/unit/shared/test_issuer_settings.py compares them):
# a variable naming one of these that is not read here sends the caller to CommonSettings.
COMMON_SETTINGS_FIELDS = frozenset(
    {
        *("codec_cors_origins", "codec_roles", "data_dir", "database_sslcert"),
        *("database_sslkey", "database_sslmode", "database_sslrootcert"),
        *("dev_token_ttl_s", "dev_tokens", "env", "event_schema_base", "jwt_secret"),
        *("kafka_bootstrap", "kafka_oauth_client_id", "kafka_oauth_client_secret"),
        *("kafka_oauth_scope", "kafka_oauth_token_url", "kafka_sasl_mechanism"),
        *("kafka_sasl_password", "kafka_sasl_username", "kafka_security_protocol"),
        *("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_check_hostname"),
        *("kafka_ssl_key_password", "kafka_ssl_keyfile", "log_json", "log_level"),
        *("oidc_algorithms", "oidc_audience", "oidc_client_id", "oidc_client_roles"),
        *("oidc_client_secret", "oidc_groups_claim", "oidc_issuer", "oidc_jwks_cache_s"),
        *("oidc_jwks_min_refetch_s", "oidc_jwks_url", "oidc_leeway_s"),
        *("oidc_max_token_lifetime_s", "oidc_provider_claim", "oidc_resource"),
        *("oidc_revoked_clients", "oidc_role_map", "oidc_roles_claim", "oidc_scope"),
        *("oidc_token_url", "otlp_endpoint", "temporal_address", "temporal_api_key"),
        *("temporal_namespace", "temporal_payload_encryption", "temporal_payload_keys"),
        *("temporal_tls", "temporal_tls_ca_file", "temporal_tls_cert_file"),
        *("temporal_tls_key_file", "temporal_tls_server_name", "training"),
    }
)
READ_HERE = frozenset({"data_dir", "env", "jwt_secret", "dev_tokens", "dev_token_ttl_s"})
PREFIX = "dps_"  # CommonSettings' env_prefix; its variable names are case-insensitive
ENV_FILE = Path(".env")  # CommonSettings' env_file, relative to where the command runs

DEFAULT_DATA_DIR = Path(".data")
DEFAULT_TOKEN_TTL_S = 3600
TOKEN_TTL_RANGE_S = range(60, 12 * 3600 + 1)
# The strings pydantic takes as a boolean, compared without case (and nothing else:
# not " true", not "").
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def kept_signing_secret(jwt_secret: str, data_dir: Path) -> str:
    """The development issuer's key: `jwt_secret` (DPS_JWT_SECRET), else one kept in
    the data dir, made on first use.

    A generated key is shared by `dps token` and the services of one installation,
    which is all a development stack needs.
    """
    if jwt_secret:
        return jwt_secret
    path = data_dir / "jwt-secret"
    if not path.exists():
        import secrets  # only here: it imports random, hashlib and hmac

        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class IssuerSettings:
    """What CommonSettings would hold for the development issuer, where
    read_issuer_settings could read it: never production, never a client of the
    council's identity provider (DPS_OIDC_CLIENT_ID sends the caller to CommonSettings)."""

    __slots__ = ("data_dir", "dev_token_ttl_s", "dev_tokens", "jwt_secret")
    production = False

    def __init__(
        self,
        data_dir: Path = DEFAULT_DATA_DIR,
        jwt_secret: str = "",
        dev_tokens: bool | None = None,
        dev_token_ttl_s: int = DEFAULT_TOKEN_TTL_S,
    ) -> None:
        self.data_dir = data_dir
        self.jwt_secret = jwt_secret
        self.dev_tokens = dev_tokens
        self.dev_token_ttl_s = dev_token_ttl_s

    def dev_tokens_enabled(self) -> bool:
        return self.dev_tokens if self.dev_tokens is not None else not self.production

    def dev_token_ttl(self) -> timedelta:
        return timedelta(seconds=self.dev_token_ttl_s)

    def signing_secret(self) -> str:
        return kept_signing_secret(self.jwt_secret, self.data_dir)


def read_issuer_settings(
    data_dir: Path | None = None, environ: Mapping[str, str] | None = None
) -> IssuerSettings | None:
    """CommonSettings(data_dir=data_dir)'s development issuer fields (CommonSettings()'s
    when `data_dir` is None), or None where only CommonSettings can tell."""
    given = _issuer_variables(os.environ if environ is None else environ)
    if given is None or _env_file_may_set_settings():
        return None
    if given.get("env", "development") != "development":
        return None  # production's checks, or a value to refuse
    dev_tokens = _boolean(given["dev_tokens"]) if "dev_tokens" in given else None
    ttl = _ttl(given["dev_token_ttl_s"]) if "dev_token_ttl_s" in given else DEFAULT_TOKEN_TTL_S
    if ("dev_tokens" in given and dev_tokens is None) or ttl is None:
        return None
    if data_dir is None:
        data_dir = Path(given["data_dir"]) if "data_dir" in given else DEFAULT_DATA_DIR
    return IssuerSettings(data_dir, given.get("jwt_secret", ""), dev_tokens, ttl)


def _issuer_variables(environ: Mapping[str, str]) -> dict[str, str] | None:
    """The settings named in `environ` by field, or None if one is not read here (or
    two names differ only in case: which wins is pydantic-settings' to say)."""
    given: dict[str, str] = {}
    for name, value in environ.items():
        key = name.lower()
        field = key[len(PREFIX) :] if key.startswith(PREFIX) else ""
        if field not in COMMON_SETTINGS_FIELDS:
            continue  # not a setting: CommonSettings ignores it too (extra="ignore")
        if field not in READ_HERE or field in given:
            return None
        given[field] = value
    return given


def _env_file_may_set_settings() -> bool:
    """Whether `.env` here could set a setting: any mention of `DPS_`, in any case, or a
    file that cannot be read as one."""
    try:
        if not ENV_FILE.exists():
            return False
        return not ENV_FILE.is_file() or b"dps_" in ENV_FILE.read_bytes().lower()
    except OSError:
        return True


def _boolean(value: str) -> bool | None:
    folded = value.lower() if value.isascii() else ""
    return True if folded in _TRUE else False if folded in _FALSE else None


def _ttl(value: str) -> int | None:
    """Plain decimal digits within the setting's bounds; pydantic's other forms of an
    integer (signs, spaces, underscores, "3600.0") are left to it."""
    if not (value.isascii() and value.isdigit() and len(value) <= 6):
        return None
    seconds = int(value)
    return seconds if seconds in TOKEN_TTL_RANGE_S else None
