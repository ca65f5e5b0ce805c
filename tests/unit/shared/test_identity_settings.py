"""What production refuses to start with, each naming its setting; and what `dps token`
does there."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from dps.cli import app
from dps.services import definition_of
from shared.identity_settings import weak_key_reason
from shared.runtime import ServiceRuntime, StartupError
from shared.settings import settings_for

ISSUER = "https://login.council.example/tenant/v2.0"
STRONG = "mX9c1vQz7KpL2rTb8WnY4sHd6FgJ0aEu3iOo5lZk"


def production(tmp_path: Path, **overrides: object) -> ServiceRuntime:
    settings = settings_for(
        "provider_registry",
        **{
            "env": "production",
            "data_dir": tmp_path,
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
            "oidc_issuer": ISSUER,
            "oidc_audience": "api://send-dps",
            # production's transport rules (tests/unit/shared/test_transport_settings.py)
            "kafka_security_protocol": "SSL",
            "temporal_payload_keys": "k1=" + "A" * 43 + "=",
            **overrides,
        },
    )
    return ServiceRuntime(definition_of("provider_registry"), settings, use_temporal=False)


@pytest.mark.parametrize(
    "key",
    [
        "CHANGE-ME",
        "changeme-changeme-changeme-changeme!",
        "secret",
        "dev-key-" + "x" * 30,
        "a" * 40,
    ],
)
def test_production_refuses_a_short_default_or_placeholder_key(tmp_path: Path, key: str) -> None:
    with pytest.raises(StartupError, match="refusing to start: DPS_JWT_SECRET is "):
        production(tmp_path, jwt_secret=key)


def test_production_refuses_the_development_issuer(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="DPS_DEV_TOKENS=true: the development token issuer"):
        production(tmp_path, dev_tokens=True, jwt_secret=STRONG)


def test_production_needs_an_https_identity_provider(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="needs DPS_OIDC_ISSUER"):
        production(tmp_path, oidc_issuer="")
    with pytest.raises(StartupError, match="DPS_OIDC_ISSUER must be https"):
        production(tmp_path, oidc_issuer="http://login.council.example")
    with pytest.raises(StartupError, match="DPS_OIDC_AUDIENCE is empty"):
        production(tmp_path, oidc_audience="")


def test_production_with_the_councils_provider_starts_without_a_local_key(tmp_path: Path) -> None:
    runtime = production(tmp_path)
    app = runtime.build_app()
    assert app.state.authenticator.dev_secret is None  # development tokens refused
    assert app.state.authenticator.oidc.issuer == ISSUER
    assert not (tmp_path / "jwt-secret").exists()  # none generated either
    assert production(tmp_path, jwt_secret=STRONG).settings.jwt_secret == STRONG


def test_symmetric_algorithms_are_refused_for_the_identity_provider() -> None:
    with pytest.raises(ValidationError, match=r"HS256.*asymmetric only"):
        settings_for("placements", oidc_algorithms=["RS256", "HS256"])


def test_weak_key_reasons() -> None:
    assert weak_key_reason("short") == "shorter than 32 bytes"
    assert (
        weak_key_reason("Placeholder-value-for-the-signing-key") == "a default or placeholder value"
    )
    assert weak_key_reason(STRONG) is None


def test_dps_token_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DPS_ENV", "production")
    monkeypatch.setenv("DPS_KAFKA_SECURITY_PROTOCOL", "SSL")  # production's transport rules
    monkeypatch.setenv("DPS_TEMPORAL_PAYLOAD_KEYS", "k1=" + "A" * 43 + "=")
    result = CliRunner().invoke(app, ["token", "--role", "admin", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert (
        "`dps token` is the development issuer and is off here (DPS_ENV=production" in result.output
    )
    assert not (tmp_path / "jwt-secret").exists()
