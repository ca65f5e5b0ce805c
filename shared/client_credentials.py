"""How the `dps` command gets a bearer token: in production from the council's provider
by the OAuth 2.0 client credentials grant (RFC 6749 §4.4), never by signing one with a
key that could forge any role; elsewhere from the development issuer.

Imports httpx only when a token is fetched and pydantic not at all, so `dps status`
stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.contracts.common import Role
from shared.issuer_settings import IssuerSettings

if TYPE_CHECKING:
    import httpx

    from shared.identity_settings import IdentitySettings

FETCH_TIMEOUT_S = 10.0


class SignInError(RuntimeError):
    """The `dps` command could not get a token; the message names the setting."""


def client_credentials_token(settings: IdentitySettings) -> str:
    """A token for this client (DPS_OIDC_CLIENT_ID/SECRET) from the provider's token
    endpoint (DPS_OIDC_TOKEN_URL, else discovered from DPS_OIDC_ISSUER)."""
    import httpx

    if not (settings.oidc_client_id and settings.oidc_client_secret):
        raise SignInError(
            "set DPS_OIDC_CLIENT_ID and DPS_OIDC_CLIENT_SECRET (a client of the council's "
            "identity provider allowed the client credentials grant)"
        )
    form = {"grant_type": "client_credentials"}
    if settings.oidc_resource:
        form["resource"] = settings.oidc_resource
    if settings.oidc_scope:
        form["scope"] = settings.oidc_scope
    try:
        with httpx.Client(timeout=FETCH_TIMEOUT_S) as client:
            url = settings.oidc_token_url or _discover_token_url(client, settings.oidc_issuer)
            response = client.post(
                url, data=form, auth=(settings.oidc_client_id, settings.oidc_client_secret)
            )
    except httpx.HTTPError as exc:
        raise SignInError(f"cannot reach the identity provider: {exc!r}") from exc
    if response.status_code != 200:
        # RFC 6749 §5.2: `error` says why (invalid_client for a revoked or wrong client).
        reason = _error_of(response)
        raise SignInError(
            f"the identity provider refused client {settings.oidc_client_id!r}: {reason}"
        )
    token = response.json().get("access_token")
    if not isinstance(token, str):
        raise SignInError("the identity provider's answer has no access_token")
    return token


def _discover_token_url(client: httpx.Client, issuer: str) -> str:
    if not issuer:
        raise SignInError("set DPS_OIDC_TOKEN_URL or DPS_OIDC_ISSUER to get a token")
    response = client.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    response.raise_for_status()
    return str(response.json()["token_endpoint"])


def _error_of(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"{body.get('error')}: {body.get('error_description', '')}".strip(": ")
    except ValueError:
        return f"HTTP {response.status_code}"


def operator_token(settings: IdentitySettings | IssuerSettings, role: Role, subject: str) -> str:
    """The token `dps status`, `dps dlq` and `dps import` send. In production (or once
    DPS_OIDC_CLIENT_ID is set) the client's own role comes from the provider; `role` and
    `subject` only name what a development token carries. IssuerSettings are never
    either (shared.issuer_settings leaves both to CommonSettings)."""
    if not isinstance(settings, IssuerSettings) and (
        settings.production or settings.oidc_client_id
    ):
        return client_credentials_token(settings)
    from shared.tokens import issue_token

    return issue_token(settings.signing_secret(), role, subject=subject)
