"""Access tokens from the council's OpenID Connect provider.

The signature is checked with the issuer's published keys (JWKS, discovered from
/.well-known/openid-configuration unless DPS_OIDC_JWKS_URL is set), fetched and cached;
a token naming a key id the cache lacks fetches the keys again (at most every
DPS_OIDC_JWKS_MIN_REFETCH_S), which is how a rotated key is picked up. Only asymmetric
algorithms are taken, so a JWKS cannot be turned into a signing key (RFC 8725 §3.1).
Issuer, audience, expiry (with leeway), not-before and the token's lifetime are checked;
the role and the provider binding come from configurable claims (RFC 9068 §2.2.3.1).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt

from shared.contracts.common import Role
from shared.identity_settings import IdentitySettings
from shared.unit_of_work import Actor

FETCH_TIMEOUT_S = 5.0


class TokenRejected(Exception):
    """The token is not acceptable (answered 401); the message says why."""


class IdentityProviderUnavailable(Exception):
    """The provider's keys cannot be had now (answered 503): the token may be fine."""


class JwksCache:
    """The issuer's signing keys by key id, refreshed every ttl and on an unknown kid."""

    def __init__(self, issuer: str, jwks_url: str, *, ttl_s: float, min_refetch_s: float) -> None:
        self.issuer = issuer
        self.jwks_url = jwks_url
        self.ttl_s = ttl_s
        self.min_refetch_s = min_refetch_s
        self.keys: dict[str, jwt.PyJWK] = {}
        self.fetches = 0
        self._fetched_at = -float("inf")  # last attempt, successful or not
        self._failure: str | None = None
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str | None) -> jwt.PyJWK:
        if time.monotonic() - self._fetched_at > self.ttl_s:
            await self._refresh(force=True)
        key = self._pick(kid)
        if key is None:
            await self._refresh(force=False)  # a rotated key, or a forger's kid
            key = self._pick(kid)
        if key is None:
            if self._failure:
                raise IdentityProviderUnavailable(self._failure)
            raise TokenRejected(
                f"token signed with key {kid!r}, which the issuer {self.issuer} does not publish"
                if kid
                else "token names no key (kid) and the issuer publishes several"
            )
        return key

    def _pick(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            return next(iter(self.keys.values())) if len(self.keys) == 1 else None
        return self.keys.get(kid)

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            since = time.monotonic() - self._fetched_at
            if since < self.min_refetch_s and not (force and since > self.ttl_s):
                return  # rate-limited: a stream of made-up kids must not flood the provider
            self._fetched_at = time.monotonic()
            try:
                self.keys = await self._fetch()
                self._failure = None
            except IdentityProviderUnavailable as exc:
                # Keep the keys we have: tokens signed with them still verify.
                self._failure = str(exc)

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        self.fetches += 1
        try:
            async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_S) as client:
                if not self.jwks_url:
                    self.jwks_url = await discover(client, self.issuer, "jwks_uri")
                response = await client.get(self.jwks_url)
                response.raise_for_status()
                document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise IdentityProviderUnavailable(
                f"cannot fetch the signing keys of {self.issuer} ({type(exc).__name__}); "
                "try again shortly"
            ) from exc
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise IdentityProviderUnavailable(f"{self.jwks_url} is not a JWK set")
        keys: dict[str, jwt.PyJWK] = {}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            if entry.get("kty") == "oct":
                continue  # a shared secret is never a provider's verification key
            try:
                key = jwt.PyJWK(entry)
            except (jwt.PyJWTError, KeyError, ValueError, TypeError):
                continue  # a key type or curve we cannot use; others may do
            keys[str(entry.get("kid", ""))] = key
        return keys


async def discover(client: httpx.AsyncClient, issuer: str, field: str) -> str:
    """A field of the issuer's OpenID configuration (OIDC Discovery 1.0 §4)."""
    response = await client.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    response.raise_for_status()
    config = response.json()
    if config.get("issuer") != issuer:
        raise ValueError(f"the configuration names issuer {config.get('issuer')!r}")
    return str(config[field])


class OidcVerifier:
    """Turns one service's bearer tokens from the council's provider into Actors."""

    def __init__(self, settings: IdentitySettings, service: str) -> None:
        self.settings = settings
        self.issuer = settings.oidc_issuer
        self.audience = settings.audience_for(service)
        self.algorithms = list(settings.oidc_algorithms)
        self.jwks = JwksCache(
            self.issuer,
            settings.oidc_jwks_url,
            ttl_s=settings.oidc_jwks_cache_s,
            min_refetch_s=settings.oidc_jwks_min_refetch_s,
        )

    async def verify(self, token: str) -> Actor:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as exc:
            raise TokenRejected(f"malformed token: {exc}") from exc
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise TokenRejected(
                f"token signed with {alg!r}; the identity provider's tokens must use one "
                f"of {', '.join(self.algorithms)}"
            )
        key = await self.jwks.key_for(header.get("kid"))
        declared = getattr(key, "_jwk_data", {}).get("alg")
        if declared and declared != alg:
            raise TokenRejected(f"token signed with {alg!r} but its key is for {declared!r}")
        claims = self._decode(token, key, alg)
        return self.actor_from(claims)

    def _decode(self, token: str, key: jwt.PyJWK, alg: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.settings.oidc_leeway_s,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenRejected("token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise TokenRejected("token is not valid yet (nbf/iat in the future)") from exc
        except jwt.InvalidAudienceError as exc:
            got = _unverified(token).get("aud")
            raise TokenRejected(
                f"token is for audience {got!r}; this service accepts {self.audience!r}"
            ) from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenRejected(f"token's issuer is not {self.issuer}") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRejected(f"token lacks the {exc.claim!r} claim") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenRejected("token's signature does not verify with the issuer's key") from exc
        except jwt.PyJWTError as exc:  # also a key of another type than the algorithm's
            raise TokenRejected(f"invalid token: {exc}") from exc
        lifetime = int(claims["exp"]) - int(claims["iat"])
        if lifetime > self.settings.oidc_max_token_lifetime_s:
            raise TokenRejected(
                f"token lives {lifetime} s; tokens may live at most "
                f"{self.settings.oidc_max_token_lifetime_s} s (DPS_OIDC_MAX_TOKEN_LIFETIME_S)"
            )
        return claims

    def actor_from(self, claims: dict[str, Any]) -> Actor:
        settings = self.settings
        client = str(claims.get("client_id") or claims.get("azp") or "")
        if client and client in settings.oidc_revoked_clients:
            raise TokenRejected(f"client {client!r} is revoked (DPS_OIDC_REVOKED_CLIENTS)")
        role = self._role(claims, client)
        provider_id: str | None = None
        if role is Role.PROVIDER:
            bound = claims.get(settings.oidc_provider_claim)
            if not isinstance(bound, str) or not bound:
                raise TokenRejected(
                    f"a provider token must name its provider in the "
                    f"{settings.oidc_provider_claim!r} claim"
                )
            provider_id = bound
        return Actor(id=str(claims["sub"]), role=role.value, provider_id=provider_id)

    def _role(self, claims: dict[str, Any], client: str) -> Role:
        settings = self.settings
        values = _strings(_claim(claims, settings.oidc_roles_claim))
        values += _strings(_claim(claims, settings.oidc_groups_claim))
        found = {Role(v) for v in values if v in Role.__members__.values()}
        found |= {Role(settings.oidc_role_map[v]) for v in values if v in settings.oidc_role_map}
        if client in settings.oidc_client_roles:
            found.add(Role(settings.oidc_client_roles[client]))
        if not found:
            raise TokenRejected(
                f"token carries no send-dps role (claims {settings.oidc_roles_claim!r}, "
                f"{settings.oidc_groups_claim!r}; DPS_OIDC_ROLE_MAP, DPS_OIDC_CLIENT_ROLES)"
            )
        if len(found) > 1:
            # One role per token keeps duties apart (who scores a bid cannot approve it).
            names = ", ".join(sorted(r.value for r in found))
            raise TokenRejected(f"token carries several send-dps roles ({names}); give it one")
        return found.pop()


def _claim(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _unverified(token: str) -> dict[str, Any]:
    try:
        return dict(jwt.decode(token, options={"verify_signature": False}))
    except jwt.InvalidTokenError:
        return {}
