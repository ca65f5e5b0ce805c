"""Issue 12: an award in standstill is no contract yet; placements makes the placement or
the block when procurement says standstill ended (procurement.competition.standstill_ended).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.placements.models import BlockContractRow, PlacementRow
from shared.envelope import Envelope
from shared.infra_models import InboxEntry
from tests.harness import eventually
from tests.service.placements import builders
from tests.service.placements.conftest import Placements

ENDS_AT = datetime.now(UTC) + timedelta(days=10)


def standstill_ended(award: Envelope) -> Envelope:
    data = {**award.data, "standstill_ended_at": ENDS_AT.isoformat()}
    return Envelope(
        id=f"{award.id}-ended",
        type="procurement.competition.standstill_ended",
        source="dps/procurement",
        subject=award.subject,
        data=data,
    )


async def applied(placements: Placements, n: int) -> None:
    async def done() -> bool:
        return await placements.count(InboxEntry) >= n

    await eventually(done)


async def test_block_award_in_standstill_makes_the_block_only_when_standstill_ends(
    placements: Placements,
) -> None:
    award = builders.awarded(
        None,
        kind="block",
        places=3,
        category_code="SEMH-day",
        standstill_ends_at=ENDS_AT.isoformat(),
        contract_awaits_standstill=True,
    )
    await placements.publish("procurement.v1", award)
    await applied(placements, 1)
    assert await placements.count(BlockContractRow) == 0  # awarded, in standstill
    assert await placements.events("block_contract.created") == []

    await placements.publish("procurement.v1", standstill_ended(award))
    await applied(placements, 2)
    assert await placements.count(BlockContractRow) == 1
    assert len(await placements.events("block_contract.created")) == 1


async def test_individual_award_in_standstill_places_the_child_when_it_ends(
    placements: Placements,
) -> None:
    need_id = await placements.request_need("KCC-EHC-000301")
    award = await placements.award(
        need_id, standstill_ends_at=ENDS_AT.isoformat(), contract_awaits_standstill=True
    )
    await applied(placements, 2)
    assert await placements.count(PlacementRow) == 0
    await placements.publish("procurement.v1", standstill_ended(award))
    row = await placements.placement_for(award.data["competition_id"])
    assert row.need_id == need_id


async def test_an_older_award_without_the_flag_still_makes_its_contract_at_once(
    placements: Placements,
) -> None:
    # Events published before the flag existed carry standstill_ends_at but no flag.
    need_id = await placements.request_need("KCC-EHC-000302")
    award = await placements.award(need_id, standstill_ends_at=ENDS_AT.isoformat())
    row = await placements.placement_for(award.data["competition_id"])
    assert row.need_id == need_id
