"""Jinja2 with the GOV.UK Frontend macros (govuk-frontend-jinja) and our templates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    select_autoescape,
)
from markupsafe import Markup, escape

from services.console.clients import ServiceUnavailable
from services.console.govuk_table import govuk_table
from services.console.regimes import regime_choices, regime_source, regime_tag, regime_words
from services.console.updating import WAITING
from services.console.web import FORM_KEY_FIELD, csrf_token, new_form_key, signed_in
from shared import clock

HERE = Path(__file__).parent
PACKAGE_ORIGINAL = "govuk_frontend_jinja_original"
ROLE_NAMES = {
    "commissioner": "Commissioner",
    "monitoring_officer": "Monitoring officer",
    "admin": "Administrator",
    "provider": "Provider",
    "supplier": "Supplier, not yet verified",
}


def _nice_date(value: Any) -> str:
    """15 January 2026, the GOV.UK style for dates."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        return f"{value.day} {value:%B %Y} at {value:%H:%M}"
    if isinstance(value, date):
        return f"{value.day} {value:%B %Y}"
    return str(value)


nice_date = _nice_date  # for cells a route builds itself


def _words(value: Any) -> str:
    return str(value or "").replace("_", " ")


def _link(href: str, text: object, hidden: str = "") -> Markup:
    """A link for a table cell's `html` (every part escaped here, once)."""
    # f-strings of escaped parts, not Markup.format (string.Formatter in Python): a long
    # table calls this once per row.
    extra = f'<span class="govuk-visually-hidden"> {escape(hidden)}</span>' if hidden else ""
    return Markup(f'<a class="govuk-link" href="{escape(href)}">{escape(text)}{extra}</a>')  # nosec B704


SEVERITY_TAGS = {
    "critical": "govuk-tag--red",
    "warning": "govuk-tag--yellow",
    "info": "govuk-tag--blue",
}


def _severity_tag(severity: str) -> Markup:
    colour = SEVERITY_TAGS.get(severity, "govuk-tag--grey")
    # colour is one of SEVERITY_TAGS' constants; the text is escaped.
    return Markup(f'<strong class="govuk-tag {colour}">{escape(severity.capitalize())}</strong>')  # nosec B704


def _form_key_field() -> Markup:
    """The hidden one-time key of one form (a new one each time the form is rendered)."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        FORM_KEY_FIELD, new_form_key()
    )


def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(HERE / "templates"),
                PrefixLoader(
                    {
                        "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                        # The package's own templates where templates/ shadows one
                        # (the table: services/console/govuk_table.py).
                        PACKAGE_ORIGINAL: PackageLoader("govuk_frontend_jinja"),
                    }
                ),
            ]
        ),
        autoescape=select_autoescape(["html"]),
        # Templates ship with the code and change only with a restart: no stat() of every
        # template (and each one it imports) on every render.
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["nice_date"] = _nice_date
    env.filters["words"] = _words
    env.filters["regime_words"] = regime_words
    env.filters["regime_source"] = regime_source
    env.globals["regime_tag"] = regime_tag
    env.globals["regime_choices"] = regime_choices
    env.globals["role_names"] = ROLE_NAMES
    env.globals["link"] = _link
    env.globals["severity_tag"] = _severity_tag
    env.globals["form_key_field"] = _form_key_field
    env.globals["waiting"] = WAITING
    env.globals["govuk_table"] = govuk_table
    env.globals["govuk_table_macro"] = lambda params: env.get_template(
        f"{PACKAGE_ORIGINAL}/components/table/macro.html"
    ).module.govukTable(params)  # type: ignore[attr-defined]
    env.tests["unavailable"] = lambda value: isinstance(value, ServiceUnavailable)
    return env


ENV = environment()


def training_banner(settings: Any) -> dict[str, float] | None:
    """`dps up --training`: how far the clock is ahead, for the banner on every page."""
    if not getattr(settings, "training", False):
        return None
    return {"days_ahead": clock.offset() / timedelta(days=1)}


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    # An unhandled error's page is rendered outside the session middleware.
    has_session = "session" in request.scope
    html = ENV.get_template(template).render(
        request=request,
        person=signed_in(request) if has_session else None,
        csrf_token=csrf_token(request) if has_session else "",
        cspNonce=getattr(request.state, "csp_nonce", None),
        production=request.app.state.settings.production,
        training=training_banner(request.app.state.settings),
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def pagination(link: str, current: int, pages: int) -> dict[str, Any] | None:
    """GOV.UK pagination for page `current` of `pages`; `link` + a number is a page's URL."""
    if pages <= 1:
        return None
    return {
        "previous": {"href": f"{link}{current - 1}"} if current > 1 else None,
        "next": {"href": f"{link}{current + 1}"} if current < pages else None,
        "items": [
            {"number": n, "href": f"{link}{n}", "current": n == current}
            for n in range(1, pages + 1)
        ],
    }
