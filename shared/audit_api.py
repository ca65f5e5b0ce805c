"""The auditor's routes every service serves (role auditor only, not admin).

Search the service's audit trail by person, child, period, entity or action; export it
as CSV or JSON lines; verify its hash chain. What an auditor looks at is audited too.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from shared import audit
from shared.api_types import ApiDate
from shared.contracts.common import Role
from shared.errors import DomainError
from shared.infra_models import AuditEntry
from shared.policy import Policy, guard, rule
from shared.pseudonym import pseudonym
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, unit_of_work

router = APIRouter(prefix="/audit", tags=["audit"])
AUDIT = "the trail is the auditor's to read (not admin's: operators must not read their own trail)"
POLICY: Policy = {
    ("GET", "/audit"): rule(Role.AUDITOR, why=AUDIT),
    ("GET", "/audit/export"): rule(Role.AUDITOR, why=AUDIT),
    ("GET", "/audit/verify"): rule(Role.AUDITOR, why=AUDIT),
}
"""The audit routes' policy, part of every service's (shared/policy.py)."""
AUDITOR = Depends(guard(POLICY))
Runtime = Annotated[ServiceRuntime, Depends(runtime_of)]
PAGE_MAX = 1000
EXPORT_PAGE = 1000


class AuditRow(BaseModel):
    """One link of the chain, as stored."""

    seq: int
    at: datetime
    actor: str
    role: str
    action: str
    entity: str
    entity_id: str
    child_ref: str | None = Field(description="The child's pseudonym (never the reference)")
    details: dict[str, Any]
    correlation_id: str | None
    prev_hash: str
    row_hash: str


class AuditPage(BaseModel):
    service: str
    items: list[AuditRow]
    next_after: int | None = Field(description="Pass as `after` for the next page")


class ChainProblem(BaseModel):
    seq: int | None
    id: int | None
    problem: str


class ChainVerdict(BaseModel):
    service: str
    intact: bool
    rows: int
    head_seq: int = Field(description="Keep (seq, hash) of the head: truncation shows")
    head_hash: str
    problems: list[ChainProblem]


@dataclass
class AuditFilter:
    """What to look for; every field is optional and they combine with AND."""

    subject: str | None = None
    role: str | None = None
    child_ref: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None

    def as_details(self) -> dict[str, str]:
        return {k: str(v) for k, v in vars(self).items() if v is not None and k != "child_ref"}


def audit_filter(
    runtime: Runtime,
    subject: Annotated[str | None, Query(max_length=200, description="token subject")] = None,
    role: Annotated[str | None, Query(max_length=50)] = None,
    child_ref: Annotated[
        str | None, Query(max_length=100, description="the child's reference or pseudonym")
    ] = None,
    entity: Annotated[str | None, Query(max_length=100)] = None,
    entity_id: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[ApiDate | None, Query(description="from this day (UTC), inclusive")] = None,
    until: Annotated[ApiDate | None, Query(description="to this day (UTC), inclusive")] = None,
) -> AuditFilter:
    texts = {"subject": subject, "role": role, "child_ref": child_ref, "entity": entity}
    texts |= {"entity_id": entity_id, "action": action}
    for name, value in texts.items():
        # Checked before the export starts streaming: PostgreSQL refuses U+0000 in text,
        # and once a streamed answer has begun it can no longer become a 422.
        if value is not None and "\x00" in value:
            raise DomainError(name, "must not contain a NUL character")
    # The trail holds pseudonyms only; the reference given is turned into its pseudonym.
    child = pseudonym(child_ref, runtime.settings.pseudonym_key()) if child_ref else None
    return AuditFilter(subject, role, child, entity, entity_id, action, since, until)


Filter = Annotated[AuditFilter, Depends(audit_filter)]


def _query(f: AuditFilter, after: int) -> SelectOfScalar[AuditEntry]:
    query = select(AuditEntry).where(col(AuditEntry.seq) > after)
    for column, value in (
        (AuditEntry.actor, f.subject),
        (AuditEntry.role, f.role),
        (AuditEntry.child_ref, f.child_ref),
        (AuditEntry.entity, f.entity),
        (AuditEntry.entity_id, f.entity_id),
        (AuditEntry.action, f.action),
    ):
        if value is not None:
            query = query.where(col(column) == value)
    if f.since is not None:
        query = query.where(col(AuditEntry.at) >= datetime.combine(f.since, time(), UTC))
    if f.until is not None:
        end = datetime.combine(f.until, time(), UTC) + timedelta(days=1)
        query = query.where(col(AuditEntry.at) < end)
    return query.order_by(col(AuditEntry.seq))


def _row(entry: AuditEntry) -> AuditRow:
    return AuditRow.model_validate(entry, from_attributes=True)


async def _looked(runtime: ServiceRuntime, actor: Actor, action: str, f: AuditFilter) -> None:
    async with unit_of_work(runtime.db, runtime.source) as uow:
        uow.audit(
            actor, action, "audit_log", runtime.name, child=f.child_ref, filters=f.as_details()
        )


@router.get("")
async def search(
    runtime: Runtime,
    f: Filter,
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="seq to start after")] = 0,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 100,
    actor: Actor = AUDITOR,
) -> AuditPage:
    """The trail in chain order, filtered, a page at a time."""
    await _looked(runtime, actor, "audit.searched", f)
    async with runtime.db.session() as session:
        rows = list((await session.exec(_query(f, after).limit(limit))).all())
    items = [_row(r) for r in rows]
    next_after = items[-1].seq if len(items) == limit else None
    return AuditPage(service=runtime.name, items=items, next_after=next_after)


CSV_COLUMNS = list(AuditRow.model_fields)


@router.get("/export", response_class=StreamingResponse)
async def export(
    runtime: Runtime,
    f: Filter,
    format: Literal["csv", "jsonl"] = "jsonl",
    actor: Actor = AUDITOR,
) -> StreamingResponse:
    """Everything the filter matches, streamed: CSV (details as JSON) or JSON lines."""
    await _looked(runtime, actor, "audit.exported", f)
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    name = f"audit-{runtime.name}.{format}"
    return StreamingResponse(
        _export_lines(runtime, f, format),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _export_lines(runtime: ServiceRuntime, f: AuditFilter, format: str) -> AsyncIterator[str]:
    if format == "csv":
        yield _csv_line(CSV_COLUMNS)
    after = 0
    while True:
        async with runtime.db.session() as session:
            rows = list((await session.exec(_query(f, after).limit(EXPORT_PAGE))).all())
        for entry in rows:
            row = _row(entry).model_dump(mode="json")
            if format == "csv":
                row["details"] = json.dumps(row["details"], sort_keys=True)
                yield _csv_line([row[c] for c in CSV_COLUMNS])
            else:
                yield json.dumps(row, sort_keys=True) + "\n"
        if len(rows) < EXPORT_PAGE:
            return
        after = int(rows[-1].seq or 0)


def _csv_line(values: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(["" if v is None else v for v in values])
    return out.getvalue()


@router.get("/verify")
async def verify(runtime: Runtime, actor: Actor = AUDITOR) -> ChainVerdict:
    """Walk the whole chain: every row's hash, every link, no gap in `seq`."""
    report = await audit.verify(runtime.db)
    async with unit_of_work(runtime.db, runtime.source) as uow:
        uow.audit(actor, "audit.verified", "audit_log", runtime.name, intact=report.intact)
    return ChainVerdict(
        service=runtime.name,
        intact=report.intact,
        rows=report.rows,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
        problems=[ChainProblem(**p) for p in report.problems],
    )
