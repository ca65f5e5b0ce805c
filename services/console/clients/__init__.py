"""Calls to the four services' public APIs with the signed-in person's token.

Every failure becomes one of three exceptions the pages know how to show: the service
is unavailable (a page naming it), it refused the request (an error summary naming the
fields), or it does not know the thing (404)."""

from __future__ import annotations

from typing import Any, TypedDict, Unpack

import httpx

from shared.http import SERVER_KEEP_ALIVE_S

SERVICE_NAMES = {
    "provider_registry": "the provider register",
    "procurement": "procurement (schemes, applications and call-offs)",
    "placements": "placements",
    "monitoring": "monitoring (alerts and quality)",
}


class ServiceUnavailable(Exception):
    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.service = service
        self.label = SERVICE_NAMES.get(service, service)


class CallOptions(TypedDict, total=False):
    """What a call may add to its request."""

    params: dict[str, Any] | None
    json: Any
    files: Any
    correlation_id: str | None
    idempotency_key: str | None
    headers: dict[str, str] | None


class ApiRefused(Exception):
    """A 4xx: `errors` are the services' `{field, rule, message?}` items (or one for a
    plain `detail` text)."""

    def __init__(self, status: int, errors: list[dict[str, str]]) -> None:
        super().__init__(f"{status}: {errors}")
        self.status = status
        self.errors = errors


class NotSignedIn(Exception):
    """The service refused the token (expired or revoked): sign in again."""


class Upstream:
    """The console's connections to the four services (one pooled client each)."""

    def __init__(
        self,
        urls: dict[str, str],
        timeout_s: float,
        transports: dict[str, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        # transports: a service's app in-process (tests); otherwise HTTP to its URL.
        given = transports or {}
        self.clients = {
            name: httpx.AsyncClient(
                base_url=url,
                timeout=timeout_s,
                transport=given.get(name),
                # Let an idle connection go before the service closes it: one reused as
                # the service closes it fails the request (shared.http.SERVER_KEEP_ALIVE_S).
                limits=httpx.Limits(keepalive_expiry=SERVER_KEEP_ALIVE_S / 2),
            )
            for name, url in urls.items()
        }

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    async def call(
        self, service: str, method: str, path: str, token: str, **options: Unpack[CallOptions]
    ) -> Any:
        """The service's JSON answer (None for an empty body); a refusal raises ApiRefused,
        a failed or 5xx service ServiceUnavailable, a refused token NotSignedIn."""
        response = await self.respond(service, method, path, token, **options)
        return response.json() if response.content else None

    async def respond(
        self,
        service: str,
        method: str,
        path: str,
        token: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        correlation_id: str | None = None,
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """The service's answer as it is (a file's bytes and headers); failures raise as
        for `call`. `files`: httpx's multipart files, streamed from their file objects."""
        headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
        if correlation_id:
            headers["X-Correlation-ID"] = correlation_id
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = await self.clients[service].request(
                method, path, params=params, json=json, files=files, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(service) from exc
        if response.status_code >= 500:
            raise ServiceUnavailable(service)
        if response.status_code == 401:
            raise NotSignedIn()
        if response.status_code >= 400:
            raise ApiRefused(response.status_code, _errors(response))
        return response


def _errors(response: httpx.Response) -> list[dict[str, str]]:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, list):
        return [
            {
                "field": str(item.get("field", "body")),
                "rule": str(item.get("rule", "")),
                "message": str(item.get("message") or ""),
            }
            for item in detail
            if isinstance(item, dict)
        ]
    text = (
        detail if isinstance(detail, str) else f"the request was refused ({response.status_code})"
    )
    return [{"field": "body", "rule": text, "message": ""}]
