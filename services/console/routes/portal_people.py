"""A provider's people in the portal (issue 15): a supplier's person registers its
organisation (claims it by URN on the register, or registers a new provider) and waits
for the council's verification; an organisation's administrator invites its people; an
invited person accepts.

Binding. A supplier token is bound to no provider. Once the register holds the person's
membership (GET /people/me), its tokens must be provider tokens naming that provider: in
production the council's supplier identity provider puts the provider id in the claim
DPS_OIDC_PROVIDER_CLAIM, mapped by its administrator from the register's memberships, and
the person signs in again; in development the console mints that token itself
(:func:`bind_from_membership`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from services.console.clients import ApiRefused, people
from services.console.render import page
from services.console.routes.portal import provider_of
from services.console.settings import ConsoleSettings
from services.console.web import (
    Person,
    api_for,
    checked_form,
    field_errors,
    form_api,
    person_of,
    sign_in,
    sign_out,
)
from shared.contracts.common import Attendance, NeedType, Role
from shared.contracts.providers_v1 import ProviderType
from shared.tokens import issue_token

router = APIRouter()
SUPPLIER = Role.SUPPLIER.value
PROVIDER = Role.PROVIDER.value
LABELS = {
    "person_name": "Your name",
    "person_email": "Your email address",
    "urn": "URN",
    "kind": "Registration",
    "person": "Your account",
    "name": "School name",
    "proprietor": "Proprietor",
    "provider_type": "Type of school",
    "address": "Address",
    "postcode": "Postcode",
    "age_low": "Youngest age",
    "age_high": "Oldest age",
    "attendance": "Places offered",
    "capacity": "Places in total",
    "need_types": "Needs you meet",
    "provider": "School details",
}
INVITE_LABELS = {"name": "Name", "email": "Email address", "role": "Role"}
TYPE_NAMES = {
    ProviderType.INDEPENDENT_SPECIAL_SCHOOL.value: "Independent special school",
    ProviderType.NON_MAINTAINED_SPECIAL_SCHOOL.value: "Non-maintained special school",
    ProviderType.SECTION_41_APPROVED.value: "Other independent school (section 41 approved)",
}
ATTENDANCE_NAMES = {
    Attendance.DAY.value: "Day",
    Attendance.RESIDENTIAL_38.value: "Residential, 38 weeks",
    Attendance.RESIDENTIAL_52.value: "Residential, 52 weeks",
}
NEW_FIELDS = ("name", "proprietor", "address", "postcode")
NUMBER_FIELDS = ("age_low", "age_high", "capacity")


def _settings(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.settings
    return settings


def _problem(field: str, text: str) -> dict[str, str]:
    return {"text": text, "href": f"#{field}", "field": field}


async def bind_from_membership(request: Request, person: Person) -> bool:
    """Development only: the person's membership on the register (GET /people/me) turns
    its session into a provider's, with a token the console mints bound to that
    provider. True when bound. Production never mints: the identity provider does."""
    settings = _settings(request)
    if settings.production:
        return False
    found = await people.me(api_for(request, person))
    memberships = found["memberships"]
    if not memberships:
        return False
    provider_id = str(memberships[0]["provider_id"])
    token = issue_token(
        settings.signing_secret(), Role.PROVIDER, subject=person.subject, provider_id=provider_id
    )
    sign_in(request, Person(person.name, PROVIDER, person.subject, provider_id, token))
    return True


# --- registration -----------------------------------------------------------------------


def _blank_form(person: Person) -> dict[str, Any]:
    return {"person_name": person.name, "person_email": "", "urn": "", "attendance": [],
            "need_types": []}  # fmt: skip


@router.get("/portal/register")
async def register_page(request: Request) -> Response:
    person = person_of(request, SUPPLIER)
    api = api_for(request, person)
    waiting = [r for r in await people.mine(api) if r["status"] == "pending"]
    # Verified (or invited) but still signed in as a supplier (production: until the
    # identity provider binds the person): the status page says what to do.
    if waiting or (await people.me(api))["memberships"]:
        return RedirectResponse("/portal/register/status", status_code=303)
    return page(request, "portal/register.html", form=_blank_form(person), errors=[])


@router.post("/portal/register/claim")
async def register_claim(request: Request) -> Response:
    person = person_of(request, SUPPLIER)
    form = await checked_form(request)
    given = {k: str(form.get(k, "")).strip() for k in ("person_name", "person_email", "urn")}
    urn = given["urn"]
    if not (urn.isdigit() and len(urn) == 6):
        problem = _problem("urn", "Enter your school's URN, 6 digits, for example 118945")
        return page(request, "portal/register.html", 400, form=given, errors=[problem])
    body = {
        "kind": "claim",
        "person_name": given["person_name"],
        "person_email": given["person_email"],
        "urn": int(urn),
    }
    try:
        await people.register(form_api(request, person, form), body)
    except ApiRefused as refused:
        errors = field_errors(refused.errors, LABELS)
        return page(request, "portal/register.html", 400, form=given, errors=errors)
    return RedirectResponse("/portal/register/status?sent=1", status_code=303)


def _new_page(
    request: Request, form: dict[str, Any], errors: list[dict[str, str]], status_code: int = 200
) -> Response:
    return page(
        request,
        "portal/register_new.html",
        status_code,
        form=form,
        errors=errors,
        types=TYPE_NAMES,
        attendances=ATTENDANCE_NAMES,
        needs=[n.value for n in NeedType],
    )


@router.get("/portal/register/new")
async def register_new_page(request: Request) -> Response:
    person = person_of(request, SUPPLIER)
    return _new_page(request, _blank_form(person), [])


def _new_body(form: FormData) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, str]]]:
    """(what was typed, the registration body, problems the console sees itself)."""
    typed: dict[str, Any] = {
        k: str(form.get(k, "")).strip()
        for k in ("person_name", "person_email", "urn", "provider_type", *NEW_FIELDS)
    }
    typed |= {k: str(form.get(k, "")).strip() for k in NUMBER_FIELDS}
    typed["attendance"] = [str(v) for v in form.getlist("attendance") if v in ATTENDANCE_NAMES]
    typed["need_types"] = [str(v) for v in form.getlist("need_types") if v in set(NeedType)]
    problems = []
    if typed["urn"] and not (typed["urn"].isdigit() and len(typed["urn"]) == 6):
        problems.append(_problem("urn", "URN must be 6 digits, or leave it blank"))
    for field in NUMBER_FIELDS:
        if not typed[field].isdigit():
            problems.append(_problem(field, f"{LABELS[field]} must be a whole number"))
    if typed["provider_type"] not in TYPE_NAMES:
        problems.append(_problem("provider_type", "Select the type of school"))
    provider: dict[str, Any] = {k: typed[k] for k in NEW_FIELDS}
    provider |= {
        "urn": int(typed["urn"]) if typed["urn"].isdigit() else None,
        "provider_type": typed["provider_type"],
        "attendance": typed["attendance"],
        "need_types": typed["need_types"],
    }
    provider |= {k: int(typed[k]) if typed[k].isdigit() else 0 for k in NUMBER_FIELDS}
    body = {
        "kind": "new",
        "person_name": typed["person_name"],
        "person_email": typed["person_email"],
        "provider": provider,
    }
    return typed, body, problems


@router.post("/portal/register/new")
async def register_new(request: Request) -> Response:
    person = person_of(request, SUPPLIER)
    form = await checked_form(request)
    typed, body, problems = _new_body(form)
    if problems:
        return _new_page(request, typed, problems, 400)
    try:
        await people.register(form_api(request, person, form), body)
    except ApiRefused as refused:
        return _new_page(request, typed, field_errors(refused.errors, LABELS), 400)
    return RedirectResponse("/portal/register/status?sent=1", status_code=303)


@router.get("/portal/register/status")
async def register_status(request: Request, sent: int = 0) -> Response:
    person = person_of(request, SUPPLIER, PROVIDER)
    api = api_for(request, person)
    registrations = await people.mine(api)
    memberships = (await people.me(api))["memberships"]
    return page(
        request,
        "portal/register_status.html",
        registrations=registrations,
        memberships=memberships,
        sent=bool(sent),
        awaiting=any(r["status"] == "pending" for r in registrations),
    )


@router.post("/portal/register/continue")
async def register_continue(request: Request) -> Response:
    """Development: a verified (or invited) person continues as its provider."""
    person = person_of(request, SUPPLIER)
    await checked_form(request)
    if await bind_from_membership(request, person):
        return RedirectResponse("/portal", status_code=303)
    return RedirectResponse("/portal/register/status", status_code=303)


# --- invitations ------------------------------------------------------------------------


@router.get("/portal/join")
async def join_page(request: Request) -> Response:
    person_of(request, SUPPLIER)
    return page(request, "portal/join.html", form={"code": ""}, errors=[])


@router.post("/portal/join")
async def join(request: Request) -> Response:
    person = person_of(request, SUPPLIER)
    form = await checked_form(request)
    code = str(form.get("code", "")).strip()
    if not code:
        problem = _problem("code", "Enter the invitation code your administrator gave you")
        return page(request, "portal/join.html", 400, form={"code": ""}, errors=[problem])
    try:
        await people.accept(form_api(request, person, form), code)
    except ApiRefused as refused:
        text = (
            "No invitation has this code: check it with your administrator"
            if refused.status == 404
            else "; ".join(e.get("rule", "") for e in refused.errors)
            or "This invitation cannot be accepted"
        )
        return page(
            request, "portal/join.html", 400, form={"code": code}, errors=[_problem("code", text)]
        )
    if await bind_from_membership(request, person):
        return RedirectResponse("/portal?joined=1", status_code=303)
    return RedirectResponse("/portal/register/status", status_code=303)


async def _people_page(
    request: Request,
    form: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
    done: str = "",
) -> Response:
    person, provider_id = provider_of(request)
    try:
        found = await people.people(api_for(request, person), provider_id)
    except ApiRefused as refused:
        if refused.status != 403:
            raise
        return page(request, "portal/people.html", 403, administrator=False)
    return page(
        request,
        "portal/people.html",
        status_code,
        administrator=True,
        people=[p for p in found["people"] if p["status"] == "active"],
        invitations=found["invitations"],
        form=form or {"name": "", "email": "", "role": "member"},
        errors=errors or [],
        me=person.subject,
        done=DONE.get(done, ""),
    )


@router.get("/portal/people")
async def people_page(request: Request, done: str = "") -> Response:
    return await _people_page(request, done=done)


@router.post("/portal/people/invitations")
async def invite(request: Request) -> Response:
    person, provider_id = provider_of(request)
    form = await checked_form(request)
    typed = {k: str(form.get(k, "")).strip() for k in ("name", "email", "role")}
    if typed["role"] not in ("member", "administrator"):
        return await _people_page(
            request, typed, [_problem("role", "Select what the person may do")], 400
        )
    try:
        made = await people.invite(form_api(request, person, form), provider_id, typed)
    except ApiRefused as refused:
        if refused.status == 403:
            return page(request, "portal/people.html", 403, administrator=False)
        return await _people_page(request, typed, field_errors(refused.errors, INVITE_LABELS), 400)
    return page(request, "portal/invited.html", invitation=made)


# --- removing people, handing over, leaving ----------------------------------------------
# Each change is asked on a page of its own and confirmed by a button (no JavaScript).

CHANGES = {
    "remove": "Remove {name} from your organisation?",
    "administrator": "Make {name} an administrator?",
    "member": "Make {name} a member?",
}
DONE = {
    "remove": "The person was removed. They can no longer act for your organisation.",
    "administrator": "The person is now an administrator.",
    "member": "The person is now a member.",
}


def _refusal(refused: ApiRefused) -> list[dict[str, str]]:
    """The service's 409 (the one-administrator rule) or 404 (gone) in words."""
    if refused.status == 404:
        return [_problem("main-content", "That person is no longer in your organisation")]
    rules = "; ".join(e.get("rule", "") for e in refused.errors) or "This change was refused"
    return [{"text": rules[:1].upper() + rules[1:], "href": "#main-content", "field": "person"}]


@router.get("/portal/people/{subject}/{change}")
async def change_page(request: Request, subject: str, change: str) -> Response:
    person, provider_id = provider_of(request)
    action = change
    if action not in CHANGES:
        return page(request, "errors/not_found.html", 404)
    try:
        found = await people.people(api_for(request, person), provider_id)
    except ApiRefused as refused:
        if refused.status != 403:
            raise
        return page(request, "portal/people.html", 403, administrator=False)
    chosen = [p for p in found["people"] if p["subject"] == subject and p["status"] == "active"]
    if not chosen:
        return page(request, "errors/not_found.html", 404)
    return page(
        request,
        "portal/people_change.html",
        who=chosen[0],
        action=action,
        question=CHANGES[action].format(name=chosen[0]["name"]),
        myself=subject == person.subject,
        errors=[],
    )


@router.post("/portal/people/change")
async def change(request: Request) -> Response:
    person, provider_id = provider_of(request)
    form = await checked_form(request)
    subject, action = str(form.get("subject", "")), str(form.get("action", ""))
    if action not in CHANGES or not subject:
        return page(request, "errors/not_found.html", 404)
    api = form_api(request, person, form)
    try:
        if action == "remove":
            await people.remove(api, provider_id, subject)
        else:
            await people.set_role(api, provider_id, subject, action)
    except ApiRefused as refused:
        if refused.status == 403:
            return page(request, "portal/people.html", 403, administrator=False)
        return await _people_page(request, errors=_refusal(refused), status_code=409)
    if subject == person.subject and action == "remove":
        return _left(request)
    if subject == person.subject:  # stepped down: no longer manages the people
        return RedirectResponse("/portal", status_code=303)
    return RedirectResponse(f"/portal/people?done={action}", status_code=303)


@router.get("/portal/people/leave")
async def leave_page(request: Request) -> Response:
    provider_of(request)
    return page(request, "portal/leave.html", errors=[])


@router.post("/portal/people/leave")
async def leave(request: Request) -> Response:
    person, provider_id = provider_of(request)
    form = await checked_form(request)
    try:
        await people.remove(form_api(request, person, form), provider_id, person.subject)
    except ApiRefused as refused:
        return page(request, "portal/leave.html", 409, errors=_refusal(refused))
    return _left(request)


def _left(request: Request) -> Response:
    """Gone from the organisation: its provider session ends. Signing in again, the
    person is a plain supplier (GET /people/me lists no provider)."""
    sign_out(request)
    return RedirectResponse("/sign-in", status_code=303)
