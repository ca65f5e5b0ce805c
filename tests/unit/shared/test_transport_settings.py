"""The transport settings block: production refuses plaintext Kafka, each SASL mechanism
turns into the options every aiokafka client and FastStream's broker get, PostgreSQL TLS
reaches the URL, and payload keys parse and rotate."""

from __future__ import annotations

import base64
import ssl
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from faststream.security import BaseSecurity, SASLOAuthBearer, SASLScram256, SASLScram512
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload

from dps.devcerts import make_pki
from shared.kafka_security import (
    ClientCredentialsToken,
    broker_security,
    client_options,
)
from shared.payload_codec import (
    ENCODING,
    KEY_FILE,
    EncryptionCodec,
    PayloadKeyError,
    local_keys,
    new_key_item,
    parse_keys,
)
from shared.settings import TransportSettings

SASL = {"kafka_sasl_username": "dps-placements", "kafka_sasl_password": "pw"}


def settings(**values: object) -> TransportSettings:
    return TransportSettings.model_validate(values)


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SASL_PLAINTEXT"])
def test_production_refuses_plaintext_kafka_naming_the_setting(protocol: str) -> None:
    with pytest.raises(ValidationError, match=f"DPS_KAFKA_SECURITY_PROTOCOL={protocol}"):
        settings(
            env="production",
            kafka_security_protocol=protocol,
            temporal_payload_keys=new_key_item("k"),
            **SASL,
        )


def test_production_needs_payload_keys_set() -> None:
    with pytest.raises(ValidationError, match="DPS_TEMPORAL_PAYLOAD_KEYS"):
        settings(env="production", kafka_security_protocol="SSL")
    assert settings(
        env="production", kafka_security_protocol="SSL", temporal_payload_keys=new_key_item("k")
    )


def test_sasl_needs_credentials_and_certificates_come_in_pairs() -> None:
    with pytest.raises(ValidationError, match="DPS_KAFKA_SASL_USERNAME"):
        settings(kafka_security_protocol="SASL_SSL")
    with pytest.raises(ValidationError, match="DPS_KAFKA_OAUTH_TOKEN_URL"):
        settings(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="OAUTHBEARER")
    with pytest.raises(ValidationError, match="DPS_KAFKA_SSL_KEYFILE"):
        settings(kafka_security_protocol="SSL", kafka_ssl_certfile="/c.pem")


def test_plaintext_is_the_embedded_default() -> None:
    assert client_options(settings()) == {"security_protocol": "PLAINTEXT"}
    assert broker_security(settings()) is None


@pytest.mark.parametrize(
    ("mechanism", "kind"), [("SCRAM-SHA-256", SASLScram256), ("SCRAM-SHA-512", SASLScram512)]
)
def test_scram_over_tls(mechanism: str, kind: type, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    chosen = settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism=mechanism,
        kafka_ssl_cafile=str(pki.ca),
        **SASL,
    )
    options = client_options(chosen)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == mechanism
    assert options["sasl_plain_username"] == "dps-placements"
    assert options["sasl_plain_password"] == "pw"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    security = broker_security(chosen)
    assert isinstance(security, kind)
    assert security is not None and security.use_ssl


def test_oauthbearer_uses_a_client_credentials_token_provider() -> None:
    chosen = settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="OAUTHBEARER",
        kafka_oauth_token_url="https://idp.example/token",
        kafka_oauth_client_id="dps-placements",
        kafka_oauth_client_secret="s",
    )
    options = client_options(chosen)
    assert options["sasl_mechanism"] == "OAUTHBEARER"
    provider = options["sasl_oauth_token_provider"]
    assert isinstance(provider, ClientCredentialsToken)
    assert provider.url == "https://idp.example/token"
    assert "sasl_plain_password" not in options
    assert isinstance(broker_security(chosen), SASLOAuthBearer)


def test_ssl_with_a_client_certificate(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    chosen = settings(
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=str(pki.ca),
        kafka_ssl_certfile=str(pki.client_cert),
        kafka_ssl_keyfile=str(pki.client_key),
    )
    assert client_options(chosen)["security_protocol"] == "SSL"
    security = broker_security(chosen)
    assert type(security) is BaseSecurity and security.use_ssl


def test_postgres_tls_settings_reach_the_url() -> None:
    chosen = settings(database_sslmode="verify-full", database_sslrootcert="/ca/pg.crt")
    url = chosen.database_tls_url("postgresql+psycopg://u:p@db:5432/placements")
    assert url == (
        "postgresql+psycopg://u:p@db:5432/placements?sslmode=verify-full&sslrootcert=%2Fca%2Fpg.crt"
    )
    assert chosen.database_tls_url("sqlite+aiosqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert settings().database_tls_url("postgresql+psycopg://db/x") == "postgresql+psycopg://db/x"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("nokey", "id=base64key"),
        ("k=!!!", "not base64"),
        (f"k={base64.b64encode(b'short').decode()}", "32 bytes"),
    ],
)
def test_bad_payload_keys_are_named(text: str, message: str) -> None:
    with pytest.raises(PayloadKeyError, match=message):
        parse_keys(text)


async def test_rotation_current_key_encrypts_old_keys_decrypt() -> None:
    old, new = new_key_item("old"), new_key_item("new")
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"child_ref":"C1"}')
    [sealed_old] = await EncryptionCodec(parse_keys(old)).encode([plain])
    rotated = EncryptionCodec(parse_keys(f"{new},{old}"))
    [sealed_new] = await rotated.encode([plain])
    assert sealed_new.metadata["encryption-key-id"] == b"new"
    assert sealed_new.metadata["encoding"] == ENCODING
    assert await rotated.decode([sealed_old, sealed_new, plain]) == [plain, plain, plain]
    with pytest.raises(PayloadKeyError, match="'old'"):
        await EncryptionCodec(parse_keys(new)).decode([sealed_old])


async def test_a_tampered_payload_is_refused() -> None:
    codec = EncryptionCodec(parse_keys(new_key_item("k")))
    [sealed] = await codec.encode([Payload(data=b"x")])
    sealed.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    with pytest.raises(InvalidTag):
        await codec.decode([sealed])


def test_services_starting_together_share_one_local_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        found = set(pool.map(lambda _: local_keys(tmp_path), range(16)))
    assert len(found) == 1
    assert parse_keys(found.pop())
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE]
