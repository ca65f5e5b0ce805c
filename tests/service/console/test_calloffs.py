"""Call-offs through the console against the real procurement service in-process: the
list by stage with CSV, a call-off's page, each evaluator's own score sheet, ranking,
and award approval refused (409 approver_scored_bid) to whoever scored, granted to a
second commissioner; a double-submitted form acts once (Idempotency-Key)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import httpx
from sqlmodel import func, select

from services.console.routes.calloffs import csv_cell
from services.procurement.models import AwardRow, EvaluationRow, EvaluatorScoreRow
from shared.contracts.common import Role
from tests.service.console.test_applications import console_over
from tests.service.console.test_console import csrf_of, sign_in
from tests.service.procurement.conftest import Driver, proc  # noqa: F401  (the fixture)
from tests.service.procurement.test_evaluation import two_bids_in_evaluation


def form_of(html: str, action: str) -> dict[str, str]:
    """The hidden fields (CSRF token, one-time key) of the form posting to `action`."""
    start = html.index(f'action="{action}"')
    chunk = html[start : html.index("</form>", start)]
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]+)"', chunk))


async def count(driver: Driver, model: type) -> int:
    async with driver.runtime.db.session() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def test_a_call_off_is_scored_ranked_and_approved_by_another(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    competition_id, b1, b2 = await two_bids_in_evaluation(proc)
    # Another evaluator scored first: the commissioner does not see those scores yet.
    assert (
        await proc.score(competition_id, b1, {"fit": "3"}, evaluator="zed-evaluator")
    ).status_code == 201
    page_path = f"/call-offs/{competition_id}"
    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "commissioner")
        listed = await client.get("/call-offs", params={"stage": "evaluation"})
        assert listed.status_code == 200 and page_path in listed.text
        assert page_path not in (await client.get("/call-offs?stage=open")).text

        page = (await client.get(page_path)).text
        assert "We meet the needs." in page  # the bids, unsealed after the deadline
        assert "Need reference" in page and "initial" in page  # the need; who and why invited
        assert "zed-evaluator" not in page  # each evaluator sees only their own sheet

        # A score out of range: the error summary names the field on that bid's form.
        action = f"/call-offs/{competition_id}/bids/{b1}/scores"
        bad = await client.post(action, data={**form_of(page, action), "score-fit": "11"})
        assert bad.status_code == 400 and 'href="#score-fit"' in bad.text
        assert "between 0 and 10" in bad.text
        for bid_id, fit in ((b1, "8"), (b2, "5.5")):
            action = f"/call-offs/{competition_id}/bids/{bid_id}/scores"
            page = (await client.get(page_path)).text
            done = await client.post(action, data={**form_of(page, action), "score-fit": fit})
            assert done.status_code == 303, done.text
        page = (await client.get(f"{page_path}?done=scored")).text
        assert "Your scores were recorded." in page and "fit: 8" in page

        # Ranking, submitted twice with the same form (a double click): acts once.
        action = f"/call-offs/{competition_id}/evaluation"
        fields = form_of(page, action)
        first = await client.post(action, data=fields)
        second = await client.post(action, data=fields)
        assert (first.status_code, second.status_code) == (303, 303)
        assert await count(proc, EvaluationRow) == 1
        # The same action from another form (another key) is refused by the service: 409.
        again = await client.post(action, data={**fields, "idempotency_key": "another-form"})
        assert again.status_code == 409 and "govuk-error-summary" in again.text

        page = (await client.get(page_path)).text
        assert "Ranked bids" in page and "Ties:" in page and "zed-evaluator" in page  # moderated
        action = f"/call-offs/{competition_id}/award"
        refused = await client.post(action, data=form_of(page, action))
        assert refused.status_code == 409
        assert "govuk-error-summary" in refused.text
        assert "another commissioner must approve its award" in refused.text
        assert await count(proc, AwardRow) == 0

        await client.post("/sign-out", data={"csrf_token": csrf_of(page)})
        await sign_in(client, "commissioner:demo-approver")
        page = (await client.get(page_path)).text
        fields = form_of(page, action)
        approved = [await client.post(action, data=fields) for _ in range(2)]
        assert [a.status_code for a in approved] == [303, 303]
        assert await count(proc, AwardRow) == 1
        assert len(await proc.events("procurement.competition.awarded")) == 1
        page = (await client.get(approved[0].headers["location"])).text
        assert "The award was approved." in page
        assert page_path in (await client.get("/call-offs?stage=awarded")).text

        download = await client.get("/call-offs.csv", params={"stage": "awarded"})
        assert download.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(download.text)))
        assert [(r["competition_id"], r["status"]) for r in rows] == [(competition_id, "awarded")]
    assert await count(proc, EvaluatorScoreRow) == 3


async def test_call_offs_are_paginated_and_stages_checked(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "monitoring_officer")
        empty = await client.get("/call-offs", params={"stage": "sideways", "page": "9"})
        assert empty.status_code == 200 and "There are no call-offs to show." in empty.text
        missing = await client.get("/call-offs/nope")
        assert missing.status_code == 404
        # Reading is for officers; scoring and approving are the commissioner's.
        forbidden = await client.post(
            "/call-offs/nope/award", data={"csrf_token": csrf_of(empty.text)}
        )
        assert forbidden.status_code == 403


def test_csv_cells_that_a_spreadsheet_would_run_are_text() -> None:
    assert [csv_cell(v) for v in ("=HYPERLINK(1)", "+1", "-2", "@x", "plain", None, 3)] == [
        "'=HYPERLINK(1)",
        "'+1",
        "'-2",
        "'@x",
        "plain",
        "",
        "3",
    ]


async def test_a_form_key_reaches_the_service_as_idempotency_key(tmp_path: Path) -> None:
    """What the console sends: the form's key as the header; a malformed key is dropped."""
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Idempotency-Key"))
        return httpx.Response(
            409, json={"detail": [{"field": "Idempotency-Key", "rule": "in_progress"}]}
        )

    from services.console.app import build_app
    from tests.service.console.test_console import console_settings

    settings = console_settings(tmp_path, procurement_url="http://procurement")
    app = build_app(settings, {"procurement": httpx.MockTransport(answer)})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console"
    ) as client:
        csrf = await sign_in(client, "commissioner")
        for key in ("k-1", "not a key"):
            r = await client.post(
                "/call-offs/c-1/evaluation", data={"csrf_token": csrf, "idempotency_key": key}
            )
            # In progress (the first submission is still being served): show the result.
            assert r.status_code == 303 and r.headers["location"].startswith("/call-offs/c-1")
    assert seen == ["k-1", None]


async def test_a_commissioner_answers_a_clarification_for_every_invited_provider(
    proc: Driver,  # noqa: F811
    tmp_path: Path,
) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    await proc.admit(scheme_id, "p-2")
    opened = await proc.open(scheme_id)
    competition_id = str(opened.json()["competition_id"])
    async with proc.client(Role.PROVIDER, "p-1") as c:
        r = await c.post(
            f"/competitions/{competition_id}/clarifications", json={"question": "Transport?"}
        )
    cid = r.json()["clarification_id"]
    page_path = f"/call-offs/{competition_id}"
    action = f"{page_path}/clarifications/{cid}/answer"
    async with console_over(proc, tmp_path) as client:
        await sign_in(client, "monitoring_officer")
        page = (await client.get(page_path)).text
        assert "Transport?" in page and f'action="{action}"' not in page  # reads, never answers
        await client.post("/sign-out", data={"csrf_token": csrf_of(page)})
        await sign_in(client, "commissioner")
        page = (await client.get(page_path)).text
        assert "Transport?" in page and "Publish answer" in page
        empty = await client.post(action, data={**form_of(page, action), "answer": " "})
        assert empty.status_code == 400 and f'href="#answer-{cid}"' in empty.text
        fields = {**form_of(page, action), "answer": "The council arranges transport."}
        done = [await client.post(action, data=fields) for _ in range(2)]  # a double click
        assert [d.status_code for d in done] == [303, 303]
        page = (await client.get(done[0].headers["location"])).text
        assert "The answer was published to every invited provider." in page
        assert "The council arranges transport." in page and "Publish answer" not in page
        again = await client.post(
            action, data={**fields, "idempotency_key": "another-form", "answer": "No"}
        )
        assert again.status_code == 409 and "already been answered" in again.text
    [event] = await proc.events("procurement.clarification.answered")
    assert event["invited_provider_ids"] == ["p-1", "p-2"]
    for provider_id in ("p-1", "p-2"):
        seen = (
            await proc.get(f"/competitions/{competition_id}", Role.PROVIDER, provider_id)
        ).json()
        assert [q["answer"] for q in seen["clarifications"]] == ["The council arranges transport."]
