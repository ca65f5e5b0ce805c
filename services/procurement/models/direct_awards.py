"""Direct awards (Procurement Act 2023 s.41, Schedule 5) and their mapping to the domain."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Field

from services.procurement.domain.direct_awards import DirectAward, DirectAwardGround
from services.procurement.models._base import ProcurementModel, _aware, _json


class DirectAwardRow(ProcurementModel, table=True):
    """A recorded direct award: its ground, why, and what must precede the contract."""

    __tablename__ = "direct_award"

    id: str = Field(primary_key=True, max_length=36)
    ground: str = Field(max_length=40, index=True)
    justification: str = Field(max_length=5000)
    provider_id: str = Field(max_length=36, index=True)
    scheme_id: str | None = Field(default=None, max_length=36, index=True)
    need_ref: str | None = Field(default=None, max_length=100)
    contract_value: str = Field(max_length=20)
    start_date: date
    end_date: date | None = None
    light_touch: bool = True
    decided_by: str = Field(max_length=200)
    decided_at: datetime = _aware()
    requires_transparency_notice: bool
    requires_contract_award_notice: bool
    standstill_applies: bool
    standstill_mandatory: bool
    standstill_working_days: int | None = None
    standstill_reason: str = Field(max_length=2000)
    sources: list[str] = _json()


def direct_award_row(a: DirectAward) -> DirectAwardRow:
    return DirectAwardRow(
        id=a.direct_award_id,
        ground=a.ground.value,
        justification=a.justification,
        provider_id=a.provider_id,
        scheme_id=a.scheme_id,
        need_ref=a.need_ref,
        contract_value=str(a.contract_value),
        start_date=a.start_date,
        end_date=a.end_date,
        light_touch=a.light_touch,
        decided_by=a.decided_by,
        decided_at=a.decided_at,
        requires_transparency_notice=a.requires_transparency_notice,
        requires_contract_award_notice=a.requires_contract_award_notice,
        standstill_applies=a.standstill_applies,
        standstill_mandatory=a.standstill_mandatory,
        standstill_working_days=a.standstill_working_days,
        standstill_reason=a.standstill_reason,
        sources=list(a.sources),
    )


def direct_award_to_domain(row: DirectAwardRow) -> DirectAward:
    return DirectAward(
        direct_award_id=row.id,
        ground=DirectAwardGround(row.ground),
        justification=row.justification,
        provider_id=row.provider_id,
        scheme_id=row.scheme_id,
        need_ref=row.need_ref,
        contract_value=Decimal(row.contract_value),
        start_date=row.start_date,
        end_date=row.end_date,
        light_touch=row.light_touch,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        requires_transparency_notice=row.requires_transparency_notice,
        requires_contract_award_notice=row.requires_contract_award_notice,
        standstill_applies=row.standstill_applies,
        standstill_mandatory=row.standstill_mandatory,
        standstill_working_days=row.standstill_working_days,
        standstill_reason=row.standstill_reason,
        sources=tuple(row.sources),
    )


def direct_award_view(a: DirectAward) -> dict[str, Any]:
    rule = a.rule
    return {
        "direct_award_id": a.direct_award_id,
        "ground": a.ground.value,
        "ground_title": rule.title,
        "ground_source": rule.source,
        "justification": a.justification,
        "provider_id": a.provider_id,
        "scheme_id": a.scheme_id,
        "need_ref": a.need_ref,
        "contract_value": a.contract_value,
        "start_date": a.start_date,
        "end_date": a.end_date,
        "light_touch": a.light_touch,
        "decided_by": a.decided_by,
        "decided_at": a.decided_at,
        "requires_transparency_notice": a.requires_transparency_notice,
        "transparency_source": rule.transparency_source,
        "requires_contract_award_notice": a.requires_contract_award_notice,
        "contract_award_notice_source": rule.contract_award_notice_source,
        "standstill_applies": a.standstill_applies,
        "standstill_mandatory": a.standstill_mandatory,
        "standstill_working_days": a.standstill_working_days,
        "standstill_reason": a.standstill_reason,
        "sources": list(a.sources),
    }
