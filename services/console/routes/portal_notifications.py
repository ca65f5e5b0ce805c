"""The provider portal's notification settings (issue 15): a provider's person chooses
which e-mails they receive and where. Monitoring keeps the choice (its
/notification-preferences/mine, the person's own only) and sends the e-mails; the kinds
on offer come from monitoring as data, so the page never lists a kind it cannot send."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from services.console.clients import ApiRefused, monitoring
from services.console.render import page
from services.console.routes.portal import provider_of
from services.console.web import api_for, checked_form, field_errors, form_api

router = APIRouter()
LABELS = {"email": "Email address", "kinds": "E-mails"}
EMAIL_MAX = 254


async def _settings_page(
    request: Request,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    person, _ = provider_of(request)
    current = await monitoring.my_notifications(api_for(request, person))
    chosen = form or {"email": current["email"] or "", "kinds": current["kinds"]}
    return page(
        request,
        "portal/notifications.html",
        status_code,
        available=current["available"],
        form=chosen,
        errors=errors or [],
        saved=request.query_params.get("saved") == "1",
    )


@router.get("/portal/notifications")
async def notifications_page(request: Request) -> Response:
    return await _settings_page(request)


def _problems(email: str, kinds: list[str]) -> list[dict[str, str]]:
    """What the page can tell before asking monitoring (which checks again)."""
    if kinds and not email:
        text = "Enter an email address to receive e-mails, or untick every box"
        return [{"text": text, "href": "#email", "field": "email"}]
    if len(email) > EMAIL_MAX or (email and "@" not in email):
        text = "Enter an email address in the correct format, like name@example.org"
        return [{"text": text, "href": "#email", "field": "email"}]
    return []


@router.post("/portal/notifications")
async def save_notifications(request: Request) -> Response:
    person, _ = provider_of(request)
    form = await checked_form(request)
    email = str(form.get("email", "")).strip()
    kinds = [str(kind) for kind in form.getlist("kinds")]
    given = {"email": email, "kinds": kinds}
    problems = _problems(email, kinds)
    if problems:
        return await _settings_page(request, 400, problems, given)
    try:
        await monitoring.save_my_notifications(form_api(request, person, form), email, kinds)
    except ApiRefused as refused:
        if refused.status not in (400, 422):
            raise
        return await _settings_page(request, 400, field_errors(refused.errors, LABELS), given)
    return RedirectResponse("/portal/notifications?saved=1", status_code=303)
