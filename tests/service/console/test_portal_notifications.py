"""The portal's notification settings against the real monitoring service in-process:
the kinds come from monitoring, a choice is saved for the signed-in person only, bad
input gets the GOV.UK error summary, officers cannot reach the page, and a monitoring
that is down gives the clear unavailable page."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from services.monitoring.delivery import notifications
from services.monitoring.models import NotificationSubscription
from shared.runtime import ServiceRuntime
from tests.service.console.test_calloffs import form_of
from tests.service.console.test_console import (  # noqa: F401  (the fixture)
    NOWHERE,
    console,
    console_settings,
    monitoring,
    sign_in,
)

PAGE = "/portal/notifications"


async def subscriptions(runtime: ServiceRuntime) -> list[NotificationSubscription]:
    async with runtime.db.session() as session:
        return list((await session.exec(select(NotificationSubscription))).all())


async def test_a_provider_person_chooses_their_emails(
    monitoring: ServiceRuntime,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with console(console_settings(tmp_path), monitoring) as client:
        await sign_in(client, "provider:p-1")
        shown = await client.get(PAGE)
        assert shown.status_code == 200, shown.text
        for kind in notifications.KINDS:
            assert f'value="{kind.code}"' in shown.text and kind.title in shown.text
        assert 'href="/portal/notifications"' in shown.text  # in the portal's navigation
        hidden = form_of(shown.text, PAGE)
        assert {"csrf_token", "idempotency_key"} <= set(hidden)
        saved = await client.post(
            PAGE,
            data={**hidden, "email": "ann@oakfield.example", "kinds": ["invitation", "award"]},
        )
        assert saved.status_code == 303 and saved.headers["location"] == PAGE + "?saved=1"
        again = await client.get(saved.headers["location"])
        assert "Your notification settings were saved." in again.text
        assert 'value="ann@oakfield.example"' in again.text
        assert again.text.count("checked") == 2
    [row] = await subscriptions(monitoring)
    assert (row.provider_id, row.email, row.kinds) == (
        "p-1",
        "ann@oakfield.example",
        ["invitation", "award"],
    )


async def test_bad_input_shows_the_error_summary_and_keeps_what_was_typed(
    monitoring: ServiceRuntime,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with console(console_settings(tmp_path), monitoring) as client:
        await sign_in(client, "provider:p-1")
        hidden = form_of((await client.get(PAGE)).text, PAGE)
        missing = await client.post(PAGE, data={**hidden, "email": "", "kinds": ["award"]})
        assert missing.status_code == 400
        assert "There is a problem" in missing.text and 'href="#email"' in missing.text
        assert "Enter an email address to receive e-mails" in missing.text
        # Passes the page's own check, refused by monitoring's rule: mapped to the field.
        hidden = form_of((await client.get(PAGE)).text, PAGE)
        refused = await client.post(PAGE, data={**hidden, "email": "ann@nodot", "kinds": ["award"]})
        assert refused.status_code == 400 and 'href="#email"' in refused.text
        assert "Email address: must be an e-mail address" in refused.text
        assert 'value="ann@nodot"' in refused.text
        # A kind monitoring does not offer (a forged form).
        hidden = form_of((await client.get(PAGE)).text, PAGE)
        forged = await client.post(PAGE, data={**hidden, "email": "a@b.example", "kinds": ["x"]})
        assert forged.status_code == 400 and 'href="#kinds"' in forged.text
        # Without the CSRF token nothing is saved.
        stolen = await client.post(PAGE, data={"email": "a@b.example", "kinds": ["award"]})
        assert stolen.status_code in (400, 403)
    assert await subscriptions(monitoring) == []


async def test_officers_cannot_reach_it_and_a_down_monitoring_is_said_clearly(
    monitoring: ServiceRuntime,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with console(console_settings(tmp_path), monitoring) as client:
        await sign_in(client, "commissioner")
        refused = await client.get(PAGE)
        assert refused.status_code == 403 and "You cannot see this page" in refused.text
    async with console(console_settings(tmp_path, monitoring_url=NOWHERE)) as client:
        await sign_in(client, "provider:p-1")
        down = await client.get(PAGE)
        assert down.status_code == 503, down.text
        assert "monitoring" in down.text.lower() and "Traceback" not in down.text
