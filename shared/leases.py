"""Leases: one replica of a service does what must be done once per service.

A lease is a row (name, holder, expires_at) in the service's own database. A replica
claims it inside a transaction: it takes a free or expired lease, renews its own, and
leaves one another replica holds. On PostgreSQL the claim also locks the row until the
transaction ends, so a holder that does its work in the claiming transaction (the outbox
relay publishes a batch that way) is fenced: nobody can take the lease over while that
batch is in flight, and a holder that lost the lease finds out before it publishes.

Expiry is measured on each replica's clock, so clocks must agree to well within the
time to live (NTP does; the default is 15 s).
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db import Database
from shared.infra_models import LeaseRow, utcnow
from shared.metrics import LEASE_HELD


def replica_id() -> str:
    """This process, for the `holder` column: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    def __init__(
        self, service: str, name: str, *, ttl_s: float = 15.0, holder: str | None = None
    ) -> None:
        self.service = service
        self.name = name
        self.ttl = timedelta(seconds=ttl_s)
        self.holder = holder or replica_id()
        self.held = False

    async def claim(self, session: AsyncSession) -> bool:
        """Take or renew the lease inside the caller's transaction; True if we hold it."""
        now = utcnow()
        row = (
            await session.exec(
                select(LeaseRow)
                .where(col(LeaseRow.name) == self.name)
                .with_for_update(skip_locked=True)
            )
        ).first()
        if row is None:  # nobody holds it yet, or the holder is mid-transaction
            held = await self._insert(session)
        elif row.holder != self.holder and row.expires_at > now:
            held = False
        else:
            await session.exec(
                update(LeaseRow)
                .where(col(LeaseRow.name) == self.name)
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
            held = True
        self._set_held(held)
        return held

    async def _insert(self, session: AsyncSession) -> bool:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(LeaseRow)
            .values(name=self.name, holder=self.holder, expires_at=utcnow() + self.ttl)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(LeaseRow.name)  # type: ignore[arg-type]
        )
        # Nothing returned: another replica holds the row (it may be mid-transaction).
        return (await session.exec(statement)).first() is not None

    async def try_hold(self, db: Database) -> bool:
        """Claim in a transaction of its own (for jobs that run outside it)."""
        async with db.transaction() as session:
            return await self.claim(session)

    async def release(self, db: Database) -> None:
        """Give the lease up (at shutdown), so another replica need not wait for expiry."""
        async with db.transaction() as session:
            await session.exec(
                update(LeaseRow)
                .where(col(LeaseRow.name) == self.name)
                .where(col(LeaseRow.holder) == self.holder)
                .values(expires_at=utcnow())
            )
        self._set_held(False)

    def _set_held(self, held: bool) -> None:
        self.held = held
        LEASE_HELD.labels(self.service, self.name).set(1 if held else 0)
