"""Every read and write of a child's record leaves an audit row (issue 13), and an
auditor, and only an auditor, can search, export and verify the trail."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from dps.audit_trail import export_one, verify_all
from shared import audit
from shared.audit_read import AuditGroup
from shared.auth import issue_token
from shared.contracts.common import Role
from shared.infra_models import AuditEntry
from shared.pseudonym import pseudonym
from shared.unit_of_work import Actor, audit_rows
from tests.conftest import RUN_TTL, TEST_SECRET
from tests.harness import client_for
from tests.service.placements.conftest import Placements

CHILD = "KCC-EHC-000700"
OFFICER = issue_token(TEST_SECRET, Role.MONITORING_OFFICER, subject="officer-jo", ttl=RUN_TTL)
COMMISSIONER = issue_token(TEST_SECRET, Role.COMMISSIONER, subject="commissioner-sam", ttl=RUN_TTL)
AUDITOR = issue_token(TEST_SECRET, Role.AUDITOR, subject="auditor-kim", ttl=RUN_TTL)


async def _audit_rows(placements: Placements, *where: Any) -> list[AuditEntry]:
    async with placements.runtime.db.session() as session:
        query = select(AuditEntry).order_by(col(AuditEntry.seq))
        for clause in where:
            query = query.where(clause)
        return list((await session.exec(query)).all())


async def test_reads_of_a_childs_records_are_audited_with_who_request_and_why(
    placements: Placements,
) -> None:
    placement = await placements.active_placement(CHILD)
    child = pseudonym(CHILD, placements.runtime.settings.pseudonym_key())
    headers = {"X-Correlation-ID": "corr-read-1", "X-Access-Reason": "SAR 2026/17"}
    async with client_for(placements.runtime, OFFICER) as client:
        got = await client.get(f"/placements/{placement.placement_id}", headers=headers)
        listed = await client.get("/needs", params={"child_ref": CHILD})
        await client.get(f"/needs/{placement.need_id}")
    assert got.status_code == 200 and listed.json()["total"] == 1

    reads = await _audit_rows(placements, col(AuditEntry.action).like("%.read"))
    assert [(r.action, r.entity_id) for r in reads] == [
        ("placement.read", placement.placement_id),
        ("need.read", placement.need_id),
        ("need.read", placement.need_id),
    ]
    first = reads[0]
    assert (first.actor, first.role) == ("officer-jo", "monitoring_officer")
    assert first.correlation_id == "corr-read-1"
    assert first.details == {"reason": "SAR 2026/17"}
    # The trail holds the child's pseudonym, never the reference (retention rewrites
    # nothing here).
    assert {r.child_ref for r in reads} == {child} and CHILD not in json.dumps(
        [r.model_dump(mode="json") for r in reads]
    )
    assert reads[1].correlation_id and reads[1].correlation_id != "corr-read-1"


async def test_writes_carry_the_child_and_the_reason(placements: Placements) -> None:
    placement = await placements.active_placement(CHILD)
    async with client_for(placements.runtime, COMMISSIONER) as client:
        ended = await client.post(
            f"/placements/{placement.placement_id}/end",
            json={"by": "council", "reason": "moved out of area", "terminate": True},
            headers={"X-Correlation-ID": "corr-write-1"},
        )
    assert ended.status_code == 200, ended.text
    [row] = await _audit_rows(placements, AuditEntry.action == "placement.end")
    assert (row.actor, row.role, row.correlation_id) == (
        "commissioner-sam",
        "commissioner",
        "corr-write-1",
    )
    assert row.child_ref == pseudonym(CHILD, placements.runtime.settings.pseudonym_key())
    assert "moved out of area" in row.details["reason"]


async def test_no_read_without_its_audit_row(placements: Placements, db_kind: str) -> None:
    placement = await placements.active_placement(CHILD)
    refuse = {
        "sqlite": [
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit store down'); END"
        ],
        "postgres": [
            "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit store down'; END $$",
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
        ],
    }[db_kind]
    async with placements.runtime.db.transaction() as session:
        for statement in refuse:
            await session.execute(text(statement))
    async with client_for(placements.runtime, OFFICER) as client:
        one = await client.get(f"/placements/{placement.placement_id}")
        many = await client.get("/placements")
    for answer in (one, many):
        assert answer.status_code == 503
        assert CHILD not in answer.text and placement.placement_id not in answer.text
    assert await _audit_rows(placements, col(AuditEntry.action).like("%.read")) == []


async def test_auditor_searches_pages_and_exports_the_trail(placements: Placements) -> None:
    first = await placements.active_placement(CHILD)
    other = await placements.active_placement("KCC-EHC-000701")
    async with client_for(placements.runtime, OFFICER) as client:
        for placement in (first, other, first):
            await client.get(f"/placements/{placement.placement_id}")
    today = datetime.now(UTC).date()
    async with client_for(placements.runtime, AUDITOR) as client:
        by_child = (await client.get("/audit", params={"child_ref": CHILD})).json()
        reads = [i for i in by_child["items"] if i["action"] == "placement.read"]
        assert [i["entity_id"] for i in reads] == [first.placement_id] * 2
        # What the service did for the child on the council's and procurement's events too.
        assert {"need.raised", "placement.created"} <= {i["action"] for i in by_child["items"]}
        assert {i["child_ref"] for i in by_child["items"]} == {
            pseudonym(CHILD, placements.runtime.settings.pseudonym_key())
        }
        by_person = (await client.get("/audit", params={"subject": "officer-jo"})).json()
        assert len(by_person["items"]) == 3 and by_person["next_after"] is None
        page = (await client.get("/audit", params={"entity": "placement", "limit": 2})).json()
        rest = (
            await client.get(
                "/audit", params={"entity": "placement", "limit": 2, "after": page["next_after"]}
            )
        ).json()
        seqs = [i["seq"] for i in page["items"] + rest["items"]]
        assert seqs == sorted(set(seqs)) and len(seqs) > 2
        yesterday = (today - timedelta(days=1)).isoformat()
        assert (await client.get("/audit", params={"until": yesterday})).json()["items"] == []
        in_period = await client.get("/audit", params={"since": today.isoformat()})
        assert len(in_period.json()["items"]) >= 3
        assert (await client.get("/audit", params={"since": "0001-01-01"})).status_code == 422

        params = {"subject": "officer-jo"}
        jsonl = await client.get("/audit/export", params={**params, "format": "jsonl"})
        lines = [json.loads(line) for line in jsonl.text.splitlines()]
        assert jsonl.headers["content-type"].startswith("application/x-ndjson")
        assert [line["entity_id"] for line in lines] == [
            first.placement_id,
            other.placement_id,
            first.placement_id,
        ]
        exported = await client.get("/audit/export", params={**params, "format": "csv"})
        table = list(csv.DictReader(io.StringIO(exported.text)))
        assert [r["row_hash"] for r in table] == [line["row_hash"] for line in lines]
        assert table[0]["role"] == "monitoring_officer" and table[0]["correlation_id"]
        verdict = (await client.get("/audit/verify")).json()
        assert verdict["intact"] and verdict["rows"] == verdict["head_seq"] > 3
    # What the auditor looked at is itself in the trail.
    looked = await _audit_rows(placements, AuditEntry.actor == "auditor-kim")
    assert {r.action for r in looked} >= {"audit.searched", "audit.exported", "audit.verified"}


async def test_only_the_auditor_reads_the_trail(placements: Placements, tokens) -> None:
    for role in Role:
        async with client_for(placements.runtime, tokens[role]) as client:
            codes = {
                (await client.get(path)).status_code
                for path in ("/audit", "/audit/export", "/audit/verify")
            }
        assert codes == ({200} if role is Role.AUDITOR else {403}), role
    async with client_for(placements.runtime) as client:
        assert (await client.get("/audit")).status_code == 401


async def test_dps_audit_verifies_and_exports_through_the_auditor_routes(
    placements: Placements, tmp_path: Path
) -> None:
    placement = await placements.active_placement(CHILD)
    async with client_for(placements.runtime, OFFICER) as client:
        await client.get(f"/placements/{placement.placement_id}")
    async with client_for(placements.runtime, AUDITOR) as client:
        [verdict] = (await verify_all({"placements": client})).values()
        assert verdict["intact"] and verdict["rows"] >= 1
        out = tmp_path / "audit.csv"
        assert await export_one(client, out, "csv", {"child_ref": CHILD}) >= 1
        assert placement.placement_id in out.read_text()
    async with client_for(placements.runtime, OFFICER) as client:
        [refused] = (await verify_all({"placements": client})).values()
    assert refused == {"intact": False, "error": "answered 403"}


async def test_reads_at_once_are_committed_together_each_as_its_own(
    placements: Placements, monkeypatch
) -> None:
    """The reads in flight at once share a transaction (shared.audit_read.AuditGroup),
    yet each row is its own request's: its correlation id and reason, in the chain."""
    placement = await placements.active_placement(CHILD)
    transactions = []
    commit = AuditGroup._commit

    async def counted(group: AuditGroup, rows: list) -> None:
        transactions.append(len(rows))
        await commit(group, rows)

    monkeypatch.setattr(AuditGroup, "_commit", counted)
    async with client_for(placements.runtime, OFFICER) as client:
        answers = await asyncio.gather(
            *(
                client.get(
                    f"/placements/{placement.placement_id}",
                    headers={"X-Correlation-ID": f"corr-{n}", "X-Access-Reason": f"case {n}"},
                )
                for n in range(8)
            )
        )
    assert [a.status_code for a in answers] == [200] * 8
    reads = await _audit_rows(placements, col(AuditEntry.action) == "placement.read")
    assert sorted((r.correlation_id, r.details["reason"]) for r in reads) == sorted(
        (f"corr-{n}", f"case {n}") for n in range(8)
    )
    assert sum(transactions) == 8 and len(transactions) < 8, transactions
    report = await audit.verify(placements.runtime.db)
    assert report.intact, report


async def test_one_reads_rows_that_cannot_be_stored_fail_no_other_read(
    placements: Placements,
) -> None:
    group = AuditGroup(placements.runtime.db)
    actor = Actor(id="officer-jo", role=Role.MONITORING_OFFICER.value)

    def rows(entity_id: str) -> list[dict]:
        return audit_rows(actor, "placement.read", "placement", [(entity_id, None)], {}, "c")

    unstorable = [{**rows("pl-bad")[0], "actor": None}]  # audit_log.actor is NOT NULL
    results = await asyncio.gather(
        group.commit(rows("pl-1")),
        group.commit(unstorable),
        group.commit(rows("pl-2")),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], Exception)
    stored = await _audit_rows(placements, col(AuditEntry.action) == "placement.read")
    assert [r.entity_id for r in stored] == ["pl-1", "pl-2"]
    assert (await audit.verify(placements.runtime.db)).intact


async def test_reads_waiting_when_the_writer_stops_are_refused_not_left_waiting(
    placements: Placements, monkeypatch
) -> None:
    group = AuditGroup(placements.runtime.db)
    stuck = asyncio.Event()

    async def never(_group: AuditGroup, _rows: list) -> None:
        await stuck.wait()

    monkeypatch.setattr(AuditGroup, "_commit", never)
    actor = Actor(id="officer-jo", role=Role.MONITORING_OFFICER.value)
    row = audit_rows(actor, "placement.read", "placement", [("pl-1", None)], {}, "c")
    first = asyncio.ensure_future(group.commit(row))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(group.commit(row))  # waits behind the first
    await asyncio.sleep(0)
    assert group._writer is not None
    group._writer.cancel()
    for waiting in (first, second):
        with pytest.raises(RuntimeError, match="audit writer stopped"):
            await asyncio.wait_for(waiting, 5)
