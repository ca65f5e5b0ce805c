"""What every service does at its HTTP edge before a route runs: cap request bodies and
put security headers on every response (issue 13, "Hostile input").

Plain ASGI middleware, so a body is refused before it is read whole: a declared
Content-Length over the limit is a 413 at once, and a chunked body is counted as it
arrives and refused as soon as it passes the limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# A route that takes larger bodies says so in its OpenAPI operation, e.g.
# `openapi_extra={MAX_BODY_EXTRA: 4 * 1024 * 1024}` (placements' POST /ehc-events).
MAX_BODY_EXTRA = "x-max-body-bytes"
HSTS = "max-age=31536000; includeSubDomains"
ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
)


def too_large_detail(limit: int) -> list[dict[str, str]]:
    return [
        {
            "field": "body",
            "rule": "too_large",
            "message": f"the request body is larger than {limit} bytes",
        }
    ]


class EarlyAnswer(Exception):
    """The answer to give instead of running the route (shared.http answers with it): a
    429 from a rate limit, an idempotent replay, a 409 for a reused key."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes its limit (FastAPI re-raises an
    HTTPException met while reading a body; shared.http answers it with a 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"larger than {limit} bytes")
        self.limit = limit


def _larger_limits(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, Any, int]]:
    """(prefix, route, limit) of every route declaring its own body limit, through
    included routers (FastAPI keeps them nested)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from _larger_limits(included.routes, prefix + getattr(context, "prefix", ""))
            continue
        extra = getattr(route, "openapi_extra", None) or {}
        if MAX_BODY_EXTRA in extra:
            yield prefix, route, int(extra[MAX_BODY_EXTRA])


def _limit_for(path: str, larger: list[tuple[str, Any, int]], default: int) -> int:
    for prefix, route, limit in larger:
        if path.startswith(prefix) and route.path_regex.match(path[len(prefix) :]):
            return limit
    return default


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length" and value.isdigit():
            return int(value)
    return None


class BodyLimit:
    """Refuse a request body larger than `max_bytes` (or its route's own limit) with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self._larger: list[tuple[str, Any, int]] | None = None  # found at the first request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._larger is None:
            router = getattr(scope.get("app"), "router", None)
            self._larger = list(_larger_limits(getattr(router, "routes", ())))
        limit = _limit_for(str(scope.get("path", "")), self._larger, self.max_bytes)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            response = JSONResponse({"detail": too_large_detail(limit)}, status_code=413)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


def request_header(scope: Scope, wanted: bytes) -> bytes | None:
    return next((v for k, v in scope.get("headers", ()) if k == wanted), None)


def over_tls(scope: Scope, trust_forwarded_proto: bool) -> bool:
    """Was this request made over TLS: directly, or (behind a trusted proxy) as the
    proxy's X-Forwarded-Proto says."""
    if scope.get("scheme") == "https":
        return True
    return trust_forwarded_proto and request_header(scope, b"x-forwarded-proto") == b"https"


class SecurityHeaders:
    """nosniff, no framing, no caching of authenticated answers, HSTS over TLS."""

    def __init__(self, app: ASGIApp, trust_forwarded_proto: bool) -> None:
        self.app = app
        self.trust_forwarded_proto = trust_forwarded_proto

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(ALWAYS)
        if request_header(scope, b"authorization") is not None:
            extra.append((b"cache-control", b"no-store"))
        if over_tls(scope, self.trust_forwarded_proto):
            extra.append((b"strict-transport-security", HSTS.encode()))
        names = {name for name, _ in extra}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + extra
            await send(message)

        await self.app(scope, receive, with_headers)
