"""The "updating" state (services/console/updating.py): an award approved in the console
makes its placement in another service, placements, through procurement's event. The
call-off page the approval leads to says it is updating (a GOV.UK notification banner
with a "Check again" link, no meta refresh) until placements has the placement, then
links to it; the checks are bounded (after MAX_ATTEMPTS: "taking longer").

Placements is the real service in-process, fed the award's event as procurement would
publish it; procurement's side (the call-off and its award) is answered by a stand-in,
since only what the call-off page reads from it matters here."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from faststream.kafka import KafkaBroker, TestKafkaBroker

from services.console.app import build_app
from services.console.updating import MAX_ATTEMPTS, PAUSES_S, updating_url
from tests.harness import make_runtime
from tests.service.console.test_console import console_settings, sign_in
from tests.service.placements.conftest import Placements

COMPETITION = "c-updating-1"


def call_off(award_status: str | None, kind: str = "individual") -> dict[str, Any]:
    """What the call-off page reads from procurement, awarded."""
    return {
        "competition_id": COMPETITION,
        "title": "Day placement, ASD",
        "status": "awarded",
        "category_code": "ASD-day",
        "kind": kind,
        "round": 1,
        "opened_at": "2026-11-01T09:00:00+00:00",
        "deadline_at": "2026-11-15T17:00:00+00:00",
        "urgent_reason": None,
        "need_ref": "need-1",
        "spec": {
            "filter": {"need_type": "ASD", "attendance": "day"},
            "places": 1,
            "quality_weight": 60,
            "price_weight": 40,
            "quality_questions": [],
        },
        "invitations": [],
        "screenings": [],
        "bids": [],
        "evaluator_scores": [],
        "set_aside": [],
        "evaluation": None,
        "award": {"provider_id": "p-1", "contract_value": "171000.00"},
        "award_status": award_status,
    }


def procurement_answering(shown: dict[str, Any]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/award"):
            return httpx.Response(200, json={})
        if request.url.path == f"/competitions/{COMPETITION}":
            return httpx.Response(200, json=shown)
        return httpx.Response(404, json={"detail": "not found"})

    return httpx.MockTransport(answer)


def console_over(
    tmp_path: Path, placements: Placements, shown: dict[str, Any]
) -> httpx.AsyncClient:
    settings = console_settings(
        tmp_path, procurement_url="http://procurement", placements_url="http://placements"
    )
    transports: dict[str, httpx.AsyncBaseTransport] = {
        "procurement": procurement_answering(shown),
        "placements": httpx.ASGITransport(app=placements.runtime.build_app()),
    }
    app = build_app(settings, transports)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


def next_check(page: str) -> str:
    found = re.search(r'data-updating-next="([^"]+)"', page)
    assert found, "no updating banner"
    return html.unescape(found.group(1))


async def with_placements(tmp_path: Path, test: Callable[[Placements], Any]) -> None:
    broker = KafkaBroker()
    runtime = make_runtime(
        "placements",
        f"sqlite+aiosqlite:///{tmp_path / 'placements.db'}",
        tmp_path,
        shared_broker=broker,
        consumer_retry_backoff_s=0.01,
    )
    async with TestKafkaBroker(broker):
        await runtime.start()
        try:
            await test(Placements(runtime, broker))
        finally:
            await runtime.stop()


async def test_an_award_shows_updating_until_its_placement_arrives(tmp_path: Path) -> None:
    async def run(placements: Placements) -> None:
        need_id = await placements.request_need()
        async with console_over(tmp_path, placements, call_off("contract_concluded")) as client:
            csrf = await sign_in(client, "commissioner")
            approved = await client.post(
                f"/call-offs/{COMPETITION}/award",
                data={"csrf_token": csrf, "idempotency_key": "award-form-1"},
            )
            assert approved.status_code == 303
            location = approved.headers["location"]
            assert location == f"/call-offs/{COMPETITION}?done=awarded&updated=placement"

            # The event has not reached placements yet: updating, not stale-as-current.
            page = (await client.get(location)).text
            assert "The award was approved." in page
            assert "Updating — this page will show the change in a few seconds" in page
            assert 'class="govuk-notification-banner"' in page and 'role="status"' in page
            assert 'http-equiv="refresh"' not in page  # no timed reload (WCAG 2.2.1)
            assert f'data-updating-pause="{PAUSES_S[0]}"' in page
            check = next_check(page)
            assert check.endswith("updated=placement&attempt=1")
            assert "View the placement this award made" not in page

            # procurement's event arrives; placements makes the placement.
            await placements.award(need_id, competition_id=COMPETITION)
            made = await placements.placement_for(COMPETITION)

            page = (await client.get(check)).text
            assert "data-updating-next" not in page and "Updating" not in page
            assert f'href="/placements/{made.placement_id}"' in page
            # An ordinary visit later shows it too (it is the page's own data now).
            page = (await client.get(f"/call-offs/{COMPETITION}")).text
            assert f'href="/placements/{made.placement_id}"' in page

    await with_placements(tmp_path, run)


async def test_the_checks_stop_after_a_few_and_say_it_may_take_longer(tmp_path: Path) -> None:
    async def run(placements: Placements) -> None:
        async with console_over(tmp_path, placements, call_off("contract_concluded")) as client:
            await sign_in(client, "commissioner")
            url = updating_url(f"/call-offs/{COMPETITION}?done=awarded", "placement")
            pauses = []
            for attempt in range(MAX_ATTEMPTS):
                page = (await client.get(url)).text
                pauses.append(int(re.findall(r'data-updating-pause="(\d+)"', page)[0]))
                url = next_check(page)
                assert url.endswith(f"attempt={attempt + 1}")
            assert pauses == sorted(pauses) and pauses[-1] > pauses[0]  # backing off
            page = (await client.get(url)).text
            assert "This is taking longer than usual" in page
            assert "data-updating-next" not in page  # nothing more to follow: no storm
            assert 'data-updating-done="gave-up"' in page
            # A hand-made attempt number beyond the bound changes nothing.
            page = (await client.get(url.replace(f"attempt={MAX_ATTEMPTS}", "attempt=999"))).text
            assert "This is taking longer than usual" in page

    await with_placements(tmp_path, run)


async def test_nothing_is_awaited_in_standstill_or_without_the_marker(tmp_path: Path) -> None:
    async def run(placements: Placements) -> None:
        # In standstill the contract (and its placement) waits for standstill's end:
        # the page says so in the award's state, and there is nothing to wait for now.
        async with console_over(tmp_path, placements, call_off("in_standstill")) as client:
            await sign_in(client, "commissioner")
            page = (await client.get(f"/call-offs/{COMPETITION}?updated=placement")).text
            assert "data-updating-next" not in page and "in standstill" in page
        async with console_over(tmp_path, placements, call_off("contract_concluded")) as client:
            await sign_in(client, "commissioner")
            page = (await client.get(f"/call-offs/{COMPETITION}")).text
            assert "data-updating-next" not in page  # an ordinary visit awaits nothing
            page = (await client.get(f"/call-offs/{COMPETITION}?updated=nonsense")).text
            assert "data-updating-next" not in page

    await with_placements(tmp_path, run)


async def test_placements_down_keeps_the_page_updating_not_broken(tmp_path: Path) -> None:
    settings = console_settings(
        tmp_path, procurement_url="http://procurement", placements_url="http://127.0.0.1:1"
    )
    transports: dict[str, httpx.AsyncBaseTransport] = {
        "procurement": procurement_answering(call_off("contract_concluded"))
    }
    app = build_app(settings, transports)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console"
    ) as client:
        await sign_in(client, "commissioner")
        answer = await client.get(f"/call-offs/{COMPETITION}?done=awarded&updated=placement")
        assert answer.status_code == 200 and "data-updating-next" in answer.text
        assert "Day placement, ASD" in answer.text
