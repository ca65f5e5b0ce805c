"""Rate limits at the HTTP edge (issue 13, "Hostile input"), with the `limits` library.

- Failed authentications (answers 401) per client address: past the limit, every request
  from that address is a 429 until the window moves on, so a token cannot be guessed
  or a stolen one tried at speed. Probes (/healthz, /readyz, /metrics) are never limited.
- Writes (POST, PUT, PATCH, DELETE) per token subject: one client, or a leaked token,
  cannot flood a service with changes (checked in shared.guard after authentication).

Counters live in memory by default (one process); several replicas share them through
a storage URI such as `redis://host:6379/0` or `rediss://` (DPS_RATE_LIMIT_STORAGE_URI),
through the `redis` package (redis-py's asyncio client). If that store cannot be reached
the limits are not applied (logged, and counted in dps_rate_limit_store_errors_total):
they are a brake on abuse, and the services must not stop answering because of them.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from prometheus_client import Counter
from starlette.responses import JSONResponse

from shared.edge import ASGIApp, Message, Receive, Scope, Send
from shared.logging import get_logger

log = get_logger(__name__)
STORE_ERRORS = Counter(
    "dps_rate_limit_store_errors_total",
    "Rate-limit checks skipped because the counter store could not be reached",
    ["service"],
)

PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


def async_storage_uri(uri: str) -> str:
    """`limits` names its asyncio storages `async+<scheme>`; accept either spelling."""
    return uri if uri.startswith("async+") else f"async+{uri}"


class RateLimits:
    """The limits of one service process and where their counters are kept."""

    def __init__(self, service: str, *, storage_uri: str, auth_failures: str, writes: str) -> None:
        self.service = service
        uri = async_storage_uri(storage_uri)
        # limits' asyncio Redis storage defaults to coredis; we ship redis-py instead.
        options = {"implementation": "redispy"} if uri.startswith("async+redis") else {}
        storage = storage_from_string(uri, **options)
        assert isinstance(storage, Storage)  # an async+ URI makes an asyncio storage
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.auth_failures: RateLimitItem = parse(auth_failures)
        self.writes: RateLimitItem = parse(writes)

    async def blocked_for(self, limit: RateLimitItem, *ids: str) -> int | None:
        """Seconds until `ids` may try again, or None if the limit is not reached."""
        try:
            if await self.limiter.test(limit, self.service, *ids):
                return None
            stats = await self.limiter.get_window_stats(limit, self.service, *ids)
        except Exception as exc:  # the store is down: answer, unlimited (module docstring)
            self._store_unreachable(exc)
            return None
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def hit(self, limit: RateLimitItem, *ids: str) -> int | None:
        """Count one more; seconds to wait if that was one too many, else None."""
        try:
            if await self.limiter.hit(limit, self.service, *ids):
                return None
        except Exception as exc:
            self._store_unreachable(exc)
            return None
        return await self.blocked_for(limit, *ids) or 1

    def _store_unreachable(self, exc: Exception) -> None:
        STORE_ERRORS.labels(self.service).inc()
        log.warning("rate_limit.store_unreachable", error=type(exc).__name__)
        return None


def too_many(retry_after: int, what: str) -> JSONResponse:
    return JSONResponse(
        {"detail": f"too many {what}; try again in {retry_after} s"},
        status_code=429,
        headers={"Retry-After": str(retry_after)},
    )


def client_address(scope: Scope, trust_forwarded_for: bool) -> str:
    """The caller's address: the peer, or behind a trusted proxy the address that proxy
    appended last to X-Forwarded-For (earlier entries are the client's own word)."""
    if trust_forwarded_for:
        forwarded = [v for k, v in scope.get("headers", ()) if k == b"x-forwarded-for"]
        if forwarded:
            last = forwarded[-1].decode("latin-1").split(",")[-1].strip()
            if last:
                return last
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class AuthFailureLimit:
    """Count 401 answers per client address; refuse an address past the limit (429)."""

    def __init__(self, app: ASGIApp, limits: RateLimits, trust_forwarded_for: bool) -> None:
        self.app = app
        self.limits = limits
        self.trust_forwarded_for = trust_forwarded_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in PROBES:
            await self.app(scope, receive, send)
            return
        address = client_address(scope, self.trust_forwarded_for)
        wait = await self.limits.blocked_for(self.limits.auth_failures, "auth", address)
        if wait is not None:
            await too_many(wait, "failed authentications from this address")(scope, receive, send)
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                await self.limits.hit(self.limits.auth_failures, "auth", address)
            await send(message)

        await self.app(scope, receive, counting)
