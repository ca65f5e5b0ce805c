"""`dps import caseload FILE`: onboard a council's current EHC caseload from a CSV export.

Every row becomes the CloudEvents a case system would have sent (`ehc.plan.issued`, and
`ehc.plan.reviewed` when the last review date is known), with ids derived from the row's
content (uuid5), and goes through placements' HTTP ingest (`POST /ehc-events`) in
batches: durable (the outbox) before it is counted, checked exactly as the Kafka consumer
checks, and idempotent (the same row again has the same id: a duplicate). A dry run
checks every row with the same code (shared.ingest.check_event) and sends nothing.

The template (columns, formats) is in docs/integration.md, "Onboarding from CSV".
"""

from __future__ import annotations

import csv
import io
import json
import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.placements.domain import PROFILE_FIELDS
from shared.contracts import ehc_plans_v1

TOPIC = ehc_plans_v1.TOPIC
BATCH_EVENTS = 500  # shared.ingest.MAX_EVENTS
FIRST_DATA_LINE = 2  # line 1 is the header
SOURCE = "urn:send-dps:csv-import"
# Fixed: the same row of any file gets the same event id, on any machine, at any time.
_NAMESPACE = uuid.UUID("5b0b7a0e-3c1f-4d55-9a53-2f1c9e1d7c11")

CASELOAD_COLUMNS = ("child_ref", *PROFILE_FIELDS, "last_review_on")
REQUIRED_COLUMNS = ("child_ref", "la_code", "primary_need", "issued_on", "next_review_due")
_LIST_SEPARATORS = (";", "|", ",")


@dataclass(frozen=True)
class RowEvents:
    line: int
    child_ref: str
    events: tuple[dict[str, Any], ...]


@dataclass
class Rejection:
    line: int
    child_ref: str
    reasons: list[str]


@dataclass
class CaseloadSummary:
    rows: int = 0
    accepted: int = 0  # rows whose events were all accepted (new)
    duplicate: int = 0  # rows imported before (every event a duplicate)
    rejected: list[Rejection] = field(default_factory=list)


class BadFile(ValueError):
    """The file as a whole cannot be read (no header, a required column missing)."""


def read_rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise BadFile(f"missing column(s): {', '.join(missing)} (template: docs/integration.md)")
    reader.fieldnames = header
    return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


def _secondary(cell: str) -> list[str]:
    for separator in _LIST_SEPARATORS:
        if separator in cell:
            return [part.strip() for part in cell.split(separator) if part.strip()]
    return [cell] if cell else []


def _midnight(day: str) -> str:
    try:
        return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC).isoformat()
    except ValueError:
        return datetime.now(UTC).isoformat()  # the date itself is reported by the check


def _event(event_type: str, row: dict[str, str], data: dict[str, Any], at: str) -> dict[str, Any]:
    content = json.dumps({"type": event_type, "row": row}, sort_keys=True)
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid5(_NAMESPACE, f"{row.get('child_ref', '')}:{content}")),
        "source": SOURCE,
        "type": event_type,
        "subject": row.get("child_ref") or "-",
        # The plan as of its latest recorded date: a newer event from the case system
        # wins field by field (placements keeps each field's event time).
        "time": _midnight(at),
        "datacontenttype": "application/json",
        "data": data,
    }


def row_events(row: dict[str, str]) -> tuple[dict[str, Any], ...]:
    """The events one caseload row stands for, in the order they are applied."""
    row = {name: row.get(name, "") for name in CASELOAD_COLUMNS}
    plan = {"issued_on": row["issued_on"], "next_review_due": row["next_review_due"]}
    data: dict[str, Any] = {
        "child_ref": row["child_ref"],
        "la_code": row["la_code"],
        "primary_need": row["primary_need"],
        "secondary_needs": _secondary(row["secondary_needs"]),
        "ehc_plan": plan,
    }
    for optional in ("date_of_birth", "year_group", "attendance", "postcode_district"):
        if row[optional]:
            data[optional] = row[optional]
    events = [_event("ehc.plan.issued", row, data, row["issued_on"])]
    if row["last_review_on"]:
        reviewed = {
            "child_ref": row["child_ref"],
            "reviewed_on": row["last_review_on"],
            "next_review_due": row["next_review_due"],
        }
        events.append(_event("ehc.plan.reviewed", row, reviewed, row["last_review_on"]))
    return tuple(events)


def caseload_events(rows: Sequence[dict[str, str]], summary: CaseloadSummary) -> list[RowEvents]:
    """Each row's events; a child repeated in the file is rejected on its later lines."""
    first_line: dict[str, int] = {}
    out: list[RowEvents] = []
    for index, row in enumerate(rows):
        line = index + FIRST_DATA_LINE
        child = row.get("child_ref", "")
        if child and child in first_line:
            reason = f"child_ref: repeats line {first_line[child]} of this file"
            summary.rejected.append(Rejection(line, child, [reason]))
            continue
        first_line.setdefault(child, line)
        out.append(RowEvents(line, child, row_events(row)))
    return out


def batches(rows: Sequence[RowEvents], size: int = BATCH_EVENTS) -> Iterator[list[RowEvents]]:
    """Rows in batches of at most `size` events, a row's events never split."""
    batch: list[RowEvents] = []
    count = 0
    for row in rows:
        if batch and count + len(row.events) > size:
            yield batch
            batch, count = [], 0
        batch.append(row)
        count += len(row.events)
    if batch:
        yield batch


Send = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def check_locally(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A dry run's answer: the ingest's own checks, nothing sent or written."""
    from shared.ingest import check_event

    answers = []
    for index, document in enumerate(events):
        checked = check_event(TOPIC, index, document)
        answers.append(
            checked.rejection.to_dict()
            if checked.rejection
            else {"index": index, "id": document["id"], "status": "accepted"}
        )
    return answers


def import_caseload(
    text: str, send: Send, progress: Callable[[int], None] = lambda _n: None
) -> CaseloadSummary:
    """Send every row's events in batches; report each row's fate by line."""
    summary = CaseloadSummary()
    rows = read_rows(text)
    summary.rows = len(rows)
    prepared = _checked(caseload_events(rows, summary), summary)
    progress(len(rows) - len(prepared))
    for batch in batches(prepared):
        answers = iter(send([event for row in batch for event in row.events]))
        for row in batch:
            results = [next(answers) for _ in row.events]
            _tally(summary, row, results)
        progress(len(batch))
    summary.rejected.sort(key=lambda rejection: rejection.line)
    return summary


def _checked(rows: list[RowEvents], summary: CaseloadSummary) -> list[RowEvents]:
    """The rows whose every event passes the ingest's checks: a row is sent whole or not
    at all (a plan's review must not land without its plan)."""
    sendable = []
    for row in rows:
        results = check_locally(list(row.events))
        if any(result["status"] == "rejected" for result in results):
            _tally(summary, row, results)
        else:
            sendable.append(row)
    return sendable


def _tally(summary: CaseloadSummary, row: RowEvents, results: list[dict[str, Any]]) -> None:
    reasons = [
        f"{error['field']}: {error['message']}"
        for result in results
        for error in result.get("errors", [])
    ]
    if reasons:
        summary.rejected.append(Rejection(row.line, row.child_ref, reasons))
    elif all(result["status"] == "duplicate" for result in results):
        summary.duplicate += 1
    else:
        summary.accepted += 1


# --- an example export, to try the import with -----------------------------------------

_NEEDS = ("ASD", "SEMH", "SLCN", "MLD", "SLD", "PMLD", "SpLD", "HI", "VI", "PD")
_DISTRICTS = ("ME14", "ME15", "CT1", "TN23", "DA1", "ME7", "CT9", "TN1", "BR8", "ME10")


def example_caseload(rows: int, seed: int = 1, bad_every: int | None = None) -> str:
    """A synthetic caseload export in the template's shape (no real child)."""
    rng = random.Random(seed)
    today = date.today()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CASELOAD_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for n in range(1, rows + 1):
        issued = today - timedelta(days=rng.randint(30, 2000))
        reviewed = issued + timedelta(days=365 * rng.randint(0, 4))
        last_review = reviewed if reviewed > issued and reviewed < today else None
        due = (last_review or issued) + timedelta(days=365)
        born = issued - timedelta(days=365 * rng.randint(3, 17) + rng.randint(0, 364))
        needs = rng.sample(_NEEDS, 3)
        row = {
            "child_ref": f"EX-EHC-{n:06d}",
            "la_code": "886",
            "date_of_birth": born.isoformat() if rng.random() < 0.9 else "",
            "year_group": str(rng.randint(1, 13)),
            "primary_need": needs[0],
            "secondary_needs": ";".join(needs[1 : rng.randint(1, 3)]),
            "attendance": rng.choice(("day", "day", "day", "residential_38", "residential_52")),
            "postcode_district": rng.choice(_DISTRICTS),
            "issued_on": issued.isoformat(),
            "next_review_due": due.isoformat(),
            "last_review_on": last_review.isoformat() if last_review else "",
        }
        if bad_every and n % bad_every == 0:
            row["postcode_district"] = "ME14 1AA"  # a full postcode: refused
        writer.writerow(row)
    return out.getvalue()


# --- existing placements -------------------------------------------------------------
# Recorded through placements' `POST /placements/import` (the rules, history, spend
# ledger and events of any placement), one row per request with an import key derived
# from the placement's identity (child, provider, start date): a re-import, even of a
# corrected file, answers "already imported" and never records a placement twice.

PLACEMENT_COLUMNS = (
    "child_ref",
    "provider_urn",
    "provider_id",
    "primary_need",
    "attendance",
    "start_date",
    "end_date",
    "weekly_fee",
    "weeks_per_year",
    "notice_period_weeks",
    "next_review_due",
    "source",
    "basis",
    "basis_reference",
)
PLACEMENT_REQUIRED = (
    "child_ref",
    "primary_need",
    "attendance",
    "start_date",
    "weekly_fee",
    "weeks_per_year",
)
_ITEM_FIELDS = {
    "child_ref": "child_ref",
    "primary_need": "primary_need",
    "attendance": "attendance",
    "start_date": "start_date",
    "end_date": "end_date",
    "weekly_fee": "weekly_core_fee",
    "weeks_per_year": "weeks_per_year",
    "notice_period_weeks": "notice_period_weeks",
    "next_review_due": "next_review_due",
    "source": "source",
    "basis": "basis",
    "basis_reference": "basis_reference",
}


@dataclass
class PlacementSummary:
    rows: int = 0
    imported: int = 0
    already: int = 0
    rejected: list[Rejection] = field(default_factory=list)


def read_placement_rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in PLACEMENT_REQUIRED if name not in header]
    if "provider_urn" not in header and "provider_id" not in header:
        missing.append("provider_urn or provider_id")
    if missing:
        raise BadFile(f"missing column(s): {', '.join(missing)} (template: docs/integration.md)")
    reader.fieldnames = header
    return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


def placement_item(row: dict[str, str], urns: dict[str, str]) -> dict[str, Any]:
    """The API's import item for a row; a provider URN is the register's provider id."""
    item: dict[str, Any] = {api: row[col] for col, api in _ITEM_FIELDS.items() if row.get(col)}
    provider = row.get("provider_id") or urns.get(row.get("provider_urn", ""), "")
    item["provider_id"] = provider
    return item


def placement_key(row: dict[str, str]) -> str:
    provider = row.get("provider_id") or row.get("provider_urn")
    identity = f"{row.get('child_ref')}|{provider}|{row.get('start_date')}"
    return f"csv:{uuid.uuid5(_NAMESPACE, identity)}"


PostPlacement = Callable[[str, dict[str, Any]], tuple[int, Any]]


def _placement_reasons(status: int, body: Any) -> list[str]:
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(detail, list):
        return [f"answered {status}: {str(body)[:200]}"]
    reasons = []
    for error in detail:
        where = str(error.get("field", "")).removeprefix("placements[0].")
        where = where.removeprefix("placements.0.")
        reasons.append(f"{where}: {error.get('rule')}")
    return reasons


def import_placements(
    text: str,
    post: PostPlacement,
    urns: dict[str, str],
    progress: Callable[[int], None] = lambda _n: None,
    workers: int = 4,
) -> PlacementSummary:
    """Record each row's placement; report each row's fate by line."""
    from concurrent.futures import ThreadPoolExecutor

    summary = PlacementSummary()
    rows = read_placement_rows(text)
    summary.rows = len(rows)
    jobs: list[tuple[int, dict[str, str]]] = []
    for index, row in enumerate(rows):
        line = index + FIRST_DATA_LINE
        if (
            row.get("provider_urn")
            and not row.get("provider_id")
            and row["provider_urn"] not in urns
        ):
            reason = f"provider_urn: {row['provider_urn']} is not in the provider register"
            summary.rejected.append(Rejection(line, row.get("child_ref", ""), [reason]))
            progress(1)
            continue
        jobs.append((line, row))

    def one(job: tuple[int, dict[str, str]]) -> tuple[int, dict[str, str], int, Any]:
        line, row = job
        body = {"import_key": placement_key(row), "placements": [placement_item(row, urns)]}
        status, answer = post(placement_key(row), body)
        return line, row, status, answer

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for line, row, status, answer in pool.map(one, jobs):
            if status == 201:
                summary.imported += 1
            elif status == 200:
                summary.already += 1
            else:
                reasons = _placement_reasons(status, answer)
                summary.rejected.append(Rejection(line, row.get("child_ref", ""), reasons))
            progress(1)
    summary.rejected.sort(key=lambda rejection: rejection.line)
    return summary


def example_placements(rows: int, seed: int = 1, provider_urns: Sequence[str] = ()) -> str:
    """A synthetic export of existing placements (children of `example_caseload`)."""
    rng = random.Random(seed)
    today = date.today()
    urns = list(provider_urns) or [str(100000 + n) for n in range(1, 41)]
    out = io.StringIO()
    columns = [c for c in PLACEMENT_COLUMNS if c != "provider_id"]
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for n in range(1, rows + 1):
        start = today - timedelta(days=rng.randint(30, 1500))
        ended = rng.random() < 0.15
        attendance = rng.choice(("day", "day", "residential_38", "residential_52"))
        writer.writerow(
            {
                "child_ref": f"EX-EHC-{n:06d}",
                "provider_urn": rng.choice(urns),
                "primary_need": rng.choice(_NEEDS),
                "attendance": attendance,
                "start_date": start.isoformat(),
                "end_date": (start + timedelta(days=rng.randint(30, 365))).isoformat()
                if ended and start + timedelta(days=400) < today
                else "",
                "weekly_fee": f"{rng.randint(1200, 9000)}.00",
                "weeks_per_year": "52" if attendance == "residential_52" else "38",
                "notice_period_weeks": "12",
                "next_review_due": (today + timedelta(days=rng.randint(10, 330))).isoformat(),
                "source": "spot",
            }
        )
    return out.getvalue()


def check_placement_locally(_key: str, body: dict[str, Any]) -> tuple[int, Any]:
    """A dry run's answer for one placement: the API's own body model and domain rules
    (services.placements.api), nothing written."""
    from pydantic import ValidationError

    from services.placements.api import PlacementImportIn, _imported_placement
    from shared.errors import DomainError
    from shared.unit_of_work import Actor

    try:
        batch = PlacementImportIn.model_validate(body)
        now = datetime.now(UTC)
        actor = Actor(id="dry-run", role="admin")
        _imported_placement(batch.placements[0], "dry-run", actor, now, now.date())
    except ValidationError as exc:
        detail = [
            {"field": ".".join(str(p) for p in e["loc"]), "rule": e["msg"]} for e in exc.errors()
        ]
        return 422, {"detail": detail}
    except DomainError as exc:
        return 422, {"detail": [exc.to_dict()]}
    return 201, {}
