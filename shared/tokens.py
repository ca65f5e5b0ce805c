"""Issuing bearer tokens: HS256 JWTs with `sub`, `role` and, for providers, `provider_id`.

Apart from shared.auth (which checks them on every route, and brings FastAPI and the
database with it) so that `dps token` imports only PyJWT and answers at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from shared.contracts.common import Role

ALGORITHM = "HS256"
ISSUER = "send-dps"


def issue_token(
    secret: str,
    role: Role | str,
    *,
    subject: str | None = None,
    provider_id: str | None = None,
    ttl: timedelta = timedelta(hours=12),
) -> str:
    role = Role(role)
    if role is Role.PROVIDER and not provider_id:
        raise ValueError("a provider token needs --provider-id")
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": ISSUER,
        "sub": subject or f"dev-{role.value}",
        "role": role.value,
        "iat": now,
        "exp": now + ttl,
    }
    if provider_id:
        claims["provider_id"] = provider_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
