"""Import of existing placements (a council's caseload)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Response, status
from pydantic import Field
from sqlmodel import col, select

from services.placements import clocks, commands, domain
from services.placements.api._views import (
    _key,
    _today,
)
from services.placements.models import (
    PlacementRow,
)
from services.placements.policy import ALLOWED
from shared.api_types import RequestBody
from shared.contracts.common import Attendance, NeedType
from shared.contracts.placements_v1 import (
    PlacementBasis,
    PlacementSource,
)
from shared.errors import Conflict, DomainError, RulesBroken
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(tags=["placements"])


# --- import of existing placements ------------------------------------------------------------


class PlacementImportItem(RequestBody):
    """One placement the council already holds (often a spot purchase made before the DPS).

    ``end_date`` set: the placement ran (or runs) until that day; a past one is imported as
    ended. ``end_date`` null: open-ended, in force until ``term_end`` (default: the end of
    its current three-year term, counted from the start date)."""

    child_ref: str = Field(min_length=1, max_length=64)
    provider_id: str = Field(min_length=1, max_length=64)
    primary_need: NeedType
    attendance: Attendance
    start_date: date
    end_date: date | None = None
    term_end: date | None = None
    weekly_core_fee: Decimal
    weeks_per_year: int
    notice_period_weeks: int = commands.DEFAULT_NOTICE_PERIOD_WEEKS
    source: PlacementSource = PlacementSource.SPOT
    next_review_due: date | None = None  # required for a placement still in force
    scheme_ref: str | None = Field(default=None, max_length=64)
    competition_ref: str | None = Field(default=None, max_length=64)
    block_contract_id: str | None = Field(default=None, max_length=64)
    basis: PlacementBasis | None = Field(
        default=None,
        description="The legal basis it was bought on; default: what source implies "
        "(spot: off_contract_spot, non-compliant). user_choice, tribunal_order, urgent and "
        "below_threshold need basis_reference.",
    )
    basis_reference: str | None = Field(
        default=None,
        max_length=100,
        description="The reference of the tribunal order (and its date), transparency "
        "or contract details notice, or the council's decision record justifying the "
        "basis: it has a number or date, and never names the child.",
    )


class PlacementImportIn(RequestBody):
    """A batch of existing placements, recorded all or nothing. ``import_key`` names the
    batch: sending the same key again returns the first answer and writes nothing."""

    import_key: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:/-]+$")
    placements: list[PlacementImportItem] = Field(min_length=1, max_length=1000)


def _imported_placement(
    item: PlacementImportItem, placement_id: str, actor: Actor, at: datetime, today: date
) -> list[domain.Placement]:
    """The placement's states from creation to now (``domain.imported_placement``); also
    the dry run of ``dps council-import``."""
    return domain.imported_placement(
        domain.ImportedPlacement(**item.model_dump()),
        placement_id,
        actor.id,
        at,
        today,
        commands.DEFAULT_TERM_YEARS,
    )


@router.post("/placements/import", status_code=status.HTTP_201_CREATED)
async def import_placements(
    body: PlacementImportIn,
    response: Response,
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> dict[str, Any]:
    """Record placements made outside this system (spot purchases, earlier awards, block
    places) with the same rules, history, spend ledger and events as any other; each item
    is checked and a 422 names ``placements[i].field``; nothing is written on any error."""
    today = _today()
    at = datetime.now(UTC)
    ids = [
        commands.derived_id("placement", f"import:{body.import_key}:{i}")
        for i in range(len(body.placements))
    ]
    built: list[list[domain.Placement]] = []
    broken: list[DomainError] = []
    for i, item in enumerate(body.placements):
        try:
            built.append(_imported_placement(item, ids[i], actor, at, today))
        except DomainError as exc:
            broken.append(DomainError(f"placements[{i}].{exc.field}", exc.rule))
    if broken:
        raise RulesBroken(broken)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        held = set(
            (
                await uow.session.exec(
                    select(PlacementRow.placement_id).where(col(PlacementRow.placement_id).in_(ids))
                )
            ).all()
        )
        if held:
            if held != set(ids):
                raise Conflict("import_key", "used_for_a_different_batch")
            response.status_code = status.HTTP_200_OK
            rows = (
                await uow.session.exec(
                    select(PlacementRow).where(col(PlacementRow.placement_id).in_(ids))
                )
            ).all()
            by_id = {r.placement_id: r.status for r in rows}
            return _import_result(body.import_key, [(i, by_id[i]) for i in ids], replayed=True)
        await commands.record_imported(uow, actor, _key(runtime), built, body.import_key)
        open_ids = [s[-1].placement_id for s in built if not domain.is_closed(s[-1].status)]
        clocks.start_after_commit(runtime, uow, open_ids)
    return _import_result(
        body.import_key, [(s[-1].placement_id, s[-1].status.value) for s in built], replayed=False
    )


def _import_result(
    import_key: str, placed: list[tuple[str, str]], *, replayed: bool
) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for _, state in placed:
        counts[state] = counts.get(state, 0) + 1
    return {
        "import_key": import_key,
        "replayed": replayed,
        "imported": len(placed),
        "by_status": dict(sorted(counts.items())),
        "placement_ids": [pid for pid, _ in placed],
    }
