"""An award says which regime its scheme was let under, so that placements can record
the call-off's legal basis (issue 19); the standstill-ended event repeats it."""

from __future__ import annotations

from datetime import datetime

from services.procurement.activities import end_standstill
from services.procurement.workflow_types import ClockTick
from tests.service.procurement.conftest import Driver
from tests.service.procurement.test_notices import BLOCK, awarded


async def test_the_award_and_its_standstill_end_carry_the_schemes_regime(proc: Driver) -> None:
    scheme_id, competition_id = await awarded(proc, **BLOCK)
    regime = (await proc.get(f"/schemes/{scheme_id}")).json()["regime"]
    assert regime
    (event,) = await proc.events("procurement.competition.awarded")
    assert event["regime"] == regime
    ends_at = datetime.fromisoformat(event["standstill_ends_at"])
    tick = ClockTick(subject=competition_id, now=ends_at)
    assert await end_standstill(proc.runtime.db, proc.runtime.source, tick) is True
    (ended,) = await proc.events("procurement.competition.standstill_ended")
    assert ended["regime"] == regime
