"""`dps providers import FILE` (services.provider_registry.cli): load a DfE GIAS establishment extract into the register.

Rows go through the same domain rules and unit of work as the HTTP API (events through
the outbox, audit entries), straight against the service's own database. Rows are
written in batches (one transaction each) because one transaction per row makes a
3,000-row import take minutes on SQLite; every row in a batch has already passed the
rules, so a batch either lands whole or not at all.
"""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from rich.console import Console
from rich.progress import Progress
from sqlmodel import col, select

from services.provider_registry import commands, domain, gias
from services.provider_registry.app import definition
from services.provider_registry.models import (
    InspectionRow,
    ProviderRow,
)
from shared import geography
from shared.contracts import providers_v1
from shared.db import Database, migrate
from shared.infra_models import utcnow
from shared.settings import settings_for
from shared.unit_of_work import Actor, unit_of_work

BATCH_SIZE = 250
FIRST_DATA_LINE = 2  # line 1 of the file is the header


@dataclass
class Rejection:
    line: int
    urn: str
    reasons: tuple[str, ...]


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    closed: int = 0  # known providers whose establishment closed: removed
    suspended: int = 0  # known providers whose establishment is proposed to close


@dataclass(frozen=True)
class _Closing:
    """A closed establishment's row: it closes the provider known by its URN, if any."""

    line: int
    urn: int
    rejection: Rejection  # reported when the register does not know the URN


@dataclass(frozen=True)
class _Accepted:
    line: int
    draft: domain.ProviderDraft
    inspection: domain.Inspection | None
    closure: domain.EstablishmentClosure | None = None


def _sort_rows(
    rows: Sequence[dict[str, str]], today: date, summary: ImportSummary
) -> tuple[list[_Accepted], list[_Closing]]:
    """Parse every row; rejections (and URNs repeated in the file) go to the summary,
    closed establishments with a readable URN to the closings."""
    accepted: list[_Accepted] = []
    closing: list[_Closing] = []
    first_line: dict[int, int] = {}
    for index, raw in enumerate(rows):
        line = index + FIRST_DATA_LINE
        parsed = gias.parse_gias_row(raw, today, geography.locate)
        if parsed.draft is None:
            reasons = tuple(f"{r.field}: {r.rule}" for r in parsed.reasons)
            rejection = Rejection(line, parsed.urn, reasons)
            if parsed.closure is domain.EstablishmentClosure.CLOSED and parsed.urn.isdigit():
                closing.append(_Closing(line, int(parsed.urn), rejection))
            else:
                summary.rejected.append(rejection)
            continue
        urn = parsed.draft.urn
        if urn in first_line:
            reason = f"URN: repeats line {first_line[urn]} of this file"
            summary.rejected.append(Rejection(line, parsed.urn, (reason,)))
            continue
        first_line[urn] = line
        accepted.append(_Accepted(line, parsed.draft, parsed.inspection, parsed.closure))
    return accepted, closing


async def _write_batch(
    db: Database, actor: Actor, batch: list[_Accepted], today: date, summary: ImportSummary
) -> None:
    async with unit_of_work(db, "dps/provider_registry") as uow:
        urns = [item.draft.urn for item in batch]
        found = await uow.session.exec(select(ProviderRow).where(col(ProviderRow.urn).in_(urns)))
        by_urn = {row.urn: row for row in found.all()}
        histories: list[InspectionRow | None] = []
        for item in batch:
            row = by_urn.get(item.draft.urn)
            if row is None:
                histories.append(
                    commands.import_new_provider(
                        uow, actor, item.draft, item.inspection, today, item.line
                    )
                )
                summary.created += 1
            elif row.status == providers_v1.ProviderStatus.REMOVED.value:
                reason = "URN: the provider was removed from the register; not re-imported"
                summary.rejected.append(Rejection(item.line, str(item.draft.urn), (reason,)))
            else:
                changed, history = commands.import_update(
                    uow, actor, row, item.draft, item.inspection, today
                )
                histories.append(history)
                if item.closure is not None and commands.close_establishment(
                    uow, actor, row, item.closure, utcnow()
                ):
                    summary.suspended += 1
                else:
                    summary.updated += changed
                    summary.unchanged += not changed
        # Providers first: the session does not order inserts by the foreign key.
        await uow.session.flush()
        uow.session.add_all([history for history in histories if history is not None])


async def _write_closings(
    db: Database, actor: Actor, closing: list[_Closing], summary: ImportSummary
) -> None:
    async with unit_of_work(db, "dps/provider_registry") as uow:
        urns = [item.urn for item in closing]
        found = await uow.session.exec(select(ProviderRow).where(col(ProviderRow.urn).in_(urns)))
        by_urn = {row.urn: row for row in found.all()}
        for item in closing:
            row = by_urn.get(item.urn)
            if row is None:
                summary.rejected.append(item.rejection)  # never registered: nothing to close
            elif commands.close_establishment(
                uow, actor, row, domain.EstablishmentClosure.CLOSED, utcnow()
            ):
                summary.closed += 1
            else:
                summary.unchanged += 1  # already removed


async def import_extract(
    text: str,
    db: Database,
    *,
    actor: Actor,
    today: date | None = None,
    progress: Callable[[int], None] = lambda _n: None,
) -> ImportSummary:
    """Create or update providers from the extract's text; reports each row's fate."""
    today = today or date.today()
    summary = ImportSummary()
    rows = gias.read_extract_csv(text)
    accepted, closing = _sort_rows(rows, today, summary)
    progress(len(rows) - len(accepted) - len(closing))
    for start in range(0, len(accepted), BATCH_SIZE):
        batch = accepted[start : start + BATCH_SIZE]
        await _write_batch(db, actor, batch, today, summary)
        progress(len(batch))
    for start in range(0, len(closing), BATCH_SIZE):
        await _write_closings(db, actor, closing[start : start + BATCH_SIZE], summary)
        progress(len(closing[start : start + BATCH_SIZE]))
    summary.rejected.sort(key=lambda rejection: rejection.line)
    return summary


async def _run_import(name: str, text: str, console: Console) -> ImportSummary:
    settings = settings_for("provider_registry")
    url = settings.effective_database_url()
    await asyncio.to_thread(migrate, url, definition.migrations_dir)
    db = Database(url)
    total = max(0, text.count("\n") - 1)
    actor = Actor(id=f"cli:{getpass.getuser()}", role="admin")
    try:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"importing {name}", total=total)
            return await import_extract(
                text, db, actor=actor, progress=lambda n: bar.advance(task, n)
            )
    finally:
        await db.dispose()


def print_summary(summary: ImportSummary, console: Console) -> None:
    console.print(
        f"created {summary.created}, updated {summary.updated}, "
        f"unchanged {summary.unchanged}, rejected {len(summary.rejected)}; "
        f"closed {summary.closed}, suspended as proposed to close {summary.suspended}"
    )
    for rejection in summary.rejected:
        console.print(
            f"  line {rejection.line} (URN {rejection.urn or '?'}): {'; '.join(rejection.reasons)}",
            highlight=False,
            markup=False,
        )
