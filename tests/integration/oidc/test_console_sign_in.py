"""The officers' console in production signs people in with the council's provider (the
real oidc-provider): authorisation code with PKCE through Authlib, the role read from the
person's groups as the services read it, and their access token passed on to a service,
which accepts it. A callback that this session did not start signs nobody in."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from services.console.app import build_app
from shared.runtime import ServiceRuntime
from tests.integration.oidc.conftest import (
    API,
    CONSOLE_REDIRECT,
    RESOURCES,
    IdentityProvider,
    registry,  # noqa: F401  (the fixture)
    signed_in,
)
from tests.service.console.test_console import console_settings

GROUPS = {"0d6f3b1c-monitoring-officers": "monitoring_officer"}


def console(
    idp: IdentityProvider, runtime: ServiceRuntime, tmp_path: Path, **overrides: object
) -> httpx.AsyncClient:
    identity = {"oidc_role_map": GROUPS}
    signed_in(runtime, idp, **identity)  # the registry trusts the provider too
    values: dict[str, object] = dict(
        env="production",
        # One strong cookie key for every replica: production refuses a weak one.
        session_secret="q3Jx0yV7pZrT2mWc8kLbN5hGdF1sA9eU4oIiY6tR",
        provider_registry_url="http://registry",
        oidc_issuer=idp.issuer,
        oidc_audience=API.format(service="provider_registry"),
        oidc_resource=RESOURCES[0],
        oidc_client_id="council-console",
        oidc_redirect_uri=CONSOLE_REDIRECT,
        oidc_role_map=GROUPS,
        oidc_jwks_min_refetch_s=0,
    )
    settings = console_settings(tmp_path, **{**values, **overrides})
    transports: dict[str, httpx.AsyncBaseTransport] = {
        "provider_registry": httpx.ASGITransport(app=runtime.build_app())
    }
    app = build_app(settings, transports)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://127.0.0.1:8000"
    )


def log_in_at_provider(idp: IdentityProvider, location: str, login: str) -> str:
    """The person at the provider's pages (development login, then consent); returns
    where the provider sends the browser back to."""
    with httpx.Client(timeout=10) as browser:
        page = browser.get(location)
        for _ in range(6):
            location = page.headers["location"]
            if location.startswith(CONSOLE_REDIRECT):
                return location
            if location.startswith("/"):
                location = idp.issuer + location
            page = browser.get(location)
            if page.status_code == 200:
                prompt = re.search(r'name="prompt" value="(\w+)"', page.text)
                assert prompt, page.text
                form = {"prompt": prompt.group(1), "login": login, "password": "any"}
                page = browser.post(location, data=form)
    raise AssertionError("the provider never sent the browser back")


async def test_a_person_signs_in_with_the_council_account(
    idp: IdentityProvider,
    registry: ServiceRuntime,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with console(idp, registry, tmp_path) as client:
        start = await client.get("/sign-in")
        assert start.status_code == 303
        to_provider = httpx.URL(start.headers["location"])
        assert str(to_provider).startswith(idp.issuer)
        assert to_provider.params["code_challenge_method"] == "S256"  # PKCE
        assert to_provider.params["client_id"] == "council-console"
        assert (await client.post("/sign-in/dev", data={"person": "admin"})).status_code == 404

        back = log_in_at_provider(idp, str(to_provider), "asha.officer")
        path = back.removeprefix("https://127.0.0.1:8000")
        signed = await client.get(path)
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        # The same return link again: already used, nobody more is signed in by it.
        replayed = await client.get(path)
        assert replayed.status_code == 400 and "govuk-error-summary" in replayed.text

        # The role from the person's group; their token is accepted by the register.
        providers = await client.get("/providers")
        assert providers.status_code == 200, providers.text
        assert "Monitoring officer" in providers.text


async def test_a_callback_this_session_did_not_start_signs_nobody_in(
    idp: IdentityProvider,
    registry: ServiceRuntime,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with console(idp, registry, tmp_path) as client:
        forged = await client.get("/sign-in/callback", params={"code": "x", "state": "y"})
        assert forged.status_code == 400 and "was not started here" in forged.text
        await client.get("/sign-in")  # started, but the state sent back is another
        wrong = await client.get("/sign-in/callback", params={"code": "x", "state": "y"})
        assert wrong.status_code == 400 and "state does not match" in wrong.text
        assert (await client.get("/providers")).status_code == 303  # to sign in


async def test_an_unreachable_provider_is_a_page_saying_so(
    idp: IdentityProvider,
    registry: ServiceRuntime,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with console(idp, registry, tmp_path, oidc_issuer="http://127.0.0.1:1") as client:
        down = await client.get("/sign-in")
        assert down.status_code == 503 and "could not be reached" in down.text
