"""Sessions, CSRF and who is signed in: the console's only state, in a signed cookie.

The cookie (starlette's SessionMiddleware, itsdangerous-signed) holds the person's
access token, their role and name, and the CSRF token every form carries back. It is
HttpOnly and SameSite=Lax, and Secure in production.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, replace
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException, MultiPartParser

from services.console.clients import ApiRefused, Upstream
from services.console.clients.api import Api
from shared.unit_of_work import current_correlation_id

CSRF_FIELD = "csrf_token"
FORM_KEY_FIELD = "idempotency_key"
# As the services accept it (shared/idempotency.py): visible ASCII, 1 to 255 characters.
FORM_KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
# Room for a file form's other fields and multipart framing, above the file's own limit.
FORM_ROOM = 64 * 1024


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    subject: str
    provider_id: str | None
    token: str


class NeedsSignIn(Exception):
    """No one is signed in: the page sends them to the sign-in page."""


class Forbidden(Exception):
    """Signed in, but this page is for another role."""


class CsrfRefused(Exception):
    """A form came back without the token this session issued (or from elsewhere)."""


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's (else CsrfRefused)."""
    return _csrf_checked(request, await request.form())


class UploadTooLarge(Exception):
    """A posted form's file passed the size limit: nothing past it was read."""


async def _capped(stream: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in stream:
        seen += len(chunk)
        if seen > limit:
            raise UploadTooLarge()
        yield chunk


async def checked_upload_form(request: Request, max_file_bytes: int) -> FormData:
    """A posted form with one file (multipart/form-data), read as a stream and refused
    (UploadTooLarge) as soon as it passes the file limit plus room for the other fields,
    so an oversized upload is never read whole; then CSRF-checked like checked_form.
    The caller closes the form (its file may be spooled to a temporary file)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await checked_form(request)
    limit = max_file_bytes + FORM_ROOM
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise UploadTooLarge()
    parser = MultiPartParser(
        request.headers,
        _capped(request.stream(), limit),  # type: ignore[arg-type]
        max_files=1,
        max_fields=50,
    )
    try:
        form = await parser.parse()
    except MultiPartException:
        raise CsrfRefused() from None  # not a form this console rendered
    try:
        return _csrf_checked(request, form)
    except CsrfRefused:
        await form.close()
        raise


def _csrf_checked(request: Request, form: FormData) -> FormData:
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str):
        raise CsrfRefused()
    if not secrets.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused()
    return form


def sign_in(request: Request, person: Person) -> None:
    # A new session on sign-in (fixation): nothing from before carries over.
    request.session.clear()
    request.session["person"] = {
        "name": person.name,
        "role": person.role,
        "subject": person.subject,
        "provider_id": person.provider_id,
        "token": person.token,
    }
    csrf_token(request)


def sign_out(request: Request) -> None:
    request.session.clear()


def signed_in(request: Request) -> Person | None:
    raw: Any = request.session.get("person")
    if not isinstance(raw, dict):
        return None
    return Person(
        name=str(raw["name"]),
        role=str(raw["role"]),
        subject=str(raw["subject"]),
        provider_id=raw.get("provider_id"),
        token=str(raw["token"]),
    )


def person_of(request: Request, *roles: str) -> Person:
    person = signed_in(request)
    if person is None:
        raise NeedsSignIn()
    if roles and person.role not in roles:
        raise Forbidden()
    return person


def api_for(request: Request, person: Person) -> Api:
    upstream: Upstream = request.app.state.upstream
    return Api(upstream, person.token, current_correlation_id.get(None))


def new_form_key() -> str:
    """A one-time key for one rendered form (templates: `{{ form_key_field() }}`)."""
    return secrets.token_urlsafe(24)


def form_api(request: Request, person: Person, form: FormData) -> Api:
    """The person's API for this form's POSTs, sending the form's one-time key as
    Idempotency-Key: the same form submitted twice (a double click, a resend after a
    timeout) reaches the service with one key, so the service acts once and answers the
    second with the first answer. A form without a (well-formed) key still works."""
    api = api_for(request, person)
    key = form.get(FORM_KEY_FIELD)
    if isinstance(key, str) and FORM_KEY_PATTERN.fullmatch(key):
        return replace(api, idempotency_key=key)
    return api


def still_in_progress(errors: list[dict[str, str]]) -> bool:
    """The service is still serving this form's first submission (409 in_progress on
    Idempotency-Key): the second submission shows the outcome page, acting no more."""
    return any(
        e.get("field") == "Idempotency-Key" and e.get("rule") == "in_progress" for e in errors
    )


def refused_form(refused: ApiRefused) -> list[dict[str, str]] | None:
    """What a form POST the service refused shows: a 404 is raised again (the not-found
    page); None while the service is still serving this form's first submission (show
    the outcome, act no more); else the service's errors, for the form to show again."""
    if refused.status == 404:
        raise refused
    return None if still_in_progress(refused.errors) else refused.errors


def refused_status(refused: ApiRefused) -> int:
    """The status of a form shown again after a refusal: 409 for a conflict, else 400."""
    return 409 if refused.status == 409 else 400


def field_errors(
    errors: list[dict[str, str]],
    labels: dict[str, str],
    moved: dict[str, tuple[str, str]] | None = None,
) -> list[dict[str, str]]:
    """The services' `{field, rule}` errors as GOV.UK error-summary items: each names the
    form field it belongs to (`href`) and says what is wrong in words.

    `moved` puts a service's field onto the form's own (service field -> (form field, the
    id its link goes to)), so that the message shows against the field and the summary's
    link reaches it. A date input's link goes to its day box: GOV.UK links to the first
    field of a group, and the date input's own id is a <div> that focus cannot reach."""
    items = []
    for error in errors:
        field = error["field"].split(".")[0] or "body"
        label = labels.get(field, field.replace("_", " "))
        rule = error.get("message") or error["rule"].replace("_", " ")
        href = f"#{field}" if field in labels else "#main-content"
        item = {"text": f"{label}: {rule}", "href": href, "field": field}
        if moved and (target := moved.get(field)) is not None:
            item = {**item, "field": target[0], "href": target[1]}
        items.append(item)
    return items


async def together(*calls: Awaitable[Any]) -> list[Any]:
    """Independent upstream calls of one page at once (the page waits for the slowest,
    not the sum). A failure is raised as if that call had been awaited alone (ApiRefused,
    ServiceUnavailable: the error pages), once every call has finished, so none is left
    running."""
    done = await asyncio.gather(*calls, return_exceptions=True)
    for result in done:
        if isinstance(result, BaseException):
            raise result
    return list(done)
