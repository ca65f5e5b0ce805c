"""The FastAPI application every service builds on: health, readiness, metrics, errors.

Every route except /healthz, /readyz and /metrics requires a bearer token (shared.auth).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy.exc
import structlog
from fastapi import FastAPI, Request, Response, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import Authenticator
from shared.edge import (
    BodyLimit,
    BodyTooLarge,
    EarlyAnswer,
    SecurityHeaders,
    request_header,
    too_large_detail,
)
from shared.errors import Conflict, DomainError, NotFound, RulesBroken
from shared.idempotency import HEADER as IDEMPOTENCY_HEADER
from shared.idempotency import IdempotencyCapture
from shared.logging import get_logger
from shared.metrics import HTTP_REQUESTS, HTTP_SECONDS
from shared.oidc import OidcVerifier
from shared.ratelimit import AuthFailureLimit, RateLimits
from shared.tracing import instrument_app
from shared.unit_of_work import current_correlation_id

CORRELATION_HEADER = "X-Correlation-ID"
CORRELATION_KEY = CORRELATION_HEADER.lower().encode("latin-1")  # as ASGI gives headers
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes: every few seconds
log = get_logger(__name__)

# How long a service keeps an idle HTTP connection open (uvicorn's timeout_keep_alive).
# A client that reuses connections must let them go sooner (the console: half of it):
# with both at 5 s, a request sent on a connection the server was closing at that moment
# failed as "service unavailable" (a CI browser test, on a loaded machine).
SERVER_KEEP_ALIVE_S = 5
UNSTORABLE = {
    "field": "body",
    "rule": "out_of_range",
    "message": "a value is too large, too small or not storable (e.g. a NUL character)",
}
MALFORMED_BODY = {
    "field": "body",
    "rule": "malformed",
    "message": "the body cannot be read as the declared content type (e.g. not UTF-8 JSON)",
}
ReadinessCheck = Callable[[], Awaitable[None]]
# Background tasks that keep failing, by name, with a short reason (no exception text).
HealthReport = Callable[[], Mapping[str, str]]


class ErrorItem(BaseModel):
    """One broken rule: the field (dotted path into the body, or `body`) and the rule."""

    field: str
    rule: str
    message: str | None = None


class ErrorBody(BaseModel):
    """The body of a 409, 413 or 422: every rule the request broke."""

    detail: list[ErrorItem]


class MessageBody(BaseModel):
    """The body of a 401, 403, 404 or 429: what is missing or refused, in words."""

    detail: str


# Documented on every route (shared.runtime includes the routers with it), so the OpenAPI
# documents describe the answers the services really give.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": MessageBody, "description": "No bearer token, or not a valid one"},
    403: {"model": MessageBody, "description": "The token's role may not do this"},
    404: {"model": MessageBody, "description": "What the path names does not exist"},
    409: {"model": ErrorBody, "description": "The request clashes with the current state"},
    413: {"model": ErrorBody, "description": "The request body is too large"},
    422: {"model": ErrorBody, "description": "The request breaks a rule (field and rule)"},
    429: {
        "model": MessageBody,
        "description": "Too many failed authentications from this address, or too many "
        "writes by this client; Retry-After says when to try again",
        "headers": {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}},
    },
}


IDEMPOTENCY_PARAMETER: dict[str, Any] = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": "Send the same POST again with the same key and body to get the first "
    "answer again instead of a second create (kept 24 h by default); the same key with "
    "another request is a 409",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}


def create_app(
    service: str,
    *,
    title: str,
    jwt_secret: str | None,
    checks: Mapping[str, ReadinessCheck],
    oidc: OidcVerifier | None = None,
    health: HealthReport = dict,
    edge: EdgeSettings | None = None,
    **kwargs: Any,
) -> FastAPI:
    edge = edge or EdgeSettings()
    if not edge.expose_docs:
        kwargs.update(docs_url=None, redoc_url=None, openapi_url=None)
    app = FastAPI(title=title, version="1.0", **kwargs)
    app.state.jwt_secret = jwt_secret
    # None refuses development tokens (production); oidc trusts the council's provider.
    app.state.authenticator = Authenticator(dev_secret=jwt_secret, oidc=oidc)
    app.state.service = service
    _add_operational_routes(app, checks, health, metrics=edge.expose_metrics)
    _add_error_handlers(app)
    # Answers are kept for Idempotency-Key inside everything that may still refuse.
    app.add_middleware(IdempotencyCapture)
    # Inside RequestContext, so a 413 is logged and counted like any answer.
    app.add_middleware(BodyLimit, max_bytes=edge.max_body_bytes)
    limits = RateLimits(
        service,
        storage_uri=edge.rate_limit_storage_uri,
        auth_failures=edge.rate_limit_auth_failures,
        writes=edge.rate_limit_writes,
    )
    app.state.rate_limits = limits  # writes are counted by shared.guard
    app.add_middleware(
        AuthFailureLimit, limits=limits, trust_forwarded_for=edge.trust_forwarded_for
    )
    app.add_middleware(RequestContext, service=service)
    app.add_middleware(SecurityHeaders, trust_forwarded_proto=edge.trust_forwarded_proto)
    instrument_app(app)
    _document_idempotency_key(app)
    return app


def _document_idempotency_key(app: FastAPI) -> None:
    """Every POST takes an Idempotency-Key (shared.guard claims it for all of them)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for operations in schema.get("paths", {}).values():
                if "post" in operations:
                    operations["post"].setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


@dataclass(frozen=True)
class EdgeSettings:
    """What the HTTP edge lets through (shared.settings.ServiceSettings has the defaults)."""

    max_body_bytes: int = 1024 * 1024
    trust_forwarded_proto: bool = False
    expose_docs: bool = True
    expose_metrics: bool = True
    trust_forwarded_for: bool = False
    rate_limit_storage_uri: str = "memory://"
    rate_limit_auth_failures: str = "30/minute"
    rate_limit_writes: str = "6000/minute"


def _add_operational_routes(
    app: FastAPI, checks: Mapping[str, ReadinessCheck], health: HealthReport, *, metrics: bool
) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        failing = dict(health())
        if failing:
            body = {"status": "unhealthy", "service": app.state.service, "tasks": failing}
            return JSONResponse(body, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
        return JSONResponse({"status": "ok", "service": app.state.service})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check()
                results[name] = "ok"
            except Exception as exc:
                # The reason goes to the log, not to whoever probes (no internals out).
                log.warning("readiness.failed", check=name, error=repr(exc))
                results[name] = "unavailable"
        ready = all(v == "ok" for v in results.values())
        code = status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE
        return JSONResponse({"ready": ready, "checks": results}, status_code=code)

    if metrics:
        app.add_api_route("/metrics", _metrics, include_in_schema=False)


async def _metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _error(code: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=code)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        code = 409 if isinstance(exc, Conflict) else 422
        return _error(code, {"detail": [exc.to_dict()]})

    @app.exception_handler(RulesBroken)
    async def rules_broken(_: Request, exc: RulesBroken) -> JSONResponse:
        return _error(422, {"detail": [error.to_dict() for error in exc.errors]})

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return _error(404, {"detail": str(exc)})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:
            # FastAPI's only 400: a body that cannot be parsed at all (not UTF-8, not
            # JSON). It is a broken rule like any other: a 422 naming the body.
            return _error(422, {"detail": [MALFORMED_BODY]})
        return await http_exception_handler(request, exc)

    @app.exception_handler(EarlyAnswer)
    async def early_answer(_: Request, exc: EarlyAnswer) -> Response:
        return exc.response

    @app.exception_handler(BodyTooLarge)
    async def body_too_large(_: Request, exc: BodyTooLarge) -> JSONResponse:
        return _error(413, {"detail": too_large_detail(exc.limit)})

    @app.exception_handler(OverflowError)
    @app.exception_handler(sqlalchemy.exc.DataError)
    async def unstorable(_: Request, exc: Exception) -> JSONResponse:
        # The backstop behind shared.api_types: a value the database or date arithmetic
        # cannot hold is the caller's input, so a 422 (the cause goes to the log only).
        log.warning("http.unstorable_input", error=type(exc).__name__)
        return _error(422, {"detail": [UNSTORABLE]})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Name the field and the rule, the same shape as DomainError answers.
        detail = [
            {
                "field": ".".join(str(p) for p in err["loc"] if p != "body"),
                "rule": err["msg"],
            }
            for err in exc.errors()
        ]
        return _error(422, {"detail": detail})


def _route_template(scope: Scope) -> str:
    # Label by route template, not raw path, so ids do not explode metric cardinality.
    # Routing leaves the matched route in the scope (routers included in routers too).
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContext:
    """Each request's correlation id, log line and metrics.

    One id follows a journey across services: taken from the caller or made here, put on
    every log line and every event this request emits, and sent back. Plain ASGI rather
    than `@app.middleware("http")`, which costs a task and a body stream per request.
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = request_header(scope, CORRELATION_KEY)
        correlation_id = given.decode("latin-1") if given else str(uuid.uuid4())
        echoed = (CORRELATION_KEY, correlation_id.encode("latin-1"))

        async def answered(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._record(scope, message["status"], started)
                headers = [(k, v) for k, v in message.get("headers", []) if k != CORRELATION_KEY]
                message["headers"] = [*headers, echoed]
            await send(message)

        token = current_correlation_id.set(correlation_id)
        try:
            with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
                await self.app(scope, receive, answered)
        finally:
            current_correlation_id.reset(token)

    def _record(self, scope: Scope, status_code: int, started: float) -> None:
        path = scope.get("root_path", "") + scope["path"]
        if path not in QUIET_PATHS:
            log.info("http.request", method=scope["method"], path=path, status=status_code)
        route = _route_template(scope)
        HTTP_REQUESTS.labels(self.service, scope["method"], route, str(status_code)).inc()
        HTTP_SECONDS.labels(self.service, route).observe(time.perf_counter() - started)
