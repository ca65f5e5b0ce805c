"""Bearer-token authentication and role checks for every HTTP route.

Two issuers may be trusted: the council's OpenID Connect provider (shared.oidc; the
only one in production) and the installation's development issuer (`dps token`, HS256
with the key in the data folder; shared.tokens). The token's `iss` picks the verifier,
and each verifier takes only its own algorithms. A missing or bad token gets 401 naming
what is wrong; a valid token with the wrong role gets 403; a provider token must name its
provider (never read as "all providers"); when the provider's keys cannot be fetched the
answer is 503.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.contracts.common import Role
from shared.oidc import IdentityProviderUnavailable, OidcVerifier, TokenRejected
from shared.tokens import ALGORITHM, AUDIENCE, ISSUER, issue_token
from shared.unit_of_work import Actor

__all__ = [
    "ALGORITHM",
    "ANY_ROLE",
    "ISSUER",
    "Authenticator",
    "current_actor",
    "issue_token",
    "read_token",
    "require",
]

_bearer = HTTPBearer(auto_error=False)


def read_token(secret: str, token: str) -> Actor:
    """Verify a development token and return who it names; raises jwt.InvalidTokenError
    or ValueError if bad."""
    claims = jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        issuer=ISSUER,
        audience=AUDIENCE,
        options={"require": ["exp", "sub", "aud"]},
    )
    role = Role(claims.get("role", ""))
    provider_id = claims.get("provider_id") or None
    if role is Role.PROVIDER and not isinstance(provider_id, str):
        raise ValueError("a provider token must name its provider (provider_id claim)")
    if role is not Role.PROVIDER:
        provider_id = None  # only a provider token is bound; a supplier's claim means nothing
    return Actor(id=str(claims["sub"]), role=role.value, provider_id=provider_id)


# A verified token is taken at its word for up to this long (never past its `exp`): a
# console page or a client's run sends the same token many times, and checking it again
# cost 0.1 to 0.2 ms of every signed-in read (two JWT decodes). A key withdrawn by the provider stops its tokens
# here within this time; a revoked client (DPS_OIDC_REVOKED_CLIENTS) is a restart anyway.
VERIFIED_FOR_S = 60.0
VERIFIED_TOKENS_KEPT = 1024


@dataclass
class Authenticator:
    """The issuers one service trusts: the development key (None: refused) and the
    council's provider (None: not configured)."""

    dev_secret: str | None
    oidc: OidcVerifier | None = None
    # token -> (who it names, until when (epoch seconds) that may be reused)
    _verified: dict[str, tuple[Actor, float]] = field(default_factory=dict, repr=False)

    async def actor(self, token: str) -> Actor:
        now = time.time()
        known = self._verified.get(token)
        if known is not None and now < known[1]:
            return known[0]
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError as exc:
            raise TokenRejected(f"malformed token: {exc}") from exc
        actor = await self._verify(token, claims.get("iss"))
        self._remember(token, actor, now, claims.get("exp"))
        return actor

    def _remember(self, token: str, actor: Actor, now: float, expires: object) -> None:
        if not isinstance(expires, int | float):
            return  # every verifier requires exp; nothing without one is kept
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            self._verified.pop(next(iter(self._verified)))  # the oldest
        self._verified[token] = (actor, min(now + VERIFIED_FOR_S, float(expires)))

    async def _verify(self, token: str, issuer: object) -> Actor:
        if self.oidc is not None and issuer == self.oidc.issuer:
            return await self.oidc.verify(token)
        if issuer == ISSUER and self.dev_secret is not None:
            try:
                return read_token(self.dev_secret, token)
            except jwt.ExpiredSignatureError as exc:
                raise TokenRejected("token has expired (get another: `dps token`)") from exc
            except (jwt.InvalidTokenError, ValueError) as exc:
                raise TokenRejected(f"invalid token: {exc}") from exc
        raise TokenRejected(f"token's issuer {issuer!r} is not trusted here{self._trusted()}")

    def _trusted(self) -> str:
        trusted = [self.oidc.issuer] if self.oidc else []
        trusted += [f"{ISSUER} (`dps token`)"] if self.dev_secret is not None else []
        return f"; trusted: {', '.join(trusted)}" if trusted else ""


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def current_actor(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Actor:
    if credentials is None:
        raise _unauthorized("missing bearer token")
    authenticator: Authenticator = request.app.state.authenticator
    try:
        return await authenticator.actor(credentials.credentials)
    except TokenRejected as exc:
        raise _unauthorized(str(exc)) from exc
    except IdentityProviderUnavailable as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc), headers={"Retry-After": "5"}
        ) from exc


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
