"""`dps token` and `dps status` read their settings without pydantic
(shared.issuer_settings): where that answers it holds what CommonSettings holds, and
wherever CommonSettings would refuse or convert, it leaves the answer to CommonSettings."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.issuer_settings import COMMON_SETTINGS_FIELDS, IssuerSettings, read_issuer_settings
from shared.settings import CommonSettings


@pytest.fixture(autouse=True)
def no_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No DPS_ variable of the developer's, and no .env of the checkout's."""
    for name in list(os.environ):
        if name.lower().startswith("dps_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def read_both(data_dir: Path | None = None) -> IssuerSettings | None:
    """read_issuer_settings' answer, checked against CommonSettings': the same fields
    where it answers, and no answer where CommonSettings refuses."""
    light = read_issuer_settings(data_dir)
    try:
        full = CommonSettings(data_dir=data_dir) if data_dir else CommonSettings()
    except ValidationError:
        assert light is None
        return None
    if light is not None:
        assert light.data_dir == full.data_dir
        assert light.jwt_secret == full.jwt_secret
        assert light.dev_tokens is full.dev_tokens
        assert light.dev_token_ttl_s == full.dev_token_ttl_s
        assert light.production is full.production is False
        assert light.dev_tokens_enabled() is full.dev_tokens_enabled()
        assert light.dev_token_ttl() == full.dev_token_ttl()
        assert full.oidc_client_id == ""  # operator_token's other way in
    return light


def test_every_setting_is_known() -> None:
    """A setting added to CommonSettings must be listed, or a variable naming it would be
    read past instead of sending the command to CommonSettings."""
    assert set(CommonSettings.model_fields) == COMMON_SETTINGS_FIELDS


def test_nothing_set_is_the_defaults() -> None:
    light = read_both()
    assert light is not None
    assert (light.data_dir, light.jwt_secret, light.dev_tokens) == (Path(".data"), "", None)


@pytest.mark.parametrize(
    "variables",
    [
        {"DPS_DATA_DIR": "/srv/dps/data"},
        {"DPS_DATA_DIR": ""},  # pydantic's Path("") is "."
        {"DPS_DATA_DIR": " spaced "},
        {"DPS_JWT_SECRET": "a-key-from-the-environment-0123456789"},
        {"DPS_JWT_SECRET": ""},
        {"DPS_ENV": "development"},
        {"DPS_DEV_TOKENS": "false"},
        {"DPS_DEV_TOKENS": "No"},
        {"DPS_DEV_TOKENS": "TRUE"},
        {"DPS_DEV_TOKENS": "1"},
        {"DPS_DEV_TOKEN_TTL_S": "60"},
        {"DPS_DEV_TOKEN_TTL_S": "43200"},
        {"DPS_DEV_TOKEN_TTL_S": "0600"},
        # names without case, as pydantic-settings reads them
        {"dps_jwt_secret": "lower-case-name-0123456789abcdefghij", "Dps_Dev_Tokens": "on"},
        # DPS_ variables that are not settings are ignored by both
        {"DPS_URL_PLACEMENTS": "http://x:1", "DPS_STACK_POINTER": "/p", "DPS_AUDIT_TOKEN": "t"},
        {"DPS_NOT_A_SETTING": "anything"},
    ],
)
def test_what_it_reads_is_what_common_settings_holds(variables: dict[str, str]) -> None:
    with mock.patch.dict(os.environ, variables):
        assert read_both() is not None


@pytest.mark.parametrize(
    "variables",
    [
        {"DPS_ENV": "production"},  # production's own checks
        {"DPS_ENV": "staging"},
        {"DPS_DEV_TOKENS": "maybe"},
        {"DPS_DEV_TOKENS": " true"},
        {"DPS_DEV_TOKENS": ""},
        {"DPS_DEV_TOKEN_TTL_S": "12"},
        {"DPS_DEV_TOKEN_TTL_S": "43201"},
        {"DPS_DEV_TOKEN_TTL_S": "+600"},  # CommonSettings takes these; left to it
        {"DPS_DEV_TOKEN_TTL_S": "3_600"},
        {"DPS_DEV_TOKEN_TTL_S": " 600"},
        {"DPS_LOG_LEVEL": "debug"},  # any other setting
        {"DPS_OIDC_CLIENT_ID": "dps-operators"},
        {"DPS_KAFKA_BOOTSTRAP": "kafka:9092"},
        {"dps_training": "true"},
        {"DPS_ENV": "development", "dps_env": "production"},  # which wins is not ours
    ],
)
def test_anything_else_is_left_to_common_settings(variables: dict[str, str]) -> None:
    with mock.patch.dict(os.environ, variables):
        assert read_issuer_settings() is None
        read_both()


def test_a_data_dir_given_wins_over_the_variable(tmp_path: Path) -> None:
    with mock.patch.dict(os.environ, {"DPS_DATA_DIR": str(tmp_path / "env")}):
        light = read_both(tmp_path / "given")
    assert light is not None and light.data_dir == tmp_path / "given"


@pytest.mark.parametrize(
    "env_file",
    ["DPS_JWT_SECRET=from-the-file-0123456789abcdefghijkl\n", "export dps_dev_tokens=false\n"],
)
def test_a_env_file_that_may_set_a_setting_is_left_to_common_settings(
    no_settings: Path, env_file: str
) -> None:
    (no_settings / ".env").write_text(env_file)
    assert read_issuer_settings() is None
    read_both()


def test_a_env_file_of_other_variables_is_read_past(no_settings: Path) -> None:
    (no_settings / ".env").write_text("OTHER_TOOL=1\nPATH_EXTRA=/opt\n")
    assert read_both() is not None


def test_a_env_folder_is_left_to_common_settings(no_settings: Path) -> None:
    (no_settings / ".env").mkdir()
    assert read_issuer_settings() is None


def test_both_keep_one_signing_secret(no_settings: Path) -> None:
    light = read_both(no_settings / "fresh")
    assert light is not None
    made = light.signing_secret()
    secret_file = no_settings / "fresh" / "jwt-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(made) >= 32
    assert CommonSettings(data_dir=no_settings / "fresh").signing_secret() == made
    with mock.patch.dict(os.environ, {"DPS_JWT_SECRET": "the-variables-key-0123456789abcdef"}):
        assert read_both(no_settings / "fresh") is not None
        assert read_issuer_settings(no_settings / "fresh").signing_secret() == (  # type: ignore[union-attr]
            "the-variables-key-0123456789abcdef"
        )


BOOLEAN_WORDS = ["true", "false", "yes", "no", "on", "off", "t", "f", "y", "n", "1", "0"]


def _values(words: list[str]) -> st.SearchStrategy[str]:
    cased = st.sampled_from(words).flatmap(
        lambda w: st.sampled_from([w, w.upper(), w.title(), f" {w}", f"{w} "])
    )
    return st.one_of(cased, st.text(max_size=8))


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    variables=st.dictionaries(
        st.sampled_from(
            [
                *("DPS_ENV", "DPS_DEV_TOKENS", "DPS_DEV_TOKEN_TTL_S", "DPS_DATA_DIR"),
                *("DPS_JWT_SECRET", "dps_dev_tokens", "DPS_LOG_JSON", "DPS_URL_X"),
            ]
        ),
        st.one_of(
            _values(BOOLEAN_WORDS),
            _values(["60", "59", "3600", "43200", "43201", "0", "1e3"]),
            _values(["development", "production"]),
        ).filter(lambda v: "\x00" not in v),
        max_size=4,
    )
)
def test_any_environment_is_read_alike_or_left_alone(variables: dict[str, str]) -> None:
    with mock.patch.dict(os.environ, variables):
        read_both()
