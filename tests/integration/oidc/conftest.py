"""A real OpenID Connect provider (the npm package oidc-provider, certified) for the
sign-in tests, started once per session on a free port; tests that rotate its keys or
revoke a client put it back as it was. Its clients and keys are below."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from faststream.kafka import KafkaBroker, TestKafkaBroker

from dps import processes
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings
from tests.harness import client_for, make_runtime

HERE = Path(__file__).resolve().parent
API = "api://send-dps/{service}"  # each service its own audience
SECRET = "a-client-secret-only-the-tests-know-0123456789"
WEB_REDIRECT = "http://127.0.0.1/signed-in"
CONSOLE_REDIRECT = "https://127.0.0.1:8000/sign-in/callback"  # the officers' console

# What a council's provider would be configured with: machine clients with their role
# in the `roles` claim (or none, mapped by client id in DPS_OIDC_CLIENT_ROLES), a school
# portal bound to its provider, and misconfigured ones the services must refuse.
CLIENTS: list[dict[str, Any]] = [
    {"client_id": "case-system", "roles": ["council_system"]},
    {"client_id": "ops-tool"},  # admin by DPS_OIDC_CLIENT_ROLES
    {"client_id": "school-portal", "roles": ["provider"], "provider_id": "p-1"},
    {"client_id": "unbound-school", "roles": ["provider"]},
    {"client_id": "short-lived", "roles": ["commissioner"], "ttl": 1},
    {"client_id": "long-lived", "roles": ["commissioner"], "ttl": 7200},
    {"client_id": "retired", "roles": ["council_system"]},
    {"client_id": "finance-tool", "groups": ["5f0c9e2a-commissioning-team"]},  # a group id
    {"client_id": "two-hats", "roles": ["commissioner", "admin"]},
    {"client_id": "council-web", "redirect_uris": [WEB_REDIRECT]},  # people sign in here
    {"client_id": "council-console", "redirect_uris": [CONSOLE_REDIRECT]},
]
# People in the council's directory, by login, with their groups' ids.
PEOPLE = {"asha.officer": ["0d6f3b1c-monitoring-officers"]}
RESOURCES = [API.format(service=s) for s in ("provider_registry", "placements")]


def signing_key(kid: str) -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    return key, {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


@dataclass
class IdentityProvider:
    folder: Path
    port: int = field(default_factory=processes.free_port)
    keys: list[dict[str, Any]] = field(default_factory=list)
    clients: list[dict[str, Any]] = field(default_factory=lambda: list(CLIENTS))
    managed: processes.Managed | None = None
    baseline: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = self.folder / "provider.json"
        config.write_text(
            json.dumps(
                {
                    "port": self.port,
                    "keys": self.keys,
                    "clients": [{**c, "client_secret": SECRET} for c in self.clients],
                    "resources": RESOURCES,
                    "default_resource": RESOURCES[0],
                    "people": PEOPLE,
                }
            )
        )
        node = shutil.which("node")
        assert node, "node is needed for the OpenID Connect tests"
        self.managed = processes.Managed(
            "oidc-provider", [node, str(HERE / "provider.js"), str(config)], self.folder / "log"
        )
        self.managed.start()
        processes.wait_for_port(self.managed, self.port, timeout=30)

    def stop(self) -> None:
        if self.managed is not None:
            self.managed.stop()

    def restart(
        self, *, keys: list[dict[str, Any]] | None = None, clients: list[str] | None = None
    ) -> None:
        """Reconfigure (same issuer URL): new signing keys, or only the named clients."""
        self.stop()
        if keys is not None:
            self.keys = keys
        if clients is not None:
            self.clients = [c for c in CLIENTS if c["client_id"] in clients]
        self.start()

    def token(self, client_id: str, resource: str = RESOURCES[0]) -> str:
        response = httpx.post(
            f"{self.issuer}/token",
            data={"grant_type": "client_credentials", "resource": resource},
            auth=(client_id, SECRET),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def person_tokens(self, login: str, resource: str = RESOURCES[0]) -> dict[str, str]:
        """A person signs in through council-web as a browser would (authorization code
        with PKCE; the development login form takes any password) and gets an access
        token for `resource` and an ID token."""
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        with httpx.Client(base_url=self.issuer, timeout=10) as browser:
            page = browser.get(
                "/auth",
                params={
                    "client_id": "council-web",
                    "response_type": "code",
                    "redirect_uri": WEB_REDIRECT,
                    "scope": "openid api",
                    "resource": resource,
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                },
            )
            for _ in range(6):  # the login form, then the consent form
                location = page.headers["location"]
                if location.startswith(WEB_REDIRECT):
                    break
                page = browser.get(location)
                if page.status_code == 200:
                    prompt = re.search(r'name="prompt" value="(\w+)"', page.text)
                    assert prompt, page.text
                    form = {"prompt": prompt.group(1), "login": login, "password": "any"}
                    page = browser.post(location, data=form)
            code = httpx.URL(page.headers["location"]).params["code"]
            answer = browser.post(
                "/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": WEB_REDIRECT,
                    "client_id": "council-web",
                    "code_verifier": verifier,
                    "resource": resource,
                },
            )
        assert answer.status_code == 200, answer.text
        return {k: str(v) for k, v in answer.json().items() if k.endswith("_token")}


@pytest.fixture(scope="session")
def identity_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdentityProvider]:
    if not (HERE / "node_modules" / "oidc-provider").exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed for the OpenID Connect tests"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=HERE,
            check=True,
            capture_output=True,
            timeout=300,
        )
    provider = IdentityProvider(tmp_path_factory.mktemp("oidc"))
    provider.keys = [signing_key("key-1")[1]]
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def idp(identity_provider: IdentityProvider) -> Iterator[IdentityProvider]:
    """The session's provider, put back as it was if the test reconfigured it."""
    keys, clients = list(identity_provider.keys), list(identity_provider.clients)
    yield identity_provider
    if (identity_provider.keys, identity_provider.clients) != (keys, clients) or not (
        identity_provider.managed and identity_provider.managed.running
    ):
        identity_provider.restart(keys=keys, clients=[c["client_id"] for c in clients])


@pytest.fixture(scope="module")
async def registry(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ServiceRuntime]:
    """provider_registry's API (migrated SQLite, in-memory broker), as tests/service run it."""
    folder = tmp_path_factory.mktemp("registry")
    broker = KafkaBroker()
    runtime = make_runtime(
        "provider_registry", f"sqlite+aiosqlite:///{folder / 'r.db'}", folder, shared_broker=broker
    )
    async with TestKafkaBroker(broker):
        await runtime.start()
        yield runtime
        await runtime.stop()


def signed_in(runtime: ServiceRuntime, idp: IdentityProvider, **identity: Any) -> httpx.AsyncClient:
    """A client of the runtime's API as it is built with the council's provider trusted
    (each call builds the app anew: a fresh key cache, these settings)."""
    settings = {
        "oidc_issuer": idp.issuer,
        "oidc_audience": API,
        "oidc_client_roles": {"ops-tool": "admin"},
        "oidc_jwks_min_refetch_s": 0,
        **identity,
    }
    base = _BASE_SETTINGS.setdefault(id(runtime), runtime.settings)
    runtime.settings = base.model_copy(update=settings)
    return client_for(runtime)


_BASE_SETTINGS: dict[int, ServiceSettings] = {}
