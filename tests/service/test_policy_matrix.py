"""Every route of every service x every caller answers as the policy table says.

Callers: no token, each role in Role (so a role added later is covered, and denied
wherever no rule names it), a provider token without a provider binding, and a provider
for another provider where a route is provider-scoped in its path. A denied caller gets
401/403; an allowed one anything but 401/403 (and never 5xx): the request is then
answered by the handler (404 for the made-up ids, 422 for the empty body, ...).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from dps.docs import policies
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.policy import PUBLIC, Policy, app_routes
from shared.runtime import ServiceRuntime
from shared.settings import SERVICES
from shared.tokens import ALGORITHM, ISSUER
from tests.conftest import TEST_SECRET
from tests.harness import client_for, make_runtime

OWN, OTHER = "p-own", "p-other"


def app_policy(service: str) -> Policy:
    tables = policies()
    return {**tables[service], **tables["admin"], **tables["audit"]}


def routes_of(runtime: ServiceRuntime) -> list[tuple[str, str]]:
    """The routes that need a token: all but the probes, metrics and API documents."""
    return [route for route in app_routes(runtime.build_app()) if route[1] not in PUBLIC]


def unbound_provider_token() -> str:
    """What a careless identity provider might issue: role provider, no provider id."""
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "sub": "someone", "role": "provider", "iat": now}
    return jwt.encode({**claims, "exp": now + timedelta(minutes=5)}, TEST_SECRET, ALGORITHM)


def url(path: str, provider_id: str) -> str:
    return re.sub(
        r"\{(\w+)\}", lambda m: provider_id if m[1] == "provider_id" else f"no-{m[1]}", path
    )


@pytest.fixture(params=SERVICES)
async def runtime(
    request: pytest.FixtureRequest,
    database_url: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[ServiceRuntime]:
    monkeypatch.delenv("DPS_SMTP_HOST", raising=False)  # monitoring: nothing leaves the test
    monkeypatch.delenv("DPS_WEBHOOK_URL", raising=False)
    broker = KafkaBroker()
    service = str(request.param)
    started = make_runtime(service, database_url(service), tmp_path, shared_broker=broker)
    async with TestKafkaBroker(broker):
        await started.start()
        yield started
        await started.stop()


async def call(client: httpx.AsyncClient, method: str, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {} if method in {"POST", "PUT", "PATCH"} else None
    response = await client.request(method, path, json=body, headers=headers)
    return response.status_code


async def test_every_route_answers_every_caller_as_the_policy_says(
    runtime: ServiceRuntime,
) -> None:
    policy = app_policy(runtime.name)
    tokens = {
        role: issue_token(TEST_SECRET, role, provider_id=OWN if role is Role.PROVIDER else None)
        for role in Role
    }
    wrong: list[str] = []
    checked = 0
    async with client_for(runtime) as client:
        for method, path in routes_of(runtime):
            rule = policy[(method, path)]
            own_url = url(path, OWN)
            for label, token, expected in [
                ("no token", None, {401}),
                ("unbound provider", unbound_provider_token(), {401}),
            ]:
                status = await call(client, method, own_url, token)
                checked += 1
                if status not in expected:
                    wrong.append(f"{method} {path} {label}: {status}")
            for role in Role:
                status = await call(client, method, own_url, tokens[role])
                checked += 1
                if role not in rule.roles and status != 403:
                    wrong.append(f"{method} {path} {role}: {status}, table says 403")
                if role in rule.roles and (status in {401, 403} or status >= 500):
                    wrong.append(f"{method} {path} {role}: {status}, table says allowed")
            if rule.own and Role.PROVIDER in rule.roles:
                other = await call(client, method, url(path, OTHER), tokens[Role.PROVIDER])
                checked += 1
                if other != 403:
                    wrong.append(f"{method} {path} another provider: {other}, not 403")
    assert not wrong, "\n".join(wrong)
    assert checked >= len(routes_of(runtime)) * (len(Role) + 2)


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_has_a_policy_entry_and_every_entry_a_route(service: str) -> None:
    from dps.docs import _runtime

    routes = set(routes_of(_runtime(service)))
    assert len(routes) > 10, "the routes were not found (FastAPI's router changed?)"
    entries = set(app_policy(service))
    assert routes - entries == set(), "routes with no policy entry (denied to all)"
    assert entries - routes == set(), "policy entries for routes that do not exist"


def test_admin_operates_the_platform_and_does_nothing_else() -> None:
    for service in SERVICES:
        for (method, path), rule in app_policy(service).items():
            assert (Role.ADMIN in rule.roles) == path.startswith("/admin/"), (method, path)


# A supplier's person (signed in, bound to no provider) may only register its
# organisation, follow that, see its own binding and accept an invitation (issue 15).
SUPPLIER_ROUTES = {
    ("POST", "/registrations"),
    ("GET", "/registrations/mine"),
    ("GET", "/people/me"),
    ("POST", "/invitations/{code}/acceptance"),
}


def test_a_supplier_may_only_register_and_nothing_else() -> None:
    for service in SERVICES:
        allowed = {
            route for route, rule in app_policy(service).items() if Role.SUPPLIER in rule.roles
        }
        expected = SUPPLIER_ROUTES if service == "provider_registry" else set()
        assert allowed == expected, service
