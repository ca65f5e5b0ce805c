"""The council's OpenID Connect sign-in's return leg (production): /sign-in/callback."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from services.console import oidc
from services.console.render import page
from services.console.settings import ConsoleSettings
from services.console.web import sign_in
from shared.logging import get_logger

router = APIRouter()
log = get_logger(__name__)


def configured(settings: ConsoleSettings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


@router.get("/sign-in/callback", name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    settings: ConsoleSettings = request.app.state.settings
    if not configured(settings):
        return page(request, "errors/not_found.html", 404)
    try:
        person = await oidc.finish(request, settings)
    except oidc.SignInFailed as exc:
        log.warning("console.sign_in_failed", reason=str(exc))
        errors = [{"text": f"You could not be signed in: {exc}", "href": "#main-content"}]
        return page(request, "signin_production.html", 400, oidc=True, errors=errors)
    sign_in(request, person)
    return RedirectResponse("/", status_code=303)
