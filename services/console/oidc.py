"""Sign-in with the council's OpenID Connect provider (authorisation code with PKCE,
RFC 7636, through Authlib). The console keeps the person's access token in its session
and passes it on to the services, which check it themselves; the role is read from it
as the services read it (shared/oidc.py: roles or groups claim, DPS_OIDC_ROLE_MAP)."""

from __future__ import annotations

import secrets

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import Request

from services.console.settings import ConsoleSettings
from services.console.web import Person
from shared.oidc import OidcVerifier, TokenRejected, discover

SESSION_KEY = "oidc"
SCOPE = "openid"


class SignInFailed(Exception):
    """The provider's answer cannot sign anyone in (named in words, never the token)."""


def redirect_uri(request: Request, settings: ConsoleSettings) -> str:
    # Behind a proxy the request's own URL may be http: production sets it.
    return settings.oidc_redirect_uri or str(request.url_for("oidc_callback"))


def _client(settings: ConsoleSettings, redirect: str) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret or None,
        # A confidential client authenticates at the token endpoint; a public one
        # relies on PKCE alone.
        token_endpoint_auth_method="client_secret_basic" if settings.oidc_client_secret else "none",
        scope=" ".join(filter(None, [SCOPE, settings.oidc_scope])),
        redirect_uri=redirect,
        code_challenge_method="S256",
        timeout=10,
    )


async def _endpoint(settings: ConsoleSettings, field: str) -> str:
    try:
        async with httpx.AsyncClient(timeout=10) as plain:
            return await discover(plain, settings.oidc_issuer, field)
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise SignInFailed("the council's sign-in could not be reached") from exc


async def start(request: Request, settings: ConsoleSettings) -> str:
    """The provider's authorisation URL; the state and PKCE verifier wait in the session."""
    verifier = secrets.token_urlsafe(48)
    redirect = redirect_uri(request, settings)
    endpoint = await _endpoint(settings, "authorization_endpoint")
    extra = {"resource": settings.oidc_resource} if settings.oidc_resource else {}
    async with _client(settings, redirect) as client:
        url, state = client.create_authorization_url(endpoint, code_verifier=verifier, **extra)
    request.session[SESSION_KEY] = {"state": state, "verifier": verifier}
    return str(url)


async def finish(request: Request, settings: ConsoleSettings) -> Person:
    """Exchange the code (with the session's verifier) and read who signed in."""
    waiting = request.session.pop(SESSION_KEY, None)
    params = request.query_params
    if params.get("error"):
        raise SignInFailed(f"the council's sign-in said: {params.get('error')}")
    if not isinstance(waiting, dict) or not params.get("code"):
        raise SignInFailed("this sign-in was not started here, or was already used")
    if not secrets.compare_digest(str(params.get("state", "")), str(waiting["state"])):
        raise SignInFailed("the sign-in's state does not match (start again)")
    redirect = redirect_uri(request, settings)
    extra = {"resource": settings.oidc_resource} if settings.oidc_resource else {}
    try:
        endpoint = await _endpoint(settings, "token_endpoint")
        async with _client(settings, redirect) as client:
            token = await client.fetch_token(
                endpoint, code=params["code"], code_verifier=waiting["verifier"], **extra
            )
    except (httpx.HTTPError, ValueError) as exc:
        raise SignInFailed("the council's sign-in could not be reached") from exc
    except Exception as exc:  # Authlib's OAuthError: the provider refused the code
        raise SignInFailed(f"the council's sign-in refused: {type(exc).__name__}") from exc
    access = str(token.get("access_token", ""))
    try:
        actor = await OidcVerifier(settings, "console").verify(access)
    except TokenRejected as exc:
        raise SignInFailed(f"your account cannot use send-dps: {exc}") from exc
    return Person(actor.id, actor.role, actor.id, actor.provider_id, access)
