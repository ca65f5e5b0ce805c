"""`dps status` and `dps dlq`: what an operator asks of running services, over their
admin HTTP routes (so the same commands work against a cluster)."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

import httpx

from shared.client_credentials import operator_token
from shared.contracts.common import Role
from shared.ports import SERVICE_PORTS

if TYPE_CHECKING:
    from shared.identity_settings import IdentitySettings
    from shared.issuer_settings import IssuerSettings

_PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


class Operator:
    def __init__(
        self,
        settings: IdentitySettings | IssuerSettings,
        host: str = "127.0.0.1",
        ports: dict[str, int] | None = None,
    ) -> None:
        # Production: a client-credentials token of the operators' client (its role is
        # the provider's to give), not one minted with a key that could forge any role.
        token = operator_token(settings, Role.ADMIN, subject="dps-operator")
        self.headers = {"Authorization": f"Bearer {token}"}
        self.host = host
        self.ports = ports or SERVICE_PORTS
        self._clients: dict[bool, httpx.Client] = {}
        self._lock = threading.Lock()  # `dps status` asks the services from threads

    def _client(self, url: str) -> httpx.Client:
        """One connection pool for all of a command's requests (by whether they need TLS).

        Every `httpx.get` built a client, and every client loads the CA bundle (40 ms to
        several hundred on a busy machine): eight of them per `dps status`. A plain-HTTP
        request to a service (the local stack), with no proxy that could be TLS, verifies
        no certificate, so its client skips the bundle; HTTPS keeps full verification."""
        plain = url.startswith("http://") and not any(
            os.environ.get(name) for name in _PROXY_VARIABLES
        )
        with self._lock:
            client = self._clients.get(plain)
            if client is None:
                # B501 is justified: `plain` is an http:// URL (no TLS, nothing to verify) with no
                # proxy; httpx follows no redirect to https, and HTTPS keeps verification.
                client = httpx.Client(verify=False) if plain else httpx.Client()  # nosec B501
                self._clients[plain] = client
            return client

    def url(self, service: str, path: str) -> str:
        # DPS_URL_<SERVICE> points at a service elsewhere (another host or port).
        base = os.environ.get(f"DPS_URL_{service.upper()}")
        return f"{base or f'http://{self.host}:{self.ports[service]}'}{path}"

    def get(self, service: str, path: str, **params: Any) -> Any:
        url = self.url(service, path)
        response = self._client(url).get(url, headers=self.headers, params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def post(self, service: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = self.url(service, path)
        response = self._client(url).post(url, headers=self.headers, json=body, timeout=10)
        if response.status_code >= 400:
            raise RuntimeError(f"{service} answered {response.status_code}: {response.text}")
        return response.json()

    def health(self, service: str) -> str:
        try:
            url = self.url(service, "/readyz")
            ready = self._client(url).get(url, timeout=5)
        except httpx.HTTPError:
            return "down"
        if ready.status_code == 200:
            return "ready"
        checks = ready.json().get("checks", {})
        return "not ready: " + ", ".join(k for k, v in checks.items() if v != "ok")
