"""Auditing reads of a child's record: a dependency every such route takes.

A route that returns a need, a plan, a placement or anything else linked to a child
takes `reads: ReadAudit = READS` and, once it has what it will return,
calls `await reads.record(actor, "placement", [(placement_id, child_ref), ...])`. That
commits one audit row per record returned (who, role, the request's correlation id, the
child's pseudonym, and the reason the caller gave in `X-Access-Reason`) before the
answer leaves. If the rows cannot be written the route answers 503 and returns nothing:
there is no read without its audit row.

The rows of the reads in flight at once are committed together (`AuditGroup`): one
transaction, and one turn of the chain's lock, for all of them, instead of one each.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request, status

from shared import audit
from shared.db import Database
from shared.logging import get_logger
from shared.pseudonym import pseudonym
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, audit_rows, current_correlation_id

log = get_logger(__name__)

REASON_HEADER = "X-Access-Reason"
NOT_AUDITED = "the read could not be recorded in the audit trail, so nothing is returned"

# (entity id, the child's reference or pseudonym, or None when the record names no child)
Record = tuple[str, str | None]


class ReadAudit:
    """Records the reads of one request."""

    def __init__(self, runtime: ServiceRuntime, group: AuditGroup, reason: str | None) -> None:
        self.runtime = runtime
        self.group = group
        self.reason = reason

    async def record(
        self, actor: Actor, entity: str, records: Iterable[Record], **details: Any
    ) -> None:
        """Commit one `<entity>.read` row per record; raise 503 if that fails."""
        records = list(records)
        if not records:
            return
        if self.reason:
            details["reason"] = self.reason
        try:
            children = self._pseudonyms({child_ref for _, child_ref in records if child_ref})
            rows = audit_rows(
                actor,
                f"{entity}.read",
                entity,
                [
                    (entity_id, children[child_ref] if child_ref else None)
                    for entity_id, child_ref in records
                ],
                details,
                current_correlation_id.get(),
            )
            await self.group.commit(rows)
        except Exception as exc:
            log.error("audit.read_not_recorded", entity=entity, error=repr(exc))
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=NOT_AUDITED) from exc

    def _pseudonyms(self, child_refs: set[str]) -> dict[str, str]:
        # Once per child, not per record (a list is often one child's), and the key is
        # read only when a record names a child.
        if not child_refs:
            return {}
        key = self.runtime.settings.pseudonym_key()
        return {child_ref: pseudonym(child_ref, key) for child_ref in child_refs}


class AuditGroup:
    """Commits the audit rows of the reads waiting at once in one transaction.

    A read hands over its rows and waits for them to be committed: the first starts a
    writer, which commits what is waiting, then what arrived meanwhile, until nothing
    is. A transaction that fails is tried again for each read alone, so one read's rows
    (a reason PostgreSQL cannot store, say) never fail another's.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._waiting: list[tuple[list[audit.Row], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def commit(self, rows: list[audit.Row]) -> None:
        """Return once `rows` are committed; raise what kept them from it."""
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((rows, done))
        if self._writer is None or self._writer.done():
            # In a context of its own: its statements are no one request's.
            self._writer = asyncio.create_task(self._write(), context=contextvars.Context())
        await asyncio.shield(done)  # a read given up on leaves the others' write alone

    async def _write(self) -> None:
        group: list[tuple[list[audit.Row], asyncio.Future[None]]] = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                await self._commit_group(group)
        finally:  # cancelled (the process stopping): nothing waits for ever
            for _, done in [*group, *self._waiting]:
                _settle(done, RuntimeError("the audit writer stopped"))
            self._waiting = []

    async def _commit_group(
        self, group: list[tuple[list[audit.Row], asyncio.Future[None]]]
    ) -> None:
        try:
            await self._commit([row for rows, _ in group for row in rows])
        except Exception as exc:
            if len(group) == 1:
                _settle(group[0][1], exc)
                return
            for rows, done in group:  # each alone: one read's rows fail no other's
                try:
                    await self._commit(rows)
                except Exception as alone:
                    _settle(done, alone)
                else:
                    _settle(done, None)
        else:
            for _, done in group:
                _settle(done, None)

    async def _commit(self, rows: list[audit.Row]) -> None:
        await audit.append(self.db, rows)


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)


async def read_audit(  # async: FastAPI runs a plain function's dependency in a thread
    request: Request,
    runtime: Annotated[ServiceRuntime, Depends(runtime_of)],
    reason: Annotated[
        str | None,
        Header(
            alias=REASON_HEADER,
            max_length=500,
            description="Why the record is read (e.g. a case or request number); kept in "
            "the audit trail",
        ),
    ] = None,
) -> ReadAudit:
    group = getattr(request.app.state, "read_audits", None)
    if group is None:  # one per app, so one per service's database
        group = request.app.state.read_audits = AuditGroup(runtime.db)
    return ReadAudit(runtime, group, reason)


READS = Depends(read_audit)
