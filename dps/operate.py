"""`dps status` and `dps dlq`: what an operator asks of running services, over their
admin HTTP routes (so the same commands work against a cluster)."""

from __future__ import annotations

import os
from typing import Any

import httpx

from shared.client_credentials import operator_token
from shared.contracts.common import Role
from shared.settings import SERVICE_PORTS, CommonSettings


class Operator:
    def __init__(
        self,
        settings: CommonSettings,
        host: str = "127.0.0.1",
        ports: dict[str, int] | None = None,
    ) -> None:
        # Production: a client-credentials token of the operators' client (its role is
        # the provider's to give), not one minted with a key that could forge any role.
        token = operator_token(settings, Role.ADMIN, subject="dps-operator")
        self.headers = {"Authorization": f"Bearer {token}"}
        self.host = host
        self.ports = ports or SERVICE_PORTS

    def url(self, service: str, path: str) -> str:
        # DPS_URL_<SERVICE> points at a service elsewhere (another host or port).
        base = os.environ.get(f"DPS_URL_{service.upper()}")
        return f"{base or f'http://{self.host}:{self.ports[service]}'}{path}"

    def get(self, service: str, path: str, **params: Any) -> Any:
        response = httpx.get(
            self.url(service, path), headers=self.headers, params=params, timeout=10
        )
        response.raise_for_status()
        return response.json()

    def post(self, service: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.post(self.url(service, path), headers=self.headers, json=body, timeout=10)
        if response.status_code >= 400:
            raise RuntimeError(f"{service} answered {response.status_code}: {response.text}")
        return response.json()

    def health(self, service: str) -> str:
        try:
            ready = httpx.get(self.url(service, "/readyz"), timeout=5)
        except httpx.HTTPError:
            return "down"
        if ready.status_code == 200:
            return "ready"
        checks = ready.json().get("checks", {})
        return "not ready: " + ", ".join(k for k, v in checks.items() if v != "ok")
