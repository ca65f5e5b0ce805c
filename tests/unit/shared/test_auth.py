"""The development issuer (`dps token`): its tokens carry a role, an audience and a short
life; a provider token must name its provider; the issuer picks the verifier."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from shared import auth
from shared.auth import Authenticator, issue_token, read_token
from shared.contracts.common import Role
from shared.oidc import TokenRejected
from shared.unit_of_work import Actor

SECRET = "unit-test-secret-0123456789abcdef0123"


def test_token_carries_role_and_provider() -> None:
    actor = read_token(SECRET, issue_token(SECRET, Role.PROVIDER, provider_id="p-9"))
    assert (actor.role, actor.provider_id) == ("provider", "p-9")


def test_tokens_have_an_audience_and_live_an_hour() -> None:
    claims = jwt.decode(issue_token(SECRET, Role.ADMIN), options={"verify_signature": False})
    assert claims["aud"] == "send-dps"
    assert claims["exp"] - claims["iat"] == 3600


def test_provider_token_needs_a_provider_id() -> None:
    with pytest.raises(ValueError, match="provider-id"):
        issue_token(SECRET, Role.PROVIDER)


def _signed(claims: dict[str, object], secret: str = SECRET) -> str:
    base: dict[str, object] = {"iss": "send-dps", "aud": "send-dps", "sub": "x", "exp": 4102444800}
    return jwt.encode({**base, **claims}, secret, algorithm="HS256")


def test_a_provider_token_without_its_provider_is_refused() -> None:
    """Made with the key, not by `dps token` (which refuses): never "all providers"."""
    for unbound in ({"role": "provider"}, {"role": "provider", "provider_id": ""}):
        with pytest.raises(ValueError, match="must name its provider"):
            read_token(SECRET, _signed(unbound))


def test_expired_and_foreign_tokens_are_refused() -> None:
    expired = issue_token(SECRET, Role.ADMIN, ttl=timedelta(seconds=-1))
    with pytest.raises(jwt.ExpiredSignatureError):
        read_token(SECRET, expired)
    with pytest.raises(jwt.InvalidSignatureError):
        read_token(SECRET, issue_token("another-secret-0123456789abcdef012", Role.ADMIN))


def test_a_token_without_the_audience_is_refused() -> None:
    with pytest.raises(jwt.MissingRequiredClaimError, match="aud"):
        read_token(SECRET, _signed({"aud": None, "role": "admin"}))
    with pytest.raises(jwt.InvalidAudienceError):
        read_token(SECRET, _signed({"aud": "another-api", "role": "admin"}))


def test_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="headteacher"):
        read_token(SECRET, _signed({"role": "headteacher"}))


async def test_the_issuer_picks_the_verifier_and_untrusted_ones_are_named() -> None:
    dev = Authenticator(dev_secret=SECRET)
    assert (await dev.actor(issue_token(SECRET, Role.ADMIN))).role == "admin"
    with pytest.raises(TokenRejected, match=r"'https://evil\.example' is not trusted"):
        await dev.actor(_signed({"iss": "https://evil.example", "role": "admin"}))
    with pytest.raises(TokenRejected, match="must name its provider"):
        await dev.actor(_signed({"role": "provider"}))
    with pytest.raises(TokenRejected, match="expired"):
        await dev.actor(issue_token(SECRET, Role.ADMIN, ttl=timedelta(seconds=-1)))
    with pytest.raises(TokenRejected, match="malformed"):
        await dev.actor("not-a-jwt")
    # Production: the development issuer is off, its tokens are refused by name.
    with pytest.raises(TokenRejected, match="'send-dps' is not trusted"):
        await Authenticator(dev_secret=None).actor(issue_token(SECRET, Role.ADMIN))


async def test_a_verified_token_is_reused_for_a_minute_and_never_past_its_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dev = Authenticator(dev_secret=SECRET)
    checked: list[str] = []

    def checking(secret: str, token: str) -> Actor:
        checked.append(token)
        return read_token(secret, token)

    monkeypatch.setattr(auth, "read_token", checking)
    start = float(int(time.time()))  # whole seconds, as a token's times are
    clock = [start]
    monkeypatch.setattr(auth.time, "time", lambda: clock[0])
    issued = datetime.fromtimestamp(start, UTC)
    hour = issue_token(SECRET, Role.ADMIN, now=issued)
    short = issue_token(SECRET, Role.COMMISSIONER, ttl=timedelta(seconds=20), now=issued)
    assert (await dev.actor(hour)).role == "admin"
    assert (await dev.actor(hour)).role == "admin"
    assert checked == [hour]  # the second time from what was verified
    # Less than a minute to live: reused only until its expiry, then checked again
    # (where PyJWT refuses it: test_the_issuer_picks_the_verifier...).
    assert (await dev.actor(short)).role == "commissioner"
    clock[0] = start + 19.9
    await dev.actor(short)
    assert checked == [hour, short]
    clock[0] = start + 20
    await dev.actor(short)
    assert checked == [hour, short, short]
    clock[0] = start + auth.VERIFIED_FOR_S
    await dev.actor(hour)
    assert checked == [hour, short, short, hour]  # checked again after a minute


async def test_a_refused_token_is_not_remembered_and_the_memory_is_bounded() -> None:
    dev = Authenticator(dev_secret=SECRET)
    bad = _signed({"role": "provider"})
    for _ in range(2):
        with pytest.raises(TokenRejected, match="must name its provider"):
            await dev.actor(bad)
    assert dev._verified == {}
    for n in range(auth.VERIFIED_TOKENS_KEPT + 5):
        await dev.actor(issue_token(SECRET, Role.ADMIN, subject=f"user-{n}"))
    assert len(dev._verified) == auth.VERIFIED_TOKENS_KEPT
