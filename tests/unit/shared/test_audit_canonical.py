"""The canonical form a chain link's hash is taken over must never change (a changed
form would make every stored chain look tampered with)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.audit import GENESIS, ChainReport, canonical_v1, check, link, row_hash
from shared.infra_models import AuditEntry


def _staged(**overrides: object) -> dict[str, Any]:
    """A row as the unit of work stages it (shared.audit.Row)."""
    values: dict[str, Any] = {
        "at": datetime(2026, 12, 4, 23, 30, 0, 123456, tzinfo=UTC),
        "actor": "officer-jo",
        "role": "monitoring_officer",
        "action": "placement.read",
        "entity": "placement",
        "entity_id": "pl-1",
        "child_ref": "PSN-abc",
        "details": {"reason": "SAR 2026/17", "b": [1, 2]},
        "correlation_id": "corr-1",
    }
    return {**values, **overrides}


def _linked(*staged: dict[str, Any]) -> list[AuditEntry]:
    """Link staged rows and read them back as the AuditEntry rows they become."""
    rows = list(staged)
    link(rows, 0, GENESIS)
    return [AuditEntry(**row) for row in rows]


def test_canonical_form_v1_is_fixed() -> None:
    [entry] = _linked(_staged())
    assert canonical_v1(entry) == (
        b'{"action":"placement.read","actor":"officer-jo","at":"2026-12-04T23:30:00.123456+00:00",'
        b'"child_ref":"PSN-abc","correlation_id":"corr-1","details":{"b":[1,2],'
        b'"reason":"SAR 2026/17"},"entity":"placement","entity_id":"pl-1","prev_hash":"'
        + GENESIS.encode()
        + b'","role":"monitoring_officer","seq":1}'
    )
    # The hash `link` gave the staged row is the one verifying the stored row computes.
    assert entry.row_hash == row_hash(entry)
    # SQLite hands the time back without its zone: the same row, the same hash.
    naive = AuditEntry(**_staged(at=datetime(2026, 12, 4, 23, 30, 0, 123456)))
    naive.seq, naive.prev_hash = 1, GENESIS
    assert row_hash(naive) == entry.row_hash


def test_link_chains_a_batch_after_the_tail() -> None:
    rows = [_staged(entity_id=f"pl-{i}", child_ref=None) for i in range(3)]
    assert link(rows, 41, "f" * 64) == (44, rows[-1]["row_hash"])
    assert [(r["seq"], r["prev_hash"]) for r in rows] == [
        (42, "f" * 64),
        (43, rows[0]["row_hash"]),
        (44, rows[1]["row_hash"]),
    ]
    entries = [AuditEntry(**row) for row in rows]
    assert [row_hash(e) for e in entries] == [r["row_hash"] for r in rows]
    report = check(entries, ChainReport(head_seq=41, head_hash="f" * 64))
    assert report.intact and report.head_seq == 44


def test_check_names_each_broken_link() -> None:
    rows = _linked(*(_staged(entity_id=f"pl-{i}") for i in range(4)))
    assert check(rows).intact
    rows[1].details = {"reason": "changed"}
    report = check([rows[0], rows[1], rows[3]])
    assert [(p["seq"], p["problem"]) for p in report.problems] == [
        (2, "row_hash does not match the row's content"),
        (4, "seq 4 follows 2: rows are missing"),
        (4, "prev_hash is not the previous row's hash"),
    ]


def _v1_by_definition(row: dict[str, Any]) -> bytes:
    """Version 1 as first written: sorted-key compact JSON of the columns."""
    at: datetime = row["at"]
    at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    body = {**row, "at": at.isoformat(timespec="microseconds")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# Any text a column can hold (no lone surrogates): quotes, backslashes, control
# characters and non-ASCII included.
_text = st.text(st.characters(exclude_categories=["Cs"]))
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)
_zones = st.none() | st.just(UTC) | st.just(timezone(timedelta(hours=1)))
_rows = st.fixed_dictionaries(
    {
        "at": st.datetimes(timezones=_zones),
        "actor": _text,
        "role": _text,
        "action": _text,
        "entity": _text,
        "entity_id": _text,
        "child_ref": st.none() | _text,
        "details": st.dictionaries(_text, _json, max_size=4),
        "correlation_id": st.none() | _text,
    }
)


@given(st.lists(_rows, min_size=1, max_size=4), st.integers(0, 2**40))
def test_link_and_canonical_v1_are_the_definition(rows: list[dict[str, Any]], after: int) -> None:
    """The written-out form gives, byte for byte, the sorted-key JSON it stands for."""
    staged = [dict(row) for row in rows]
    link(staged, after, GENESIS)
    prev_hash = GENESIS
    for seq, (row, linked) in enumerate(zip(rows, staged, strict=True), start=after + 1):
        canonical = _v1_by_definition({**row, "seq": seq, "prev_hash": prev_hash})
        assert linked["row_hash"] == hashlib.sha256(canonical).hexdigest()
        assert canonical_v1(AuditEntry(**linked)) == canonical
        prev_hash = linked["row_hash"]
