"""One person's view of the services: the upstream connections plus their token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from services.console.clients import Upstream


@dataclass(frozen=True)
class Api:
    upstream: Upstream
    token: str
    correlation_id: str | None = None
    # The form's one-time key (web.form_api): a double-submitted form acts once, as the
    # service answers the same key with its first answer (shared/idempotency.py).
    idempotency_key: str | None = None

    async def get(
        self,
        service: str,
        path: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        return await self.upstream.call(
            service,
            "GET",
            path,
            self.token,
            params=params,
            correlation_id=self.correlation_id,
            headers=headers,
        )

    async def post(self, service: str, path: str, json: Any = None) -> Any:
        return await self.upstream.call(
            service,
            "POST",
            path,
            self.token,
            json=json,
            correlation_id=self.correlation_id,
            idempotency_key=self.idempotency_key,
        )

    async def put(self, service: str, path: str, json: Any = None) -> Any:
        return await self.upstream.call(
            service,
            "PUT",
            path,
            self.token,
            json=json,
            correlation_id=self.correlation_id,
            idempotency_key=self.idempotency_key,
        )

    async def upload(self, service: str, path: str, files: Any) -> Any:
        """A multipart POST (a document's file), with the form's one-time key."""
        return await self.upstream.call(
            service,
            "POST",
            path,
            self.token,
            files=files,
            correlation_id=self.correlation_id,
            idempotency_key=self.idempotency_key,
        )

    async def download(
        self, service: str, path: str, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        """A GET whose answer is a file: its bytes and headers as the service gave them."""
        return await self.upstream.respond(
            service, "GET", path, self.token, params=params, correlation_id=self.correlation_id
        )

    async def patch(self, service: str, path: str, json: Any = None) -> Any:
        return await self.upstream.call(
            service, "PATCH", path, self.token, json=json, correlation_id=self.correlation_id
        )


def segment(value: str) -> str:
    """An id as one path segment: what a person typed into a URL cannot reach another
    route of the service ("..", "/", "?")."""
    return quote(value, safe="")
