"""Signing in and out.

Development (DPS_ENV is not production): a page lists the demo's people by role and
signing in mints them a token with the installation's key, as `dps token` does.
Production: the council's OpenID Connect provider (authorisation code with PKCE) is the
seam left here (settings.oidc_issuer); until it is built, production has no sign-in and
says so rather than falling back to anything weaker.
"""

from __future__ import annotations

import hashlib
import re

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from services.console import oidc
from services.console.clients import ServiceUnavailable, Upstream
from services.console.clients.api import Api
from services.console.clients.registry import providers
from services.console.render import page
from services.console.routes import oidc_signin, portal_people
from services.console.settings import ConsoleSettings
from services.console.web import Person, checked_form, sign_in, sign_out
from shared.contracts.common import Role
from shared.tokens import issue_token

router = APIRouter()
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

STAFF = [
    ("commissioner", "demo-commissioner", "Demo commissioner"),
    ("monitoring_officer", "demo-officer", "Demo monitoring officer"),
    ("admin", "demo-admin", "Demo platform operator"),
    # A second commissioner: who scored a call-off's bids may not approve its award.
    ("commissioner", "demo-approver", "Demo approving commissioner"),
]


def _values() -> dict[str, tuple[str, str, str]]:
    """form value -> (role, subject, name): the first person of a role is chosen by the
    role alone, any other by role:subject."""
    values: dict[str, tuple[str, str, str]] = {}
    for role, subject, name in STAFF:
        values[f"{role}:{subject}" if role in values else role] = (role, subject, name)
    return values


def _choices() -> list[tuple[str, str, str]]:
    """(form value, role, name) for the sign-in page's radios."""
    return [(value, role, name) for value, (role, _, name) in _values().items()]


def _settings(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.settings
    return settings


@router.get("/sign-in")
async def sign_in_page(request: Request) -> Response:
    settings = _settings(request)
    if settings.production:
        if oidc_signin.configured(settings):
            # The council's provider signs people in (authorisation code with PKCE).
            try:
                return RedirectResponse(await oidc.start(request, settings), status_code=303)
            except oidc.SignInFailed as exc:
                errors = [{"text": f"You cannot sign in now: {exc}", "href": "#main-content"}]
                return page(request, "signin_production.html", 503, oidc=True, errors=errors)
        return page(request, "signin_production.html", oidc=False)
    registered: list[dict[str, str]] = []
    register_down = False
    try:
        # Listing the register needs a token: the console's own, short-lived, dev only.
        token = issue_token(
            settings.signing_secret(), Role.COMMISSIONER, subject="console-dev-sign-in"
        )
        upstream: Upstream = request.app.state.upstream
        found = await providers(Api(upstream, token), limit=50)
        registered = [
            {"provider_id": hit["provider"]["provider_id"], "name": hit["provider"]["name"]}
            for hit in found["items"]
        ]
    except ServiceUnavailable:
        register_down = True
    return page(
        request,
        "signin_dev.html",
        staff=_choices(),
        providers=registered,
        register_down=register_down,
    )


@router.post("/sign-in/dev")
async def sign_in_dev(request: Request) -> Response:
    settings = _settings(request)
    if settings.production:
        return page(request, "errors/not_found.html", 404)
    form = await checked_form(request)
    person = str(form.get("person", ""))
    role, _, who = person.partition(":")
    staff = _values()
    if person in staff:
        _, subject, name = staff[person]
        token = issue_token(settings.signing_secret(), role, subject=subject)
        sign_in(request, Person(name, role, subject, None, token))
    elif role == "provider" and who:
        token = issue_token(
            settings.signing_secret(),
            Role.PROVIDER,
            subject=f"demo-provider-{who}",
            provider_id=who,
        )
        sign_in(request, Person(f"Provider {who[:8]}", "provider", who, who, token))
    else:
        return page(
            request,
            "signin_dev.html",
            400,
            staff=_choices(),
            providers=[],
            register_down=False,
            errors=[{"text": "Select who to sign in as", "href": "#person"}],
        )
    return RedirectResponse("/", status_code=303)


def supplier_subject(email: str) -> str:
    """A development supplier person's subject, derived from its e-mail so that signing
    in again with the same address is the same person (its registration, membership)."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:20]
    return f"dev-supplier-{digest}"


@router.post("/sign-in/dev/supplier")
async def sign_in_dev_supplier(request: Request) -> Response:
    """Development: "a new supplier person" (role supplier, bound to no provider). A person
    whose registration the council verified, or who accepted an invitation, is signed in
    as its provider straight away (the binding read from GET /people/me)."""
    settings = _settings(request)
    if settings.production:
        return page(request, "errors/not_found.html", 404)
    form = await checked_form(request)
    name = str(form.get("supplier_name", "")).strip()[:200]
    email = str(form.get("supplier_email", "")).strip()[:200]
    errors = []
    if not name:
        errors.append({"text": "Enter your name", "href": "#supplier_name"})
    if not EMAIL.fullmatch(email):
        errors.append({"text": "Enter an email address, like name@school.org.uk",
                       "href": "#supplier_email"})  # fmt: skip
    if errors:
        return page(
            request,
            "signin_dev.html",
            400,
            staff=_choices(),
            providers=[],
            register_down=False,
            errors=errors,
            supplier={"name": name, "email": email},
        )
    subject = supplier_subject(email)
    token = issue_token(settings.signing_secret(), Role.SUPPLIER, subject=subject)
    person = Person(name, Role.SUPPLIER.value, subject, None, token)
    sign_in(request, person)
    try:
        await portal_people.bind_from_membership(request, person)
    except ServiceUnavailable:
        pass  # the register is down: the person stays a supplier and its pages say so
    return RedirectResponse("/", status_code=303)


@router.post("/sign-out")
async def sign_out_now(request: Request) -> Response:
    await checked_form(request)
    sign_out(request)
    return RedirectResponse("/sign-in", status_code=303)
