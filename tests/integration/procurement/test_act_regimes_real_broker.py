"""Issue 19 end to end, over the real broker and Temporal (time skipped): a Procurement
Act 2023 dynamic market and an open framework each run from establishment to the
notices their call-offs owe.

- Dynamic market (the Act ss.34-40): providers arrive as providers.v1 events, apply and
  are admitted at any time (a late joiner too, after a call-off opened, s.36); a
  placement need on the broker opens a call-off among the members; the tender deadline
  passes by time skipping; the award waits out the scheme's voluntary standstill of 8
  working days (s.51(2)) before the contract; the tender, contract award and contract
  details notices are tracked with the regime's due dates, and one left unpublished is
  marked overdue by its clock (procurement.notice.overdue on the broker).
- Open framework (s.49): suppliers apply in the joining window and are admitted; a
  call-off by competitive selection is awarded and owes its notices; a reopening carries
  the members over, after which a new supplier applying outside a window is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from services.monitoring.models import AlertRow
from shared import clock, training
from shared.contracts import placements_v1, providers_v1
from shared.contracts.common import Role
from shared.runtime import ServiceRuntime
from shared.working_days import end_of_day, is_working_day, london_date
from tests.fixtures import today
from tests.harness import eventually, make_runtime
from tests.integration.procurement.test_need_to_award_real_broker import (
    _exists,
    _known,
    _running,
    _status_is,
    publish,
    read_events,
    runtime,
)
from tests.service.procurement.conftest import Driver, scheme_body, snapshot
from tests.service.procurement.test_needs import need

pytestmark = pytest.mark.integration
__all__ = ["runtime"]  # the fixture: procurement on the real broker and Temporal

DM = "pa2023_dynamic_market"
OF = "pa2023_open_framework"
TOPIC = "procurement.v1"


@pytest.fixture
async def monitoring(
    kafka_bootstrap: str, database_url: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[ServiceRuntime]:
    """Monitoring on the same broker: it turns procurement.notice.overdue into an alert."""
    rt = make_runtime(
        "monitoring",
        database_url("monitoring"),
        tmp_path / "monitoring",
        kafka=kafka_bootstrap,
        consumer_group=f"g-monitoring-{uuid.uuid4().hex[:6]}",  # the broker is shared
    )
    await rt.start()
    yield rt
    await rt.stop()


async def alerts_for(monitoring: ServiceRuntime, cause: str) -> list[AlertRow]:
    async with monitoring.db.session() as session:
        return list((await session.exec(select(AlertRow).where(AlertRow.cause == cause))).all())


async def register_on_the_broker(runtime: ServiceRuntime, bootstrap: str, *ids: str) -> None:
    """Providers reach procurement as providers.v1 events, as in production."""
    for provider_id in ids:
        registered = providers_v1.ProviderRegistered(
            provider=snapshot(provider_id), registered_by="registrar"
        )
        await publish(
            bootstrap, providers_v1.TOPIC, providers_v1.PROVIDER_REGISTERED, provider_id, registered
        )
    for provider_id in ids:
        await eventually(lambda pid=provider_id: _known(runtime, pid), within=60)  # type: ignore[misc]


async def admitted(proc: Driver, scheme_id: str, provider_id: str) -> None:
    r = await proc.decide(await proc.apply(scheme_id, provider_id), score=70)
    assert r.status_code == 200 and r.json()["decision"]["outcome"] == "admitted", r.text


async def tracked(proc: Driver, **query: str) -> dict[str, dict[str, Any]]:
    """The tracked notices matching ``query``, by kind."""
    r = await proc.get("/notices/tracking?" + "&".join(f"{k}={v}" for k, v in query.items()))
    assert r.status_code == 200, r.text
    return {n["kind"]: n for n in r.json()["notices"]}


async def on_the_broker(bootstrap: str, subject: str) -> list[tuple[str, dict[str, object]]]:
    return [(t, data) for t, s, data in await read_events(bootstrap, TOPIC) if s == subject]


async def wait_on_the_broker(bootstrap: str, subject: str, event_type: str) -> dict[str, object]:
    async def there() -> bool:
        return any(t == event_type for t, _ in await on_the_broker(bootstrap, subject))

    await eventually(there, within=60, interval=0.5)
    return next(data for t, data in await on_the_broker(bootstrap, subject) if t == event_type)


async def past_the_deadline(
    proc: Driver, env: WorkflowEnvironment, competition_id: str
) -> WorkflowHandle:  # type: ignore[type-arg]
    """Skip the call-off's workflow past its tender deadline: it closes for evaluation."""
    handle = env.client.get_workflow_handle(f"competition-{competition_id}")
    await eventually(lambda: _running(handle), within=30)
    deadline = datetime.fromisoformat(
        (await proc.get(f"/competitions/{competition_id}")).json()["deadline_at"]
    )
    now = await env.get_current_time(handle)
    assert await env.fast_forward(handle, deadline - now + timedelta(minutes=1))
    await eventually(lambda: _status_is(proc.runtime, competition_id, "evaluation"), within=30)
    return handle


async def skip_until(
    env: WorkflowEnvironment,
    handle: WorkflowHandle,  # type: ignore[type-arg]
    at: datetime,
) -> None:
    """Skip the workflow's clock to ``at`` (it may complete on the way)."""
    await eventually(lambda: _running(handle), within=30)
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, at - now)


def eighth_working_day(first: date) -> date:
    """s.51(2): 8 working days *beginning with* the day the contract award notice is
    published; Saturdays, Sundays and England bank holidays are not working days."""
    day, counted = first, 0
    while True:
        counted += is_working_day(day)
        if counted == 8:
            return day
        day += timedelta(days=1)


async def test_dynamic_market_from_establishment_to_notices_over_the_real_broker(
    runtime: ServiceRuntime,
    monitoring: ServiceRuntime,
    kafka_bootstrap: str,
    time_skipping: WorkflowEnvironment,
) -> None:
    proc = Driver(runtime, runtime.broker)
    # Established after 24 Feb 2025 (today); not light touch, so the Act's full 30-day
    # contract details notice applies; the market applies a voluntary standstill.
    scheme_id = await proc.scheme(
        regime=DM, established_on=None, light_touch=False, voluntary_standstill=True
    )
    scheme = (await proc.get(f"/schemes/{scheme_id}")).json()
    assert scheme["regime"] == DM and scheme["joining"]["joins_at_any_time"] is True
    assert scheme["regime_rules"]["standstill_working_days"] is True
    assert scheme["regime_rules"]["standstill_days"] == 8
    await register_on_the_broker(runtime, kafka_bootstrap, "dm-1", "dm-2", "dm-late")
    for provider_id in ("dm-1", "dm-2"):
        await admitted(proc, scheme_id, provider_id)

    raised = need()
    await publish(
        kafka_bootstrap, placements_v1.TOPIC, "placement.need.raised", raised.need_id, raised
    )
    competition_id = f"need-{raised.need_id}"
    await eventually(lambda: _exists(runtime, competition_id), within=60)
    opened_on = london_date(
        datetime.fromisoformat(
            (await proc.get(f"/competitions/{competition_id}")).json()["opened_at"]
        )
    )
    # A dynamic market admits at any time (s.36): a supplier joining while a call-off is
    # open becomes a member.
    await admitted(proc, scheme_id, "dm-late")
    members = (await proc.get(f"/schemes/{scheme_id}/members")).json()["members"]
    assert {m["provider_id"] for m in members if m["status"] == "active"} == {
        "dm-1",
        "dm-2",
        "dm-late",
    }
    # The call-off's tender notice (s.21(1)), due the day it opens.
    tender = (await tracked(proc, competition_id=competition_id))["tender"]
    assert tender["status"] == "due" and tender["regime"] == DM
    assert tender["due_on"] == opened_on.isoformat()

    assert (await proc.bid(competition_id, "dm-1", fee="1900.00")).status_code == 201
    assert (await proc.bid(competition_id, "dm-2", fee="1750.00")).status_code == 201
    handle = await past_the_deadline(proc, time_skipping, competition_id)
    r = await proc.score_and_evaluate(competition_id, {"dm-1": 8, "dm-2": 6})
    assert r.status_code == 200, r.text
    r = await proc.award(competition_id)
    assert r.status_code == 200, r.text
    assert await handle.result() == "awarded"

    awarded = await wait_on_the_broker(
        kafka_bootstrap, competition_id, "procurement.competition.awarded"
    )
    assert awarded["provider_id"] == "dm-1" and awarded["regime"] == DM
    assert awarded["contract_awaits_standstill"] is True
    ends_at = datetime.fromisoformat(str(awarded["standstill_ends_at"]))
    awarded_on = london_date(datetime.fromisoformat(str(awarded["approved_at"])))
    # 8 working days, never 8 calendar days: the period always spans a weekend.
    last_day = eighth_working_day(awarded_on)
    assert ends_at == end_of_day(last_day)  # standstill ends at the end of its 8th day
    assert (last_day - awarded_on).days >= 9

    notices = await tracked(proc, competition_id=competition_id)
    award_notice, details = notices["contract_award"], notices["contract_details"]
    # The contract award notice precedes the contract and starts standstill: due the
    # award day (s.50(1)); the contract details notice within 30 days beginning with the
    # day the contract can be entered into, the day after standstill (s.53(1)).
    assert award_notice["due_on"] == awarded_on.isoformat()
    assert details["due_on"] == (london_date(ends_at) + timedelta(days=29)).isoformat()
    assert "s.53(1)" in details["source"]

    # The council publishes the contract award notice: on the broker as published.
    async with proc.client() as c:
        r = await c.post(
            f"/notices/{award_notice['notice_id']}/publication",
            json={"status": "published", "publication_ref": "CDP-UK6-1"},
        )
    assert r.status_code == 200, r.text
    published = await wait_on_the_broker(
        kafka_bootstrap, award_notice["notice_id"], "procurement.notice.published"
    )
    assert published["kind"] == "contract_award" and published["late"] is False

    # No contract during standstill; when it ends the contract may be entered into.
    standstill = time_skipping.client.get_workflow_handle(f"standstill-{competition_id}")
    await eventually(lambda: _running(standstill), within=30)
    now = await time_skipping.get_current_time(standstill)
    assert await time_skipping.fast_forward(standstill, ends_at - timedelta(hours=1) - now)
    view = (await proc.get(f"/competitions/{competition_id}")).json()
    assert view["award_status"] == "in_standstill"
    await skip_until(time_skipping, standstill, ends_at + timedelta(minutes=1))
    assert await standstill.result() == "concluded"
    ended = await wait_on_the_broker(
        kafka_bootstrap, competition_id, "procurement.competition.standstill_ended"
    )
    assert datetime.fromisoformat(str(ended["standstill_ended_at"])) >= ends_at
    assert ended["provider_id"] == "dm-1"
    view = (await proc.get(f"/competitions/{competition_id}")).json()
    assert view["award_status"] == "contract_concluded"

    # The tender notice was never published: its clock marks it overdue after its day.
    notice_clock = time_skipping.client.get_workflow_handle(f"notice-{tender['notice_id']}")
    due_day = datetime.fromisoformat(f"{tender['due_on']}T12:00:00+00:00")
    await skip_until(time_skipping, notice_clock, due_day + timedelta(days=1))
    assert await notice_clock.result() == "checked"
    overdue = await wait_on_the_broker(
        kafka_bootstrap, tender["notice_id"], "procurement.notice.overdue"
    )
    assert overdue["kind"] == "tender" and overdue["competition_id"] == competition_id
    assert overdue["scheme_id"] == scheme_id
    assert (await tracked(proc, competition_id=competition_id, overdue="true")).keys() == {"tender"}
    # Monitoring, reading the broker, raises the notice-overdue alert on the market.
    cause = f"notice:{tender['notice_id']}"

    async def alerted() -> bool:
        return bool(await alerts_for(monitoring, cause))

    await eventually(alerted, within=60, interval=0.5)
    (alert,) = await alerts_for(monitoring, cause)
    assert (alert.rule_id, alert.target, alert.target_id) == (
        "notice-overdue",
        "scheme",
        scheme_id,
    )
    # The published notice's clock ends quietly past its day: no overdue event for it.
    published_clock = time_skipping.client.get_workflow_handle(
        f"notice-{award_notice['notice_id']}"
    )
    award_day = datetime.fromisoformat(f"{award_notice['due_on']}T12:00:00+00:00")
    await skip_until(time_skipping, published_clock, award_day + timedelta(days=1))
    assert await published_clock.result() == "checked"
    events = await read_events(kafka_bootstrap, TOPIC)
    assert not any(
        t == "procurement.notice.overdue" and s == award_notice["notice_id"] for t, s, _ in events
    )

    # The late joiner is invited to the market's next call-off like any member.
    second = need()
    await publish(
        kafka_bootstrap, placements_v1.TOPIC, "placement.need.raised", second.need_id, second
    )
    await eventually(lambda: _exists(runtime, f"need-{second.need_id}"), within=60)
    view = (await proc.get(f"/competitions/need-{second.need_id}")).json()
    assert {i["provider_id"] for i in view["invitations"]} == {"dm-1", "dm-2", "dm-late"}


@pytest.fixture
async def rehearsal(
    kafka_bootstrap: str,
    database_url: Callable[[str], str],
    tmp_path: Path,
    time_skipping: WorkflowEnvironment,
) -> AsyncIterator[ServiceRuntime]:
    """Procurement on the real broker and Temporal whose own "now" can be moved on (the
    training clock, as `dps up --training`): to award on a chosen day of the calendar."""
    training.start_training(tmp_path)
    rt = make_runtime(
        "procurement",
        database_url("procurement"),
        tmp_path,
        kafka=kafka_bootstrap,
        consumer_group=f"g-procurement-{uuid.uuid4().hex[:6]}",
        training=True,
    )
    rt.temporal = time_skipping.client
    await rt.start()
    yield rt
    await rt.stop()
    clock.configure(training=False, production=False, data_dir=tmp_path)


def next_christmas_eve() -> datetime:
    """Noon on the next 24 December after a call-off opened now can be awarded (its
    10-day tender period ended)."""
    now = datetime.now(UTC)
    eve = datetime(now.year, 12, 24, 12, 0, tzinfo=UTC)
    return eve if eve - now > timedelta(days=11) else eve.replace(year=now.year + 1)


async def test_dynamic_market_standstill_over_christmas_counts_working_days(
    rehearsal: ServiceRuntime,
    kafka_bootstrap: str,
    time_skipping: WorkflowEnvironment,
    tmp_path: Path,
) -> None:
    """Awarded on Christmas Eve (in 2026 a Thursday): Christmas Day, the weekends, Boxing
    Day (in 2026 its substitute, Monday 28 December) and New Year's Day are not working
    days, so the 8 working days beginning with the award day (s.51(2)) end with Thursday
    7 January 2027 (docs/law/regimes.md); the contract details notice is due within 30
    days beginning with the first day the contract can be entered into (s.53(1))."""
    christmas_eve = next_christmas_eve()
    proc = Driver(rehearsal, rehearsal.broker)
    scheme_id = await proc.scheme(
        regime=DM, established_on=None, light_touch=False, voluntary_standstill=True
    )
    await register_on_the_broker(rehearsal, kafka_bootstrap, "xm-1", "xm-2")
    for provider_id in ("xm-1", "xm-2"):
        await admitted(proc, scheme_id, provider_id)
    # Among the members of the relevant part of the market: no ad hoc narrowing (s.34).
    r = await proc.open(scheme_id, filter={"need_type": "ASD", "attendance": "day"})
    assert r.status_code == 201, r.text
    competition_id = str(r.json()["competition_id"])
    assert (await proc.bid(competition_id, "xm-1", fee="1900.00")).status_code == 201
    assert (await proc.bid(competition_id, "xm-2", fee="1750.00")).status_code == 201
    await past_the_deadline(proc, time_skipping, competition_id)
    r = await proc.score_and_evaluate(competition_id, {"xm-1": 8, "xm-2": 6})
    assert r.status_code == 200, r.text

    clock.write_offset(tmp_path, christmas_eve - datetime.now(UTC))  # the council's "now"
    r = await proc.award(competition_id)
    assert r.status_code == 200, r.text
    awarded = await wait_on_the_broker(
        kafka_bootstrap, competition_id, "procurement.competition.awarded"
    )
    awarded_on = london_date(datetime.fromisoformat(str(awarded["approved_at"])))
    assert awarded_on == christmas_eve.date()
    ends_at = datetime.fromisoformat(str(awarded["standstill_ends_at"]))
    last_day = eighth_working_day(awarded_on)
    assert ends_at == end_of_day(last_day)
    # Two weekends and three bank holidays (Christmas, Boxing Day, New Year's Day, or
    # their substitutes) lie inside: 8 working days take at least 14 calendar days.
    assert (last_day - awarded_on).days >= 14
    if awarded_on == date(2026, 12, 24):  # the example worked in docs/law/regimes.md
        assert last_day == date(2027, 1, 7)
    details = (await tracked(proc, competition_id=competition_id))["contract_details"]
    # 30 days beginning with the day after standstill, when the contract may be entered.
    assert details["due_on"] == (last_day + timedelta(days=30)).isoformat()

    standstill = time_skipping.client.get_workflow_handle(f"standstill-{competition_id}")
    await eventually(lambda: _running(standstill), within=30)
    now = await time_skipping.get_current_time(standstill)
    assert await time_skipping.fast_forward(standstill, ends_at - timedelta(hours=1) - now)
    assert (await proc.get(f"/competitions/{competition_id}")).json()[
        "award_status"
    ] == "in_standstill"
    await skip_until(time_skipping, standstill, ends_at + timedelta(minutes=1))
    assert await standstill.result() == "concluded"
    ended = await wait_on_the_broker(
        kafka_bootstrap, competition_id, "procurement.competition.standstill_ended"
    )
    assert datetime.fromisoformat(str(ended["standstill_ended_at"])) >= ends_at


def reopening_framework() -> dict[str, Any]:
    """An open framework whose first framework was awarded 30 days ago and whose first
    reopening is planned in 40 days: the window to join the second framework is open."""
    start = today() - timedelta(days=30)
    first_reopening = today() + timedelta(days=40)
    return scheme_body(
        regime=OF,
        established_on=None,
        light_touch=True,
        term_start=start.isoformat(),
        term_end=(start + timedelta(days=6 * 365)).isoformat(),
        reopening_dates=[
            first_reopening.isoformat(),
            (first_reopening + timedelta(days=4 * 365)).isoformat(),
        ],
    )


async def test_open_framework_from_its_window_to_a_reopening_over_the_real_broker(
    runtime: ServiceRuntime, kafka_bootstrap: str, time_skipping: WorkflowEnvironment
) -> None:
    proc = Driver(runtime, runtime.broker)
    async with proc.client() as c:
        r = await c.post("/schemes", json=reopening_framework())
    assert r.status_code == 201, r.text
    scheme_id = r.json()["scheme_id"]
    joining = r.json()["joining"]
    assert joining["joins_at_any_time"] is False and joining["open_now"] is True
    assert joining["open_window"]["framework"] == 2
    await register_on_the_broker(runtime, kafka_bootstrap, "of-1", "of-2", "of-new")
    for provider_id in ("of-1", "of-2"):
        await admitted(proc, scheme_id, provider_id)

    # A call-off by competitive selection among the framework's suppliers (s.45).
    r = await proc.open(scheme_id)
    assert r.status_code == 201, r.text
    competition_id = str(r.json()["competition_id"])
    assert await tracked(proc, competition_id=competition_id) == {}  # no tender notice
    assert (await proc.bid(competition_id, "of-1", fee="1600.00")).status_code == 201
    assert (await proc.bid(competition_id, "of-2", fee="1500.00")).status_code == 201
    handle = await past_the_deadline(proc, time_skipping, competition_id)
    r = await proc.score_and_evaluate(competition_id, {"of-1": 5, "of-2": 9})
    assert r.status_code == 200, r.text
    r = await proc.award(competition_id)
    assert r.status_code == 200, r.text
    assert await handle.result() == "awarded"
    awarded = await wait_on_the_broker(
        kafka_bootstrap, competition_id, "procurement.competition.awarded"
    )
    assert awarded["provider_id"] == "of-2" and awarded["regime"] == OF
    assert awarded["contract_awaits_standstill"] is False  # no voluntary standstill
    awarded_on = london_date(datetime.fromisoformat(str(awarded["approved_at"])))
    notices = await tracked(proc, competition_id=competition_id)
    assert notices.keys() == {"contract_award", "contract_details"}
    assert all(n["regime"] == OF and n["status"] == "due" for n in notices.values())
    assert notices["contract_award"]["due_on"] == awarded_on.isoformat()
    # A light touch contract, concluded at the award: 120 days beginning with that day.
    assert notices["contract_details"]["due_on"] == (awarded_on + timedelta(days=119)).isoformat()

    # The reopening awards the second framework: the members carry over unchanged.
    before = (await proc.get(f"/schemes/{scheme_id}/members")).json()["members"]
    async with proc.client() as c:
        r = await c.post(f"/schemes/{scheme_id}/reopenings", json={"reason": "first reopening"})
    assert r.status_code == 201, r.text
    assert r.json()["framework_number"] == 2
    (held,) = r.json()["reopenings"]
    assert held["suppliers"] == 2
    after = (await proc.get(f"/schemes/{scheme_id}/members")).json()["members"]
    assert [(m["provider_id"], m["status"], m["admitted_on"]) for m in after] == [
        (m["provider_id"], m["status"], m["admitted_on"]) for m in before
    ]

    # Its window has closed: a new supplier is refused until the next one, by the rule.
    view = (await proc.get(f"/schemes/{scheme_id}")).json()
    assert view["joining"]["open_now"] is False
    upcoming = view["joining"]["next_window"]
    async with proc.client(Role.PROVIDER, "of-new") as c:
        r = await c.post(
            f"/schemes/{scheme_id}/applications",
            json={"requested_categories": ["asd-day"], "answers": {"ofsted": "Good"}},
        )
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    assert error["field"] == "scheme_id" and error["rule"] == "scheme_not_open"
    assert "s.49(1)" in str(error) and upcoming["opens_on"] in str(error)
    # Members still bid: a second call-off invites them, not the refused supplier.
    r = await proc.open(scheme_id, **{"need_ref": "need-second"})
    assert r.status_code == 201, r.text
    second = str(r.json()["competition_id"])
    assert (await proc.bid(second, "of-1")).status_code == 201
    refused = await proc.bid(second, "of-new")
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["rule"] == "not_invited"
