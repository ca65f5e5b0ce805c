"""Idempotency-Key on every POST (issue 13, "Hostile input"; the rule of the IETF draft
"The Idempotency-Key HTTP Header Field", draft-ietf-httpapi-idempotency-key-header).

A client that may send a POST twice (a retry after a timeout) names it with a key:
- the same key and the same request (method, path, query and body) again get the first
  answer again (status and body, with `Idempotency-Replayed: true`), and nothing is
  created twice;
- the same key with a different request is a 409 (a key names one request);
- while the first is still being served, the same key is a 409 "in progress" with
  Retry-After: the key's row is claimed under a primary key, so of two concurrent
  requests exactly one goes through;
- a request whose change was committed but whose answer was never kept (the process died
  in between, or failed after the commit) is never carried out again: the commit marks
  the key in the same transaction (`committed_at`, through shared.db.before_commit), and
  the same key then gets a 409 "answer_lost" telling the client to read the result.
Keys are scoped per token subject (one client cannot see another's answers) and kept
DPS_IDEMPOTENCY_RETENTION_HOURS (24 h by default), then pruned. An answer of 5xx is not
kept: the request may be tried again with the same key.

Two parts: the claim runs after authentication (shared.guard, a dependency on every
route), the capture is ASGI middleware that stores the answer before the client sees it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shared.db import Database, before_commit
from shared.edge import ASGIApp, EarlyAnswer, Message, Receive, Scope, Send
from shared.infra_models import IdempotencyRecord, utcnow

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"
SCOPE_KEY = "dps.idempotency"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, as a header value can be
# A claim never completed (the process died mid-request) is given up after this long.
STALE_CLAIM = timedelta(minutes=5)


def _error(status: int, rule: str, message: str, **headers: str) -> JSONResponse:
    item = {"field": HEADER, "rule": rule, "message": message}
    return JSONResponse({"detail": [item]}, status_code=status, headers=headers)


@dataclass
class Claim:
    """What the middleware must do when the route's answer is ready."""

    db: Database | None = None
    subject: str = ""
    key: str = ""
    answer: list[Message] = field(default_factory=list)
    committed: bool = False  # a transaction of the request committed a change

    async def mark_committed(self, db: Database, session: AsyncSession) -> None:
        """Record, in the transaction about to commit, that the request changed something."""
        if self.db is not db or self.committed:
            return
        await session.exec(
            update(IdempotencyRecord)
            .where(col(IdempotencyRecord.subject) == self.subject)
            .where(col(IdempotencyRecord.key) == self.key)
            .values(committed_at=utcnow())
        )
        self.committed = True


def request_hash(method: str, path: str, query: bytes, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


async def claim(request: Request, subject: str, db: Database, retention: timedelta) -> None:
    """Claim the request's Idempotency-Key for `subject`, or raise the answer to give."""
    key = request.headers.get(HEADER)
    holder: Claim | None = request.scope.get(SCOPE_KEY)
    if key is None or request.method != "POST" or holder is None:
        return
    if not KEY_PATTERN.fullmatch(key):
        raise EarlyAnswer(_error(422, "invalid", "1 to 255 visible ASCII characters (e.g. a UUID)"))
    digest = request_hash(
        request.method,
        request.url.path,
        request.scope.get("query_string", b""),
        await request.body(),
    )
    now = utcnow()
    try:
        async with db.transaction() as session:
            row = await session.get(IdempotencyRecord, (subject, key))
            if row is not None and _expired(row, now, retention):
                await session.delete(row)
                await session.flush()
                row = None
            if row is not None:
                raise EarlyAnswer(_answer_for(row, digest))
            session.add(
                IdempotencyRecord(subject=subject, key=key, request_hash=digest, created_at=now)
            )
    except IntegrityError:  # a concurrent request claimed it first
        raise EarlyAnswer(_in_progress()) from None
    holder.db, holder.subject, holder.key = db, subject, key


def _expired(row: IdempotencyRecord, now: datetime, retention: timedelta) -> bool:
    """Past its retention, or claimed by a request that died before changing anything."""
    age = now - row.created_at
    abandoned = row.status_code is None and row.committed_at is None and age > STALE_CLAIM
    return age > retention or abandoned


def _answer_lost(committed_at: datetime) -> JSONResponse:
    return _error(
        409,
        "answer_lost",
        f"the request with this key was carried out at {committed_at.isoformat()}, but "
        "its answer was lost when the service stopped; it will not be carried out again: "
        "read the record to see the result",
    )


def _in_progress() -> JSONResponse:
    return _error(
        409, "in_progress", "a request with this key is still being served", **{"Retry-After": "1"}
    )


def _answer_for(row: IdempotencyRecord, digest: str) -> Response:
    if row.request_hash != digest:
        return _error(
            409,
            "reused",
            "this key was used for a different request; a key names one request "
            "(same method, path, query and body): use a new key for a new request",
        )
    if row.status_code is None:
        if row.committed_at is not None and utcnow() - row.created_at > STALE_CLAIM:
            return _answer_lost(row.committed_at)
        return _in_progress()
    headers = {REPLAYED_HEADER: "true"}
    if row.content_type:
        headers["content-type"] = row.content_type
    return Response(row.response_body or b"", status_code=row.status_code, headers=headers)


async def _store(
    holder: Claim, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    assert holder.db is not None
    changed, holder.committed = holder.committed, True  # storing is not the request's change
    async with holder.db.transaction() as session:
        row = await session.get(IdempotencyRecord, (holder.subject, holder.key))
        if row is None:
            return
        if status >= 500 and not changed:  # nothing done: the client may try again
            await session.delete(row)
            return
        if status >= 500:  # failed after its change was committed: never again
            _keep(row, _answer_lost(row.committed_at or utcnow()))
            return
        row.status_code = status
        row.content_type = next(
            (v.decode("latin-1") for k, v in headers if k.lower() == b"content-type"), None
        )
        row.response_body = body


def _keep(row: IdempotencyRecord, answer: JSONResponse) -> None:
    row.status_code = answer.status_code
    row.content_type = answer.media_type
    row.response_body = bytes(answer.body)


async def _release(holder: Claim) -> None:
    """The route failed before answering: free the key, unless its change was committed."""
    assert holder.db is not None
    changed, holder.committed = holder.committed, True
    async with holder.db.transaction() as session:
        row = await session.get(IdempotencyRecord, (holder.subject, holder.key))
        if row is not None and changed:
            _keep(row, _answer_lost(row.committed_at or utcnow()))
        elif row is not None:
            await session.delete(row)


class IdempotencyCapture:
    """Keep the answer of a claimed request before it is sent (ASGI middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        holder = Claim()
        scope[SCOPE_KEY] = holder
        marking = before_commit.set(holder.mark_committed)
        held: list[Message] = []

        async def keep(message: Message) -> None:
            if holder.db is None:  # nothing claimed: pass the answer straight on
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                start = held[0]
                body = b"".join(m.get("body", b"") for m in held[1:])
                await _store(holder, start["status"], list(start.get("headers", [])), body)
                holder.db = None  # stored: nothing to release
                for kept in held:
                    await send(kept)

        try:
            await self.app(scope, receive, keep)
        finally:
            if holder.db is not None:  # the route failed before answering
                await _release(holder)
            before_commit.reset(marking)


async def prune(db: Database, retention: timedelta) -> int:
    """Delete keys older than `retention`; how many went."""
    async with db.transaction() as session:
        result: Any = await session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - retention)  # type: ignore[arg-type]
        )
        return int(result.rowcount or 0)
