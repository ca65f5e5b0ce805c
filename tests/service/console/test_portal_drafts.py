"""Issue 15 in the console: a provider saves its application and comes back to it (the
home lists the draft, the form reopens filled in, submitting removes the draft), and a
commissioner's clarification request is answered by the provider before its reply-by
date (a late answer is refused, 409), the answer shown on the application page."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from shared import clock
from shared.working_days import end_of_day, london_date
from tests.service.console.test_applications import console_over
from tests.service.console.test_portal import signed_in
from tests.service.procurement.conftest import Driver, proc  # noqa: F401  (the fixture)


async def test_a_provider_saves_comes_back_and_submits(proc: Driver, tmp_path: Path) -> None:  # noqa: F811
    scheme_id = await proc.scheme()
    await proc.register("p-3")
    await proc.wait_provider("p-3")
    apply = f"/portal/schemes/{scheme_id}/apply"
    async with console_over(proc, tmp_path) as client:
        csrf = await signed_in(client, "provider:p-3")
        form = await client.get(apply)
        assert 'value="save" name="action"' in form.text and "34(15)" in form.text
        too_long = await client.post(
            apply, data={"csrf_token": csrf, "action": "save", "answer-ofsted": "x" * 5001}
        )
        assert too_long.status_code == 400 and 'href="#answer-ofsted"' in too_long.text
        saved = await client.post(
            apply,
            data={
                "csrf_token": csrf,
                "action": "save",
                "categories": "asd-day",
                "answer-ofsted": "Good, 2025",
            },
        )
        assert saved.status_code == 303 and "draft_saved=1" in saved.headers["location"]
        home = await client.get(saved.headers["location"])
        assert "Your application was saved" in home.text
        assert f'href="{apply}"' in home.text and "Continue" in home.text
        # Nothing was submitted: no request to participate, no clock.
        assert (await proc.get("/applications")).json() == []
        again = await client.get(apply)
        assert "Good, 2025" in again.text and "You saved this application" in again.text
        assert 'value="asd-day" checked' in again.text
        done = await client.post(
            apply,
            data={
                "csrf_token": csrf,
                "categories": "asd-day",
                "answer-ofsted": "Good",
                "answer-quality": "Our approach",
            },
        )
        assert done.status_code == 303
        home = await client.get("/portal")
        assert "You have no saved application." in home.text
    async with console_over(proc, tmp_path) as other:
        await signed_in(other, "provider:p-2")
        form = await other.get(apply)
        assert "Good, 2025" not in form.text and "You saved this application" not in form.text


async def _asked(driver: Driver, application_id: str, reply_by_on: date) -> str:
    async with driver.client() as c:
        r = await c.post(
            f"/applications/{application_id}/clarification-requests",
            json={"question": "Send your latest Ofsted letter", "reply_by_on": str(reply_by_on)},
        )
    assert r.status_code == 201, r.text
    return str(r.json()["request_id"])


async def test_commissioner_asks_and_provider_answers(proc: Driver, tmp_path: Path) -> None:  # noqa: F811
    scheme_id = await proc.scheme()
    await proc.register("p-1")
    application_id = await proc.apply(scheme_id, "p-1")
    page_path = f"/applications/{application_id}"
    ask = f"{page_path}/clarification-requests"
    reply_on = london_date(clock.now()) + timedelta(days=7)
    async with console_over(proc, tmp_path) as client:
        csrf = await signed_in(client, "commissioner")
        page = await client.get(page_path)
        assert f'action="{ask}"' in page.text and "does not stop the evaluation clock" in page.text
        missing = await client.post(
            ask,
            data={
                "csrf_token": csrf,
                "reply_by-day": "31",
                "reply_by-month": "2",
                "reply_by-year": "2027",
            },
        )
        assert missing.status_code == 400
        assert 'href="#question"' in missing.text and 'href="#reply_by-day"' in missing.text
        past = await client.post(
            ask,
            data={
                "csrf_token": csrf,
                "question": "Letter?",
                "reply_by-day": "1",
                "reply_by-month": "1",
                "reply_by-year": "2020",
            },
        )
        assert past.status_code == 400 and 'href="#reply_by-day"' in past.text
        sent = await client.post(
            ask,
            data={
                "csrf_token": csrf,
                "question": "Send your Ofsted letter",
                "reply_by-day": str(reply_on.day),
                "reply_by-month": str(reply_on.month),
                "reply_by-year": str(reply_on.year),
            },
        )
        assert sent.status_code == 303
        page = await client.get(sent.headers["location"])
        assert "Your question was sent" in page.text and "Not answered" in page.text
    request_id = (await proc.get(page_path)).json()["clarification_requests"][0]["request_id"]
    reply = f"/portal/clarification-requests/{request_id}"
    async with console_over(proc, tmp_path) as other:
        csrf = await signed_in(other, "provider:p-2")
        assert request_id not in (await other.get("/portal")).text
        assert (await other.get(reply)).status_code == 404
        assert (
            await other.post(reply, data={"csrf_token": csrf, "answer": "x"})
        ).status_code == 404
    async with console_over(proc, tmp_path) as client:
        csrf = await signed_in(client, "provider:p-1")
        home = await client.get("/portal")
        assert f'href="{reply}"' in home.text
        form = await client.get(reply)
        assert "Send your Ofsted letter" in form.text
        empty = await client.post(reply, data={"csrf_token": csrf, "answer": " "})
        assert empty.status_code == 400 and 'href="#answer"' in empty.text
        done = await client.post(reply, data={"csrf_token": csrf, "answer": "Letter attached"})
        assert done.status_code == 303
    async with console_over(proc, tmp_path) as client:
        await signed_in(client, "commissioner")
        assert "Letter attached" in (await client.get(page_path)).text


async def test_a_late_answer_is_refused(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scheme_id = await proc.scheme()
    await proc.register("p-1")
    application_id = await proc.apply(scheme_id, "p-1")
    today = london_date(clock.now())
    request_id = await _asked(proc, application_id, today)
    reply = f"/portal/clarification-requests/{request_id}"
    async with console_over(proc, tmp_path) as client:
        csrf = await signed_in(client, "provider:p-1")
        late = end_of_day(today)
        monkeypatch.setattr(clock, "now", lambda: late)
        answer = await client.post(reply, data={"csrf_token": csrf, "answer": "Too late"})
        assert answer.status_code == 409 and "reply-by date has passed" in answer.text
    assert (await proc.get(f"/applications/{application_id}")).json()["clarification_requests"][0][
        "answer"
    ] is None
