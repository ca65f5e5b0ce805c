"""The canonical form a chain link's hash is taken over must never change (a changed
form would make every stored chain look tampered with)."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.audit import GENESIS, canonical_v1, check, link, row_hash
from shared.infra_models import AuditEntry


def _entry(**overrides: object) -> AuditEntry:
    values: dict[str, object] = {
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
    return AuditEntry(**{**values, **overrides})


def test_canonical_form_v1_is_fixed() -> None:
    [entry] = [_entry()]
    link([entry], 0, GENESIS)
    assert canonical_v1(entry) == (
        b'{"action":"placement.read","actor":"officer-jo","at":"2026-12-04T23:30:00.123456+00:00",'
        b'"child_ref":"PSN-abc","correlation_id":"corr-1","details":{"b":[1,2],'
        b'"reason":"SAR 2026/17"},"entity":"placement","entity_id":"pl-1","prev_hash":"'
        + GENESIS.encode()
        + b'","role":"monitoring_officer","seq":1}'
    )
    # SQLite hands the time back without its zone: the same row, the same hash.
    naive = _entry(at=datetime(2026, 12, 4, 23, 30, 0, 123456))
    naive.seq, naive.prev_hash = 1, GENESIS
    assert row_hash(naive) == entry.row_hash


def test_check_names_each_broken_link() -> None:
    rows = [_entry(entity_id=f"pl-{i}") for i in range(4)]
    link(rows, 0, GENESIS)
    assert check(rows).intact
    rows[1].details = {"reason": "changed"}
    report = check([rows[0], rows[1], rows[3]])
    assert [(p["seq"], p["problem"]) for p in report.problems] == [
        (2, "row_hash does not match the row's content"),
        (4, "seq 4 follows 2: rows are missing"),
        (4, "prev_hash is not the previous row's hash"),
    ]
