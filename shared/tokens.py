"""The development issuer: HS256 JWTs with `sub`, `role`, an audience and, for providers,
`provider_id`, signed with the installation's key (`dps token`, `dps up`, the demo).

Apart from shared.auth (which checks them on every route, and brings FastAPI and the
database with it) so that `dps token` imports only PyJWT and answers at once. Services
in production refuse these tokens (shared.identity_settings); people and machine
clients there sign in with the council's OpenID Connect provider (shared.oidc).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from shared.contracts.common import Role

ALGORITHM = "HS256"
ISSUER = "send-dps"
# Every service of one installation accepts the development issuer's tokens, so they
# carry one audience; a token of another issuer with no audience is refused.
AUDIENCE = "send-dps"
DEFAULT_TTL = timedelta(hours=1)


def issue_token(
    secret: str,
    role: Role | str,
    *,
    subject: str | None = None,
    provider_id: str | None = None,
    ttl: timedelta = DEFAULT_TTL,
) -> str:
    role = Role(role)
    if role is Role.PROVIDER and not provider_id:
        raise ValueError("a provider token needs --provider-id")
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject or f"dev-{role.value}",
        "role": role.value,
        "iat": now,
        "exp": now + ttl,
    }
    if provider_id:
        claims["provider_id"] = provider_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
