"""The development issuer signs with the standard library: every token is the one PyJWT
made before (`jwt.encode`, byte for byte), verifies with `jwt.decode` as the services
verify it, and a key PyJWT refuses or warns about still meets PyJWT."""

from __future__ import annotations

import base64
import secrets
import warnings
from datetime import UTC, datetime, timedelta, timezone

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.contracts.common import Role
from shared.tokens import _PLAIN_KEY_CHARACTERS, encode_hs256, issue_token

NOW = datetime(2026, 12, 6, 9, 30, 15, 999_999, tzinfo=UTC)
GENERATED = secrets.token_urlsafe(48)  # what kept_signing_secret writes
OPENSSL = base64.b64encode(secrets.token_bytes(48)).decode()  # `openssl rand -base64 48`


def pyjwt_token(
    secret: str,
    role: Role | str,
    *,
    subject: str | None = None,
    provider_id: str | None = None,
    ttl: timedelta = timedelta(hours=1),
    now: datetime = NOW,
) -> str:
    """shared.tokens.issue_token as it was, on PyJWT, at a fixed time."""
    role = Role(role)
    claims: dict[str, object] = {
        "iss": "send-dps",
        "aud": "send-dps",
        "sub": subject or f"dev-{role.value}",
        "role": role.value,
        "iat": now,
        "exp": now + ttl,
    }
    if provider_id:
        claims["provider_id"] = provider_id
    return jwt.encode(claims, secret, algorithm="HS256")


def verified(token: str, secret: str) -> dict[str, object]:
    """What a service's shared.auth reads from a development token."""
    return dict(
        jwt.decode(token, secret, algorithms=["HS256"], audience="send-dps", issuer="send-dps")
    )


@pytest.mark.parametrize(
    "secret",
    [GENERATED, OPENSSL, "A" * 32, "0" * 64, "-_" * 20],
    # Stable ids: the random keys differ in each pytest-xdist worker's collection.
    ids=["generated", "openssl", "A-32", "0-64", "dash-underscore"],
)
@pytest.mark.parametrize(
    ("role", "subject", "provider_id"),
    [
        (Role.COMMISSIONER, None, None),
        ("monitoring_officer", 'Zoë Ådams \u2603 "quoted" \\ </script>', None),
        (Role.PROVIDER, None, "11111111-2222-3333-4444-555555555555"),
        (Role.PROVIDER, "someone@provider.example", "p-1"),
        (Role.AUDITOR, "dps-audit", None),
        (Role.SUPPLIER, "x" * 500, None),
    ],
)
def test_a_token_is_pyjwts_byte_for_byte_and_verifies(
    secret: str, role: Role | str, subject: str | None, provider_id: str | None
) -> None:
    recent = datetime.now(UTC) - timedelta(minutes=1)  # so that jwt.decode takes it
    for now in (NOW, recent):
        ours = issue_token(secret, role, subject=subject, provider_id=provider_id, now=now)
        assert ours == pyjwt_token(secret, role, subject=subject, provider_id=provider_id, now=now)
    claims = verified(ours, secret)
    assert claims["role"] == Role(role).value
    assert claims["sub"] == (subject or f"dev-{Role(role).value}")
    assert claims.get("provider_id") == provider_id
    assert claims["exp"] == int(recent.timestamp()) + 3600


@pytest.mark.parametrize(
    "now",
    [
        NOW,
        NOW.replace(microsecond=0),
        datetime(2030, 1, 1, tzinfo=timezone(timedelta(hours=-5))),  # converted to UTC
        datetime(2027, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2026, 6, 1, 12, 0),  # naive: PyJWT takes it as UTC
    ],
)
@pytest.mark.parametrize("ttl", [timedelta(seconds=60), timedelta(hours=12), timedelta(0)])
def test_times_are_pyjwts_numeric_dates(now: datetime, ttl: timedelta) -> None:
    token = issue_token(GENERATED, Role.ADMIN, ttl=ttl, now=now)
    assert token == pyjwt_token(GENERATED, Role.ADMIN, ttl=ttl, now=now)


def test_a_token_made_now_verifies_and_lives_its_ttl() -> None:
    before = int(datetime.now(UTC).timestamp())
    claims = verified(issue_token(OPENSSL, Role.COMMISSIONER, ttl=timedelta(minutes=5)), OPENSSL)
    assert before <= int(str(claims["iat"])) <= before + 60
    assert int(str(claims["exp"])) - int(str(claims["iat"])) == 300


@settings(max_examples=300, deadline=None)
@given(
    secret=st.text(alphabet=sorted(_PLAIN_KEY_CHARACTERS), min_size=32, max_size=128),
    subject=st.text(max_size=60),
    provider_id=st.text(max_size=40),
    ttl_s=st.integers(min_value=0, max_value=86_400),
)
def test_any_plain_key_signs_as_pyjwt_does(
    secret: str, subject: str, provider_id: str, ttl_s: int
) -> None:
    ttl = timedelta(seconds=ttl_s)
    role = Role.PROVIDER if provider_id else Role.COMMISSIONER
    ours = issue_token(secret, role, subject=subject, provider_id=provider_id, ttl=ttl, now=NOW)
    assert ours == pyjwt_token(secret, role, subject=subject, provider_id=provider_id, ttl=ttl)


def test_a_short_key_is_signed_by_pyjwt_with_its_warning() -> None:
    with pytest.warns(jwt.InsecureKeyLengthWarning):
        ours = issue_token("short-key", Role.ADMIN, now=NOW)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ours == pyjwt_token("short-key", Role.ADMIN)


@pytest.mark.parametrize(
    "key",
    [
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 someone@host.example",
        "ssh-ed25519AAAAC3NzaC1lZDI1NTE5AAAAIHk0Yx2pq",  # plain characters, an SSH prefix
        '{"kty": "oct", "k": "c2VjcmV0LXRoYXQtbG9va3MtbGlrZS1hLWp3aw"}',
    ],
)
def test_a_key_pyjwt_refuses_is_refused_by_pyjwt(key: str) -> None:
    with pytest.raises(jwt.InvalidKeyError) as refused:
        pyjwt_token(key, Role.ADMIN)
    with pytest.raises(jwt.InvalidKeyError) as ours:
        issue_token(key, Role.ADMIN, now=NOW)
    assert str(ours.value) == str(refused.value)


def test_a_key_with_other_characters_is_signed_by_pyjwt() -> None:
    key = "a passphrase, with spaces and punctuation!"  # not plain; PyJWT takes it
    assert issue_token(key, Role.ADMIN, now=NOW) == pyjwt_token(key, Role.ADMIN)
    verified(issue_token(key, Role.ADMIN), key)


def test_claims_are_encoded_as_pyjwt_encodes_them() -> None:
    claims: dict[str, object] = {"iss": "x", "nbf": NOW, "n": 1.5, "list": [1, "a"], "t": True}
    assert encode_hs256(claims, GENERATED) == jwt.encode(claims, GENERATED, algorithm="HS256")
    with pytest.raises(TypeError, match="Issuer"):
        encode_hs256({"iss": 1}, GENERATED)


def test_a_provider_token_needs_its_provider() -> None:
    with pytest.raises(ValueError, match="--provider-id"):
        issue_token(GENERATED, Role.PROVIDER)
    with pytest.raises(ValueError):
        issue_token(GENERATED, "nobody")
