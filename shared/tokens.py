"""The development issuer: HS256 JWTs with `sub`, `role`, an audience and, for providers,
`provider_id`, signed with the installation's key (`dps token`, `dps up`, the demo).

Apart from shared.auth (which checks them on every route, and brings FastAPI and the
database with it) so that `dps token` answers at once. Services in production refuse
these tokens (shared.identity_settings); people and machine clients there sign in with
the council's OpenID Connect provider (shared.oidc).

A token is what `jwt.encode(claims, key, algorithm="HS256")` makes, byte for byte, but
signed here with the standard library: PyJWT imports `cryptography` (a tenth of a second
of `dps token`) even for HS256. A key PyJWT would refuse or warn about (shorter than
32 bytes, or more than base64 characters, which a PEM, SSH, DER or JSON key needs) is
handed to PyJWT itself, so its refusal or warning is PyJWT's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from calendar import timegm
from datetime import UTC, datetime, timedelta

from shared.contracts.common import Role

ALGORITHM = "HS256"
ISSUER = "send-dps"
# Every service of one installation accepts the development issuer's tokens, so they
# carry one audience; a token of another issuer with no audience is refused.
AUDIENCE = "send-dps"
DEFAULT_TTL = timedelta(hours=1)

# PyJWT's checks of an HMAC key, none of which a plain key can trip: at least as long as
# the hash (else a warning); no space (a PEM marker has one); no byte outside base64's
# and base64url's alphabets (DER and JSON need some); no SSH public key's prefix.
_HASH_BYTES = 32
_PLAIN_KEY_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_"
)
_SSH_KEY_PREFIXES = ("ssh-", "ecdsa-")
_TIME_CLAIMS = ("exp", "iat", "nbf")


def _base64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).replace(b"=", b"")


# PyJWT's header: {"typ": "JWT", "alg": "HS256"} with its keys sorted, compact.
_HEADER = _base64url(json.dumps({"alg": ALGORITHM, "typ": "JWT"}, separators=(",", ":")).encode())


def issue_token(
    secret: str,
    role: Role | str,
    *,
    subject: str | None = None,
    provider_id: str | None = None,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> str:
    role = Role(role)
    if role is Role.PROVIDER and not provider_id:
        raise ValueError("a provider token needs --provider-id")
    issued = now or datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject or f"dev-{role.value}",
        "role": role.value,
        "iat": issued,
        "exp": issued + ttl,
    }
    if provider_id:
        claims["provider_id"] = provider_id
    return encode_hs256(claims, secret)


def encode_hs256(claims: dict[str, object], secret: str) -> str:
    """`jwt.encode(claims, secret, algorithm="HS256")`."""
    if not _plain_key(secret) or not isinstance(claims.get("iss", ""), str):
        import jwt

        return jwt.encode(claims, secret, algorithm=ALGORITHM)
    payload = {
        name: timegm(value.utctimetuple())
        if name in _TIME_CLAIMS and isinstance(value, datetime)
        else value
        for name, value in claims.items()
    }
    body = _base64url(json.dumps(payload, separators=(",", ":")).encode())
    signing_input = _HEADER + b"." + body
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + _base64url(signature)).decode()


def _plain_key(secret: str) -> bool:
    return (
        len(secret) >= _HASH_BYTES
        and _PLAIN_KEY_CHARACTERS.issuperset(secret)
        and not secret.startswith(_SSH_KEY_PREFIXES)
    )
