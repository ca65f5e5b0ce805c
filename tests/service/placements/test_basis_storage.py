"""The stored basis: migration 0012 gives placements and spend ledger lines made before
bases were recorded the basis their source implies (dps_award: dps_call_off,
block_contract: block_contract, spot: off_contract_spot) and goes down and up again; a
basis reference (a child's case) is pseudonymised with its placement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text

from dps.services import definition_of
from services.placements import domain
from services.placements.models import PlacementRow
from services.placements.retention import pseudonymise_expired
from shared.db import migrate, sync_url
from tests.service.placements.conftest import Placements

KEY = b"basis-retention-test-key"

_PLACEMENT = (
    "INSERT INTO placement (placement_id, child_ref, provider_id, source, primary_need, "
    "attendance, awarded_on, start_date, term_end, weeks_per_year, notice_period_weeks, "
    "status, workflow_started) VALUES (:id, 'KCC-EHC-1', 'p-1', :source, 'ASD', 'day', "
    "'2024-09-01', '2024-09-02', '2027-09-01', 38, 12, 'active', false)"
)
_LINE = (
    "INSERT INTO spend_ledger (placement_id, financial_year, provider_id, primary_need, "
    "source, on_contract, amount, line) VALUES (:id, 2025, 'p-1', 'ASD', :source, :on, "
    "100.00, :line)"
)


def test_rows_from_before_bases_are_backfilled_from_their_source(
    database_url: Callable[[str], str],
) -> None:
    url = database_url("placements-basis-upgrade")
    migrations = definition_of("placements").migrations_dir
    migrate(url, migrations, "0011")  # the revision before 0012
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as connection:
            for pid, source in (("a", "dps_award"), ("b", "block_contract"), ("c", "spot")):
                connection.execute(text(_PLACEMENT), {"id": pid, "source": source})
                on = source != "spot"
                connection.execute(
                    text(_LINE), {"id": pid, "source": source, "on": on, "line": "placement"}
                )
            connection.execute(
                text(_LINE),
                {
                    "id": "blk",
                    "source": "block_contract",
                    "on": True,
                    "line": "block_unfilled_places",
                },
            )
        migrate(url, migrations)
        with engine.connect() as connection:
            placed = dict(
                connection.execute(text("SELECT placement_id, basis FROM placement")).all()
            )
            lines = dict(
                connection.execute(text("SELECT placement_id, basis FROM spend_ledger")).all()
            )
        assert placed == {"a": "dps_call_off", "b": "block_contract", "c": "off_contract_spot"}
        assert lines == {**placed, "blk": "block_contract"}
        migrate(url, migrations, "0011")  # down ...
        migrate(url, migrations)  # ... and up again
    finally:
        engine.dispose()


async def test_a_basis_reference_is_pseudonymised_with_its_placement(
    placements: Placements,
) -> None:
    row = await placements.active_placement("KCC-EHC-000601")
    long_ago = datetime.now(UTC) - timedelta(days=400)
    async with placements.runtime.db.transaction() as session:
        placement = await session.get(PlacementRow, row.placement_id)
        assert placement is not None
        placement.status, placement.end_date = "ended", long_ago.date()
        placement.basis_reference = "EH886/24/00017"
        session.add(placement)
    now = datetime.now(UTC)
    await pseudonymise_expired(placements.runtime.db, "dps/placements", KEY, 365, now)
    async with placements.runtime.db.session() as session:
        after = await session.get(PlacementRow, row.placement_id)
    assert after is not None
    assert after.basis_reference == domain.pseudonym("EH886/24/00017", KEY)
