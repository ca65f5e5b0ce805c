"""The standstill and notice clocks on the real Temporal dev server with time skipping:
no contract (no standstill_ended event) before standstill ends, the overdue alert only
after the notice's due day."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from services.procurement.notice_workflows import NOTICE_WORKFLOWS
from tests.harness import eventually
from tests.integration.procurement.test_clocks import proc, skip_to
from tests.service.procurement.conftest import Driver
from tests.service.procurement.test_notices import BLOCK, awarded

pytestmark = pytest.mark.integration
__all__ = ["proc"]  # the fixture, shared with test_clocks


async def test_block_contract_is_concluded_only_when_standstill_ends(
    proc: Driver, time_skipping: WorkflowEnvironment
) -> None:
    _, competition_id = await awarded(proc, **BLOCK)
    (award,) = await proc.events("procurement.competition.awarded")
    assert award["contract_awaits_standstill"] is True
    ends_at = datetime.fromisoformat(award["standstill_ends_at"])
    handle = time_skipping.client.get_workflow_handle(f"standstill-{competition_id}")

    await skip_to(time_skipping, handle, ends_at - timedelta(hours=1))
    assert await proc.events("procurement.competition.standstill_ended") == []
    view = (await proc.get(f"/competitions/{competition_id}")).json()
    assert view["award_status"] == "in_standstill"

    await skip_past_the_end(time_skipping, handle, ends_at + timedelta(minutes=1))
    assert await handle.result() == "concluded"
    await eventually(lambda: _has(proc, "procurement.competition.standstill_ended"))
    (ended,) = await proc.events("procurement.competition.standstill_ended")
    assert datetime.fromisoformat(ended["standstill_ended_at"]) >= ends_at
    await replay(handle)


async def test_notice_not_published_by_its_due_day_raises_overdue(
    proc: Driver, time_skipping: WorkflowEnvironment
) -> None:
    _, competition_id = await awarded(proc)
    (n,) = (await proc.get("/notices/tracking")).json()["notices"]
    handle = time_skipping.client.get_workflow_handle(f"notice-{n['notice_id']}")
    due_day = datetime.fromisoformat(f"{n['due_on']}T12:00:00+00:00")

    await skip_to(time_skipping, handle, due_day)
    assert await proc.events("procurement.notice.overdue") == []
    await skip_past_the_end(time_skipping, handle, due_day + timedelta(days=1))
    assert await handle.result() == "checked"
    await eventually(lambda: _has(proc, "procurement.notice.overdue"))
    (overdue,) = await proc.events("procurement.notice.overdue")
    assert overdue["competition_id"] == competition_id
    await replay(handle)


async def test_published_notice_ends_its_clock_quietly(
    proc: Driver, time_skipping: WorkflowEnvironment
) -> None:
    await awarded(proc)
    (n,) = (await proc.get("/notices/tracking")).json()["notices"]
    async with proc.client() as c:
        r = await c.post(f"/notices/{n['notice_id']}/publication", json={"status": "published"})
        assert r.status_code == 200, r.text
    handle = time_skipping.client.get_workflow_handle(f"notice-{n['notice_id']}")
    due_day = datetime.fromisoformat(f"{n['due_on']}T12:00:00+00:00")
    await skip_past_the_end(time_skipping, handle, due_day + timedelta(days=1))
    assert await handle.result() == "checked"
    assert await proc.events("procurement.notice.overdue") == []


async def skip_past_the_end(
    env: WorkflowEnvironment,
    handle: WorkflowHandle,  # type: ignore[type-arg]
    at: datetime,
) -> None:
    """Skip to ``at``, by which the workflow completes (fast_forward then says False)."""
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, at - now)


async def replay(handle: WorkflowHandle) -> None:  # type: ignore[type-arg]
    replayer = Replayer(workflows=NOTICE_WORKFLOWS, data_converter=pydantic_data_converter)
    await replayer.replay_workflow(await handle.fetch_history())


async def _has(proc: Driver, event_type: str) -> bool:
    return bool(await proc.events(event_type))
