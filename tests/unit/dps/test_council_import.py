"""dps.council_import: caseload rows to CloudEvents, by line, with ids from the content."""

from __future__ import annotations

import pytest

from dps import council_import

HEADER = ",".join(council_import.CASELOAD_COLUMNS)
ROW = "KCC-1,886,2014-05-01,,ASD,SLCN;MLD,day,ME14,2025-01-10,2026-01-09,"


def test_a_row_is_an_issued_plan_with_an_id_from_its_content() -> None:
    [row] = council_import.read_rows(f"{HEADER}\n{ROW}\n")
    [issued] = council_import.row_events(row)
    assert issued["type"] == "ehc.plan.issued" and issued["subject"] == "KCC-1"
    assert issued["data"]["secondary_needs"] == ["SLCN", "MLD"]
    assert issued["data"]["ehc_plan"] == {
        "issued_on": "2025-01-10",
        "next_review_due": "2026-01-09",
    }
    assert "year_group" not in issued["data"]
    assert council_import.row_events(dict(row))[0]["id"] == issued["id"]  # same row, same id
    changed = council_import.row_events({**row, "primary_need": "SEMH"})[0]
    assert changed["id"] != issued["id"]  # a changed row is a new event


def test_a_last_review_adds_a_reviewed_event() -> None:
    [row] = council_import.read_rows(f"{HEADER}\n{ROW}2025-06-01\n")
    issued, reviewed = council_import.row_events(row)
    assert reviewed["type"] == "ehc.plan.reviewed"
    assert reviewed["data"] == {
        "child_ref": "KCC-1",
        "reviewed_on": "2025-06-01",
        "next_review_due": "2026-01-09",
    }
    assert issued["id"] != reviewed["id"]


def test_the_dry_run_names_each_bad_line() -> None:
    bad = ROW.replace("ME14", "ME14 1AA")
    text = f"{HEADER}\n{ROW}\n{bad.replace('KCC-1', 'KCC-2')}\n{ROW}\n"
    summary = council_import.import_caseload(text, council_import.check_locally)
    assert summary.accepted == 1
    assert [(r.line, r.reasons[0].split(":")[0]) for r in summary.rejected] == [
        (3, "data.postcode_district"),
        (4, "child_ref"),
    ]
    assert "repeats line 2" in summary.rejected[1].reasons[0]


def test_a_file_without_a_required_column_is_refused() -> None:
    with pytest.raises(council_import.BadFile, match="next_review_due"):
        council_import.read_rows("child_ref,la_code,primary_need,issued_on\n")


def test_batches_never_split_a_row() -> None:
    rows = [council_import.RowEvents(n, f"C{n}", ({}, {}) if n % 3 else ({},)) for n in range(700)]
    batches = list(council_import.batches(rows, size=500))
    assert sum(len(b) for b in batches) == 700
    assert all(sum(len(r.events) for r in b) <= 500 for b in batches)
