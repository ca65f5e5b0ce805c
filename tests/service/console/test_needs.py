"""Placement needs in the console and opening a call-off from one by hand, against the
real placements and procurement services in-process: the pages and the published
call-off carry the need's own reference, never the child's."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlmodel import select

from services.console.app import build_app
from services.console.routes.needs import age_at
from services.procurement.models import CompetitionRow
from tests.fixtures import today
from tests.service.console.test_calloffs import form_of
from tests.service.console.test_console import console_settings, sign_in
from tests.service.placements.conftest import Placements, placements  # noqa: F401
from tests.service.procurement.conftest import Driver, proc  # noqa: F401

CHILD = "KCC-EHC-000777"


def console_over_both(driver: Driver, service: Placements, tmp_path: Path) -> httpx.AsyncClient:
    settings = console_settings(
        tmp_path, procurement_url="http://procurement", placements_url="http://placements"
    )
    transports: dict[str, httpx.AsyncBaseTransport] = {
        "procurement": httpx.ASGITransport(app=driver.runtime.build_app()),
        "placements": httpx.ASGITransport(app=service.runtime.build_app()),
    }
    app = build_app(settings, transports)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


def deadline(days: int) -> dict[str, str]:
    day = today() + timedelta(days=days)
    return {
        "deadline-day": str(day.day),
        "deadline-month": str(day.month),
        "deadline-year": str(day.year),
        "deadline_time": "17:00",
    }


async def competitions(driver: Driver) -> list[CompetitionRow]:
    async with driver.runtime.db.session() as session:
        return list((await session.exec(select(CompetitionRow))).all())


async def test_a_commissioner_opens_a_call_off_from_a_need(
    proc: Driver,  # noqa: F811
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    need_id = await placements.request_need(CHILD)
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1", score=80)
    async with console_over_both(proc, placements, tmp_path) as client:
        await sign_in(client, "commissioner")
        listed = (await client.get("/needs")).text
        assert need_id in listed and f"/needs/{need_id}/call-off" in listed
        assert CHILD not in listed and "2014" not in listed  # no child ref, no birth date

        action = f"/needs/{need_id}/call-off"
        page = (await client.get(action)).text
        assert f"Individual placement: day, need {need_id}" in page and CHILD not in page
        empty = await client.post(action, data=form_of(page, action))
        assert empty.status_code == 400
        assert 'href="#choice"' in empty.text and 'href="#deadline-day"' in empty.text

        choice = f"{scheme_id}|asd-day"
        short = await client.post(
            action, data={**form_of(empty.text, action), "choice": choice, **deadline(2)}
        )
        assert short.status_code == 400 and 'href="#deadline-day"' in short.text
        assert "tender period too short" in short.text

        fields = {**form_of(short.text, action), "choice": choice, **deadline(14)}
        twice = [await client.post(action, data=fields) for _ in range(2)]
        assert [r.status_code for r in twice] == [303, 303]  # one key: opened once
        opened = await competitions(proc)
        assert len(opened) == 1
        assert twice[0].headers["location"].startswith(f"/call-offs/{opened[0].id}")
        call_off = (await client.get(twice[0].headers["location"])).text
        assert need_id in call_off and CHILD not in call_off
        assert "The call-off was opened" in call_off
    row = opened[0]
    assert row.need_ref == need_id and CHILD not in row.title
    # The scheme published screening: the call-off screens by the age at the start.
    age = age_at("2014-05-01", (today() + timedelta(days=30)).isoformat())  # the builder's
    assert row.spec["filter"]["min_age"] == row.spec["filter"]["max_age"] == age


async def test_a_monitoring_officer_reads_needs_but_opens_no_call_off(
    proc: Driver,  # noqa: F811
    placements: Placements,  # noqa: F811
    tmp_path: Path,
) -> None:
    need_id = await placements.request_need(CHILD)
    async with console_over_both(proc, placements, tmp_path) as client:
        await sign_in(client, "monitoring_officer")
        listed = await client.get("/needs")
        assert listed.status_code == 200 and need_id in listed.text
        assert "Open a call-off" not in listed.text
        assert (await client.get(f"/needs/{need_id}/call-off")).status_code == 403
