"""Statutory returns from the placements held: the SEN2 placement detail (JSON or the
specification's XML) and the Transparency Code's quarterly contracts list (CSV).

See docs/law/returns.md for what each field is and where its rule comes from.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from services.placements import domain, store
from services.placements.domain import returns
from services.placements.policy import ALLOWED
from shared import clock
from shared.audit_read import READS, ReadAudit
from shared.contracts.placements_v1 import PlacementSource
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor

router = APIRouter(tags=["returns"])

SEN2_FORMATS = {"json": "application/json", "xml": "application/xml"}
DEFAULT_DEPARTMENT = "Children's Services: SEND commissioning"


class Sen2Format(StrEnum):
    JSON = "json"
    XML = "xml"


def _release() -> str:
    try:
        return version("send-dps")
    except PackageNotFoundError:  # running from a source tree without its metadata
        return "dev"


async def _sen2(runtime: ServiceRuntime, year: int) -> returns.Sen2Return:
    first, _ = returns.collection_year(year)
    async with runtime.db.session() as session:
        placements = await store.placements_attended_between(
            session, first, returns.census_date(year)
        )
        providers = await store.providers_held(session, {p.provider_id for p in placements})
    details = []
    for p in placements:
        entry = p.started_on or p.start_date
        if not returns.in_scope(entry, p.last_day, year):
            continue
        held = providers.get(p.provider_id)
        details.append(
            returns.sen2_placement(
                child_ref=p.child_ref,
                placement_id=p.placement_id,
                urn=held.urn if held else None,
                entry_date=entry,
                ended_on=p.end_date,
                attendance=p.attendance,
                year=year,
                establishment_type=held.provider_type if held else None,
            )
        )
    return returns.build_return(details, year)


def _sen2_view(sen2: returns.Sen2Return) -> dict[str, Any]:
    return {
        "collection": "SEN2",
        "year": sen2.year,
        "census_date": sen2.census_date,
        "collection_year": {"from": sen2.collection_start, "to": sen2.collection_end},
        "keyed_by": "child_ref: the council's pseudonymous reference, to join with the "
        "person module of its case-management system (no names, UPN or birth dates here)",
        "valid": sen2.valid,
        "issues": [issue.to_dict() for issue in sen2.issues],
        "placements": [
            {
                "child_ref": p.child_ref,
                "placement_id": p.placement_id,
                "URN": p.urn,
                "UKPRN": p.ukprn,
                "SENsetting": p.sen_setting,
                "PlacementRank": p.placement_rank,
                "EntryDate": p.entry_date,
                "LeavingDate": p.leaving_date,
                "AttendancePattern": p.attendance_pattern,
                "SENunitIndicator": p.sen_unit_indicator,
                "ResourcedProvisionIndicator": p.resourced_provision_indicator,
                "establishment_type": p.establishment_type,
            }
            for p in sen2.placements
        ],
    }


@router.get(
    "/returns/sen2",
    responses={200: {"content": {"application/xml": {"schema": {"type": "string"}}}}},
)
async def sen2_return(
    year: int = Query(ge=2023, le=2100, description="the January census year, e.g. 2027"),
    format: Sen2Format = Sen2Format.JSON,
    la_code: str | None = Query(
        default=None, pattern=r"^\d{3}$", description="the council's 3-digit LA number"
    ),
    actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
    reads: ReadAudit = READS,
) -> Any:
    """The SEN2 placement detail of every child whose placement was attended between the
    start of the collection year and census day, with the rules it breaks (if any)."""
    sen2 = await _sen2(runtime, year)
    # Every child's placement returned is a read of that child's record.
    await reads.record(
        actor,
        "placement",
        [(p.placement_id, p.child_ref) for p in sen2.placements],
        purpose=f"SEN2 {year}",
    )
    if format == Sen2Format.XML:
        body = returns.sen2_xml(sen2, la_code=la_code, generated_at=clock.now(), release=_release())
        return Response(body, media_type=SEN2_FORMATS["xml"])
    return _sen2_view(sen2)


def _value(amounts: dict[int, Decimal]) -> Decimal:
    return sum(amounts.values(), Decimal("0.00"))


def _next_review(placement: domain.Placement) -> date | None:
    due = [r.due_on for r in placement.reviews if r.outcome is None]
    return min(due) if due else None


async def _contract_lines(
    runtime: ServiceRuntime, quarter: tuple[date, date], department: str
) -> list[returns.ContractLine]:
    first, last = quarter
    async with runtime.db.session() as session:
        placements = await store.placements_attended_between(session, first, last)
        blocks = await store.blocks_in_force_between(session, first, last)
        providers = await store.providers_held(
            session, {p.provider_id for p in placements} | {b.provider_id for b in blocks}
        )
    lines: list[returns.ContractLine] = []
    for p in placements:
        if p.source == PlacementSource.BLOCK_CONTRACT or p.last_day is None:
            continue  # a block's place is part of the block contract, listed once below
        held = providers.get(p.provider_id)
        lines.append(
            returns.placement_contract_line(
                reference=p.competition_ref or p.placement_id,
                provider_name=held.name if held else p.provider_id,
                establishment_type=held.provider_type if held else None,
                primary_need=p.primary_need.value,
                attendance=p.attendance,
                source=p.source.value,
                value=_value(domain.committed_spend_by_financial_year(p)),
                start=p.start_date,
                end=p.last_day,
                review_date=_next_review(p),
                department=department,
            )
        )
    for b in blocks:
        held = providers.get(b.provider_id)
        lines.append(
            returns.block_contract_line(
                reference=b.competition_ref or b.block_contract_id,
                provider_name=held.name if held else b.provider_id,
                primary_need=b.primary_need.value,
                attendance=b.attendance,
                places=b.places,
                competed=b.competition_ref is not None,
                value=_value(domain.block_cost_by_financial_year(b)),
                start=b.term_start,
                end=b.term_end,
                review_date=domain.block_renewal_decision_date(b),
                department=department,
            )
        )
    return lines


@router.get(
    "/returns/transparency-contracts.csv",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def transparency_contracts(
    quarter: str = Query(pattern=r"^\d{4}-[Qq][1-4]$", description="e.g. 2026-Q3 (Jul-Sep)"),
    department: str = Query(default=DEFAULT_DEPARTMENT, min_length=1, max_length=200),
    _actor: Actor = ALLOWED,
    runtime: ServiceRuntime = Depends(runtime_of),
) -> Response:
    """Placements and block contracts over £5,000 in force in the quarter, as the
    Transparency Code's CSV; no row names or points to a child, so no read is audited."""
    bounds = returns.quarter_bounds(quarter)
    lines = await _contract_lines(runtime, bounds, department)
    filename = f"transparency-contracts-{quarter.upper()}.csv"
    return Response(
        returns.contracts_csv(lines),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
