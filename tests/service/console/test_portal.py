"""The provider portal against the real procurement service in-process: provider and
officer pages kept apart, the home, bidding with a receipt and the outcome, applying to
join, renewing a self-declaration, and another provider's ids on every portal route."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from services.procurement.models import CompetitionRow
from shared.contracts.common import Role
from tests.service.console.test_applications import console_over
from tests.service.console.test_console import csrf_of
from tests.service.procurement.conftest import Driver, proc  # noqa: F401  (the fixture)

START = date.today() + timedelta(days=40)


async def signed_in(client: httpx.AsyncClient, person: str) -> str:
    token = csrf_of((await client.get("/sign-in")).text)
    answer = await client.post("/sign-in/dev", data={"person": person, "csrf_token": token})
    assert answer.status_code == 303, answer.text
    return csrf_of((await client.get("/accessibility")).text)


def bid_form(csrf: str, fee: str = "1500.00", **overrides: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "fee_basis": "weekly",
        "core_fee": fee,
        "weeks_per_year": "38",
        "start-day": str(START.day),
        "start-month": str(START.month),
        "start-year": str(START.year),
        "answer-fit": "We meet the needs.",
        **overrides,
    }


async def call_off(driver: Driver) -> tuple[str, str]:
    """A scheme with p-1 admitted (and p-2 registered but not a member) and a call-off
    to which only p-1 is invited."""
    scheme_id = await driver.scheme()
    await driver.admit(scheme_id, "p-1")
    await driver.register("p-2")
    opened = await driver.open(scheme_id)
    assert opened.status_code == 201, opened.text
    return scheme_id, str(opened.json()["competition_id"])


async def test_officers_and_providers_each_see_only_their_own_pages(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with console_over(proc, tmp_path) as client:
        assert (await client.get("/portal")).headers["location"] == "/sign-in"
        await signed_in(client, "commissioner")
        for path in (
            "/portal",
            "/portal/schemes",
            "/portal/call-offs/x",
            "/portal/schemes/x/apply",
        ):
            refused = await client.get(path)
            assert refused.status_code == 403 and "You cannot see this page" in refused.text
        await signed_in(client, "provider:p-1")
        assert (await client.get("/")).headers["location"] == "/portal"
        for path in ("/applications", "/providers", "/alerts", "/applications/x"):
            refused = await client.get(path)
            assert refused.status_code == 403 and "You cannot see this page" in refused.text
        home = await client.get("/portal")
        assert home.status_code == 200 and 'href="/portal/schemes"' in home.text
        assert 'href="/applications"' not in home.text  # no officer navigation
        # The register and placements are down here: their sections say so by name.
        assert "The provider register cannot be reached now" in home.text
        assert "Placements cannot be reached now" in home.text


async def test_a_provider_bids_revises_and_sees_its_receipt_and_outcome(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    _, competition_id = await call_off(proc)
    async with console_over(proc, tmp_path) as client:
        csrf = await signed_in(client, "provider:p-1")
        home = await client.get("/portal")
        assert (
            f'href="/portal/call-offs/{competition_id}"' in home.text and "No bid yet" in home.text
        )

        page = await client.get(f"/portal/call-offs/{competition_id}")
        assert page.status_code == 200 and "Send bid" in page.text
        need_ref = (await proc.get(f"/competitions/{competition_id}")).json()["need_ref"]
        assert need_ref not in page.text  # the need is shown, never who it is for
        as_provider = (
            await proc.get(f"/competitions/{competition_id}", Role.PROVIDER, "p-1")
        ).json()
        assert (
            "origin" not in as_provider["spec"]["filter"] and "opened_by" not in as_provider["spec"]
        )

        bad = await client.post(
            f"/portal/call-offs/{competition_id}/bid",
            data=bid_form(csrf, fee="lots", **{"start-month": "13", "answer-fit": ""}),
        )
        assert bad.status_code == 400 and 'class="govuk-error-summary"' in bad.text
        for field in ("#core_fee", "#start-day", "#answer-fit"):
            assert f'href="{field}"' in bad.text
        assert 'value="lots"' in bad.text  # what was typed comes back

        sent = await client.post(f"/portal/call-offs/{competition_id}/bid", data=bid_form(csrf))
        assert sent.headers["location"] == f"/portal/call-offs/{competition_id}/receipt"
        receipt = await client.get(sent.headers["location"])
        assert receipt.status_code == 200 and "Bid received" in receipt.text
        bid_id = await proc.live_bid(competition_id, "p-1")
        assert bid_id in receipt.text

        # The revised form sent twice (a double click) carries one form key: one version.
        once = bid_form(csrf, fee="1400.00", idempotency_key="form-key-revision-1")
        for _ in range(2):
            revised = await client.post(f"/portal/call-offs/{competition_id}/bid", data=once)
            assert revised.status_code == 303
        assert "version 2" in (await client.get(f"/portal/call-offs/{competition_id}")).text
        live = (await proc.get(f"/competitions/{competition_id}")).json()["bids"]
        assert [(b["version"], b["superseded"]) for b in live] == [(1, True), (2, False)]

        assert await proc.close(competition_id) == "evaluation"
        closed = await client.get(f"/portal/call-offs/{competition_id}")
        assert "Send revised bid" not in closed.text  # no bid form after the deadline
        late = await client.post(f"/portal/call-offs/{competition_id}/bid", data=bid_form(csrf))
        assert late.status_code == 400 and 'class="govuk-error-summary"' in late.text
        assert (await proc.score_and_evaluate(competition_id, {"p-1": "8"})).status_code == 200
        assert (await proc.award(competition_id)).status_code == 200
        outcome = await client.get(f"/portal/call-offs/{competition_id}")
        assert "Outcome" in outcome.text and "Awarded to you" in outcome.text


async def test_a_provider_applies_to_join_and_follows_its_application(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    scheme_id = await proc.scheme()
    await proc.register("p-3")
    await proc.wait_provider("p-3")
    async with console_over(proc, tmp_path) as client:
        csrf = await signed_in(client, "provider:p-3")
        listed = await client.get("/portal/schemes")
        assert f'href="/portal/schemes/{scheme_id}/apply"' in listed.text
        form = await client.get(f"/portal/schemes/{scheme_id}/apply")
        assert "Inspection outcome" in form.text and 'value="asd-day"' in form.text
        missing = await client.post(
            f"/portal/schemes/{scheme_id}/apply",
            data={"csrf_token": csrf, "answer-ofsted": "Good"},
        )
        assert missing.status_code == 400
        assert 'href="#categories"' in missing.text and 'href="#answer-quality"' in missing.text
        done = await client.post(
            f"/portal/schemes/{scheme_id}/apply",
            data={
                "csrf_token": csrf,
                "categories": "asd-day",
                "answer-ofsted": "Good",
                "answer-quality": "Our approach",
            },
        )
        assert done.status_code == 303
        home = await client.get(done.headers["location"])
        assert "Your application was submitted." in home.text and "Awaiting decision" in home.text
        applied = (await proc.get("/applications")).json()
        assert [(a["provider_id"], a["requested_categories"]) for a in applied] == [
            ("p-3", ["asd-day"])
        ]
        again = await client.post(
            f"/portal/schemes/{scheme_id}/apply",
            data={
                "csrf_token": csrf,
                "categories": "asd-day",
                "answer-ofsted": "Good",
                "answer-quality": "Our approach",
            },
        )
        # A second submission: procurement refuses it and the summary says why.
        assert again.status_code == 400 and 'class="govuk-error-summary"' in again.text
        assert len((await proc.get("/applications")).json()) == 1


async def test_a_provider_renews_its_self_declaration(proc: Driver, tmp_path: Path) -> None:  # noqa: F811
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    async with proc.client() as c:
        r = await c.post(
            f"/schemes/{scheme_id}/members/p-1/self-declarations", json={"reason": "annual check"}
        )
    request_id = r.json()["request_id"]
    async with console_over(proc, tmp_path) as client:
        csrf = await signed_in(client, "provider:p-1")
        home = await client.get("/portal")
        assert f'href="/portal/self-declarations/{request_id}"' in home.text
        unconfirmed = await client.post(
            f"/portal/self-declarations/{request_id}", data={"csrf_token": csrf}
        )
        assert unconfirmed.status_code == 400 and 'href="#confirm"' in unconfirmed.text
        done = await client.post(
            f"/portal/self-declarations/{request_id}", data={"csrf_token": csrf, "confirm": "yes"}
        )
        assert done.status_code == 303
        answered = (await proc.get(f"/self-declarations/{request_id}")).json()
        assert answered["status"] == "answered"
        assert answered["declaration"]["changes"] == "none"


async def test_another_providers_ids_find_nothing_on_any_portal_route(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    """p-2 signed in, using p-1's call-off, receipt and declaration ids: 404 every time,
    nothing of p-1's on any page, and nothing changed."""
    scheme_id, competition_id = await call_off(proc)
    assert (await proc.bid(competition_id, "p-1")).status_code == 201
    bid_id = await proc.live_bid(competition_id, "p-1")
    async with proc.client() as c:
        r = await c.post(f"/schemes/{scheme_id}/members/p-1/self-declarations", json={})
    request_id = r.json()["request_id"]
    async with console_over(proc, tmp_path) as client:
        csrf = await signed_in(client, "provider:p-2")
        home = await client.get("/portal")
        assert competition_id not in home.text and request_id not in home.text
        for path in (
            f"/portal/call-offs/{competition_id}",
            f"/portal/call-offs/{competition_id}/receipt",
            f"/portal/call-offs/{competition_id}/withdraw",
            f"/portal/call-offs/{competition_id}/withdrawal",
            f"/portal/self-declarations/{request_id}",
        ):
            answer = await client.get(path)
            assert answer.status_code == 404, path
            assert bid_id not in answer.text and "Placement for child A" not in answer.text
        for path, data in (
            (f"/portal/call-offs/{competition_id}/bid", bid_form(csrf)),
            (f"/portal/call-offs/{competition_id}/withdraw", {"csrf_token": csrf}),
            (
                f"/portal/call-offs/{competition_id}/clarifications",
                {"csrf_token": csrf, "question": "Whose is this?"},
            ),
            (f"/portal/self-declarations/{request_id}", {"csrf_token": csrf, "confirm": "yes"}),
        ):
            assert (await client.post(path, data=data)).status_code == 404, path
        # A bid form without this session's CSRF token changes nothing either.
        forged = {**bid_form(csrf), "csrf_token": "forged"}
        answer = await client.post(f"/portal/call-offs/{competition_id}/bid", data=forged)
        assert answer.status_code == 403
        # Path tricks reach no other route of the service.
        assert (await client.get("/portal/call-offs/..%2Fcompetitions")).status_code == 404
    body = (await proc.get(f"/competitions/{competition_id}")).json()
    assert [(b["provider_id"], b["withdrawn_at"]) for b in body["bids"]] == [("p-1", None)]
    assert body["clarifications"] == []
    assert (await proc.get(f"/self-declarations/{request_id}")).json()["status"] == "requested"


async def test_a_provider_asks_a_question_and_every_invited_provider_sees_the_answer(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    await proc.admit(scheme_id, "p-3")
    opened = await proc.open(scheme_id)
    competition_id = str(opened.json()["competition_id"])
    page_path = f"/portal/call-offs/{competition_id}"
    action = f"{page_path}/clarifications"
    async with console_over(proc, tmp_path) as client:
        csrf = await signed_in(client, "provider:p-1")
        page = await client.get(page_path)
        assert "Ask a question" in page.text and "No answers have been published" in page.text
        empty = await client.post(action, data={"csrf_token": csrf, "question": "  "})
        assert empty.status_code == 400 and 'href="#question"' in empty.text
        long = await client.post(action, data={"csrf_token": csrf, "question": "x" * 2001})
        assert long.status_code == 400 and "2000 characters or fewer" in long.text
        sent = await client.post(action, data={"csrf_token": csrf, "question": "Transport?"})
        assert sent.headers["location"] == f"{page_path}?asked=1"
        page = await client.get(sent.headers["location"])
        assert "Your question was sent" in page.text and "(your question)" in page.text
        assert "Not answered yet" in page.text
        [q] = (await proc.get(f"/competitions/{competition_id}")).json()["clarifications"]
        async with proc.client() as c:
            r = await c.post(
                f"/competitions/{competition_id}/clarifications/{q['clarification_id']}/answer",
                json={"answer": "Transport is arranged by the council."},
            )
        assert r.status_code == 200, r.text
        await client.post("/sign-out", data={"csrf_token": csrf})
        await signed_in(client, "provider:p-3")
        other = await client.get(page_path)
        assert "Transport is arranged by the council." in other.text and "Transport?" in other.text
        assert "(your question)" not in other.text and "p-1" not in other.text


async def test_a_provider_withdraws_its_bid_with_a_receipt_and_bids_again(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    _, competition_id = await call_off(proc)
    page_path = f"/portal/call-offs/{competition_id}"
    async with console_over(proc, tmp_path) as client:
        csrf = await signed_in(client, "provider:p-1")
        # Nothing to withdraw yet: the confirmation page sends back to the call-off.
        nothing = await client.get(f"{page_path}/withdraw")
        assert nothing.headers["location"] == page_path
        sent = await client.post(f"{page_path}/bid", data=bid_form(csrf))
        assert sent.status_code == 303
        bid_id = await proc.live_bid(competition_id, "p-1")
        page = await client.get(page_path)
        assert f'href="{page_path}/withdraw"' in page.text
        confirm = await client.get(f"{page_path}/withdraw")
        assert confirm.status_code == 200 and "Are you sure" in confirm.text
        assert bid_id in confirm.text and 'action="' + f"{page_path}/withdraw" in confirm.text
        form = {"csrf_token": csrf, "idempotency_key": "withdraw-form-1"}
        done = [await client.post(f"{page_path}/withdraw", data=form) for _ in range(2)]
        assert [d.status_code for d in done] == [303, 303]  # a double click acts once
        assert done[0].headers["location"] == f"{page_path}/withdrawal"
        receipt = await client.get(f"{page_path}/withdrawal")
        assert receipt.status_code == 200 and "Bid withdrawn" in receipt.text
        assert bid_id in receipt.text
        page = await client.get(page_path)
        assert "You withdrew your bid" in page.text and "Send bid" in page.text
        # Another withdrawal with nothing live: the summary says why (409).
        again = await client.post(
            f"{page_path}/withdraw", data={"csrf_token": csrf, "idempotency_key": "w-2"}
        )
        assert again.status_code == 409 and "no bid in this call-off to withdraw" in again.text
        resent = await client.post(f"{page_path}/bid", data=bid_form(csrf, fee="1450.00"))
        assert resent.status_code == 303
        assert "version 2" in (await client.get(page_path)).text
        # From the deadline a bid is fixed: refused, naming the rule in words.
        async with proc.runtime.db.transaction() as session:
            row = await session.get(CompetitionRow, competition_id)
            assert row is not None
            row.deadline_at = datetime.now(UTC) - timedelta(seconds=1)
            session.add(row)
        late = await client.post(
            f"{page_path}/withdraw", data={"csrf_token": csrf, "idempotency_key": "w-3"}
        )
        assert late.status_code == 409 and "can no longer be withdrawn" in late.text
        assert f'href="{page_path}/withdraw"' not in late.text
    body = (await proc.get(f"/competitions/{competition_id}")).json()
    assert [(b["version"], bool(b["withdrawn_at"])) for b in body["bids"]] == [
        (1, True),
        (2, False),
    ]
