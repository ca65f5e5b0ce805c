"""Auditing reads of a child's record: a dependency every such route takes.

A route that returns a need, a plan, a placement or anything else linked to a child
takes `reads: ReadAudit = READS` and, once it has what it will return,
calls `await reads.record(actor, "placement", [(placement_id, child_ref), ...])`. That
commits one audit row per record returned (who, role, the request's correlation id, the
child's pseudonym, and the reason the caller gave in `X-Access-Reason`) before the
answer leaves. If the rows cannot be written the route answers 503 and returns nothing:
there is no read without its audit row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, status

from shared.logging import get_logger
from shared.pseudonym import pseudonym
from shared.runtime import ServiceRuntime, runtime_of
from shared.unit_of_work import Actor, unit_of_work

log = get_logger(__name__)

REASON_HEADER = "X-Access-Reason"
NOT_AUDITED = "the read could not be recorded in the audit trail, so nothing is returned"

# (entity id, the child's reference or pseudonym, or None when the record names no child)
Record = tuple[str, str | None]


class ReadAudit:
    """Records the reads of one request."""

    def __init__(self, runtime: ServiceRuntime, reason: str | None) -> None:
        self.runtime = runtime
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
            async with unit_of_work(self.runtime.db, self.runtime.source) as uow:
                uow.audit_each(
                    actor,
                    f"{entity}.read",
                    entity,
                    [
                        (entity_id, children[child_ref] if child_ref else None)
                        for entity_id, child_ref in records
                    ],
                    **details,
                )
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


async def read_audit(  # async: FastAPI runs a plain function's dependency in a thread
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
    return ReadAudit(runtime, reason)


READS = Depends(read_audit)
