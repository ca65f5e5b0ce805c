from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from shared.auth import issue_token, read_token
from shared.contracts.common import Role

SECRET = "unit-test-secret-0123456789abcdef0123"


def test_token_carries_role_and_provider() -> None:
    actor = read_token(SECRET, issue_token(SECRET, Role.PROVIDER, provider_id="p-9"))
    assert (actor.role, actor.provider_id) == ("provider", "p-9")


def test_provider_token_needs_a_provider_id() -> None:
    with pytest.raises(ValueError, match="provider-id"):
        issue_token(SECRET, Role.PROVIDER)


def test_expired_and_foreign_tokens_are_refused() -> None:
    expired = issue_token(SECRET, Role.ADMIN, ttl=timedelta(seconds=-1))
    with pytest.raises(jwt.ExpiredSignatureError):
        read_token(SECRET, expired)
    with pytest.raises(jwt.InvalidSignatureError):
        read_token(SECRET, issue_token("another-secret-0123456789abcdef012", Role.ADMIN))


def test_unknown_role_is_refused() -> None:
    forged = jwt.encode(
        {"iss": "send-dps", "sub": "x", "role": "headteacher", "exp": 4102444800},
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(ValueError, match="headteacher"):
        read_token(SECRET, forged)
