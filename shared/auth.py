"""Bearer-token authentication and role checks for every HTTP route.

Tokens are HS256 JWTs carrying `sub`, `role` and, for providers, `provider_id`. A missing
or bad token gets 401; a valid token with the wrong role gets 403.
"""

from __future__ import annotations

from collections.abc import Callable

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.contracts.common import Role
from shared.tokens import ALGORITHM, ISSUER, issue_token
from shared.unit_of_work import Actor

__all__ = [
    "ALGORITHM",
    "ANY_ROLE",
    "ISSUER",
    "current_actor",
    "issue_token",
    "read_token",
    "require",
]

_bearer = HTTPBearer(auto_error=False)


def read_token(secret: str, token: str) -> Actor:
    """Verify a token and return who it names; raises jwt.InvalidTokenError if bad."""
    claims = jwt.decode(
        token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub"]}
    )
    role = Role(claims.get("role", ""))
    return Actor(id=str(claims["sub"]), role=role.value, provider_id=claims.get("provider_id"))


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def current_actor(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Actor:
    if credentials is None:
        raise _unauthorized("missing bearer token (get one with `dps token --role ROLE`)")
    secret: str = request.app.state.jwt_secret
    try:
        return read_token(secret, credentials.credentials)
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise _unauthorized(f"invalid token: {exc}")


def require(*roles: Role) -> Callable[..., object]:
    """A dependency that admits only the given roles and returns the Actor."""
    allowed = {r.value for r in roles}

    async def check(actor: Actor = Depends(current_actor)) -> Actor:
        if actor.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"role {actor.role!r} may not do this; allowed: {', '.join(sorted(allowed))}",
            )
        return actor

    return check


ANY_ROLE = tuple(Role)
