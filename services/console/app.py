"""The console's FastAPI application: shared edge (health, readiness, metrics, JSON logs,
security headers), a signed session cookie, static GOV.UK Frontend assets and the pages.
"""

from __future__ import annotations

import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.console.clients import ApiRefused, NotSignedIn, ServiceUnavailable, Upstream
from services.console.render import page
from services.console.routes import (
    alerts,
    applications,
    blocks,
    calloffs,
    direct_awards,
    home,
    info,
    market,
    needs,
    notices,
    oidc_signin,
    placements,
    portal,
    portal_apply,
    portal_kpi,
    portal_notifications,
    portal_offers,
    portal_people,
    portal_record,
    provider_watch,
    providers,
    registrations,
    returns,
    schemes,
    signin,
    spend,
)
from services.console.routes import training as training_routes
from services.console.settings import ConsoleSettings
from services.console.web import CsrfRefused, Forbidden, NeedsSignIn, sign_out
from shared import clock
from shared.http import EdgeSettings, create_app
from shared.logging import get_logger

log = get_logger(__name__)
STATIC = Path(__file__).parent / "static"


def build_app(
    settings: ConsoleSettings, transports: dict[str, httpx.AsyncBaseTransport] | None = None
) -> FastAPI:
    upstream = Upstream(settings.service_urls(), settings.upstream_timeout_s, transports)
    clock.configure(  # the training clock's offset, for the banner (shared.clock)
        training=settings.training, production=settings.production, data_dir=settings.data_dir
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        yield
        await upstream.close()

    async def services_answer() -> None:
        # Ready when the console itself can serve; a service being down is shown per
        # page ("service unavailable"), so it does not take the console out of rotation.
        return None

    app = create_app(
        "console",
        title="send-dps console",
        # The console authenticates people by its session cookie, not by bearer tokens;
        # production has no development key at all (nothing is generated into a pod).
        jwt_secret=None if settings.production else settings.signing_secret(),
        checks={"console": services_answer},
        edge=EdgeSettings(
            trust_forwarded_proto=settings.trust_forwarded_proto,
            expose_docs=False,
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.upstream = upstream
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.cookie_secret(),
        session_cookie="dps_console",
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.production,
    )
    _add_content_security_policy(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (
        signin,
        oidc_signin,
        home,
        providers,
        applications,
        calloffs,
        schemes,
        needs,
        alerts,
        info,
        portal,
        portal_apply,
        portal_notifications,
        portal_people,
        portal_record,
        portal_offers,
        portal_kpi,
        provider_watch,
        registrations,
        placements,
        blocks,
        spend,
        market,
        notices,
        returns,
        direct_awards,
    ):
        app.include_router(module.router)
    app.include_router(training_routes.router)  # 404 unless `dps up --training`
    training_routes.add_not_training_page(app)
    _add_error_pages(app)
    return app


def _add_content_security_policy(app: FastAPI) -> None:
    app.add_middleware(ContentSecurityPolicy)


class ContentSecurityPolicy:
    """Only our own files, plus GOV.UK Frontend's one inline line (by nonce); pages never
    cached (they show one person's data), static files for an hour. Plain ASGI rather
    than `@app.middleware("http")`: no extra task and body stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce  # request.state.csp_nonce
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = (
                    f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; img-src 'self'; "
                    "object-src 'none'; base-uri 'none'; form-action 'self'; "
                    "frame-ancestors 'none'"
                )
                headers["Cache-Control"] = "public, max-age=3600" if static else "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)


def _add_error_pages(app: FastAPI) -> None:
    @app.exception_handler(NeedsSignIn)
    async def needs_sign_in(request: Request, _: Exception) -> Response:
        return RedirectResponse("/sign-in", status_code=303)

    @app.exception_handler(NotSignedIn)
    async def token_refused(request: Request, _: Exception) -> Response:
        sign_out(request)
        return RedirectResponse("/sign-in", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, _: Exception) -> Response:
        return page(request, "errors/forbidden.html", 403)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _: Exception) -> Response:
        log.warning("console.csrf_refused", path=request.url.path)
        return page(request, "errors/csrf.html", 403)

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(request: Request, exc: ServiceUnavailable) -> Response:
        log.warning("console.service_unavailable", service=exc.service, path=request.url.path)
        return page(request, "errors/unavailable.html", 503, service=exc.label)

    @app.exception_handler(ApiRefused)
    async def refused(request: Request, exc: ApiRefused) -> Response:
        if exc.status == 404:
            return page(request, "errors/not_found.html", 404)
        if exc.status == 403:
            return page(request, "errors/forbidden.html", 403)
        return page(request, "errors/refused.html", 400, problems=exc.errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return page(request, "errors/not_found.html", 404)
        return page(request, "errors/refused.html", exc.status_code, problems=[])

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"][1:]), "rule": e["msg"], "message": ""}
            for e in exc.errors()
        ]
        return page(request, "errors/refused.html", 400, problems=errors)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        # The cause goes to the log, never to the page.
        log.error("console.unhandled", path=request.url.path, error=repr(exc))
        return page(request, "errors/problem.html", 500)
