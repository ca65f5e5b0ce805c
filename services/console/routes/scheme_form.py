"""The scheme form (set up, or amend a draft): HTML fields <-> procurement's SchemeIn /
SchemeAmendmentIn, and procurement's `{field, rule}` errors -> the form's inputs.

Without JavaScript the repeating parts (categories, lots, questions) are a fixed number
of rows; a blank row is left out. Rows are numbered from 1 in the field ids
(`lots-2-code`), and a service error naming a row by index (`lots.1.code`, pydantic) or
by code (`lots.lot2.min_quality_score`, the domain) lands on that row's input."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.datastructures import FormData

ROWS = {"categories": 4, "lots": 3, "selection_questions": 6, "quality_questions": 4}
# Each row's inputs, in the order the form shows them.
COLUMNS = {
    "categories": ("code", "name", "need_types", "attendance"),
    "lots": ("code", "name", "min_quality_score", "block_contracts_allowed"),
    "selection_questions": ("question_id", "text", "kind", "max_score", "weight", "min_score"),
    "quality_questions": ("question_id", "text", "max_score", "weight"),
}
KEYS = {  # the column that names a row in the domain's errors
    "categories": "code",
    "lots": "code",
    "selection_questions": "question_id",
    "quality_questions": "question_id",
}
ROW_LABELS = {
    "categories": "Category",
    "lots": "Lot",
    "selection_questions": "Selection question",
    "quality_questions": "Award question",
}
DATES = ("term_start", "term_end", "established_on", "extension_1", "extension_2")
SIMPLE = ("reference", "title", "regime", "pass_mark", "min_tender_days")
WEIGHTS = ("quality_weight", "price_weight")
LABELS = {
    "reference": "Reference",
    "title": "Title",
    "regime": "Regime",
    "term_start": "Term start",
    "term_end": "Term end",
    "established_on": "Date the scheme was established",
    "extension_1": "First extension ends",
    "extension_2": "Second extension ends",
    "extension_ends": "Extensions",
    "max_extension_end": "Extensions",
    "pass_mark": "Selection pass mark",
    "min_tender_days": "Minimum tender period",
    "quality_weight": "Quality weight",
    "price_weight": "Price weight",
    "narrowing_published": "Tiers and screening",
    "light_touch": "Light touch contracts",
    "open": "Open now",
    "required_documents": "Required documents",
    "reason": "Reason",
}
ATTENDANCE = ("day", "residential_38", "residential_52")


def _text(form: FormData, name: str) -> str:
    return str(form.get(name, "")).strip()


def given_of(form: FormData) -> dict[str, Any]:
    """What was entered, to show again (every input by its id)."""
    given: dict[str, Any] = {name: _text(form, name) for name in (*SIMPLE, *WEIGHTS, "reason")}
    for name in DATES:
        for part in ("day", "month", "year"):
            given[f"{name}-{part}"] = _text(form, f"{name}-{part}")
    given["narrowing_published"] = _text(form, "narrowing_published")
    given["light_touch"] = _text(form, "light_touch")
    given["open"] = _text(form, "open")
    for rows, count in ROWS.items():
        for n in range(1, count + 1):
            for col in COLUMNS[rows]:
                key = f"{rows}-{n}-{col}"
                if col == "attendance":
                    given[key] = [str(v) for v in form.getlist(key)]
                else:
                    given[key] = _text(form, key)
    return given


def _date(given: dict[str, Any], name: str, problems: list[dict[str, str]]) -> str | None:
    parts = [given[f"{name}-{p}"] for p in ("year", "month", "day")]
    if not any(parts):
        return None
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2])).isoformat()
    except ValueError:
        problems.append(problem(name, f"{LABELS[name]} must be a real date"))
        return None


def problem(field: str, text: str) -> dict[str, str]:
    href = f"#{field}-day" if field in DATES else f"#{field}"
    return {"text": text, "href": href, "field": field}


def _rows(given: dict[str, Any], rows: str) -> list[tuple[int, dict[str, Any]]]:
    """The filled rows, each with its number (a row with nothing typed is left out)."""
    found = []
    for n in range(1, ROWS[rows] + 1):
        row = {col: given[f"{rows}-{n}-{col}"] for col in COLUMNS[rows]}
        if any(v for col, v in row.items() if col not in ("kind", "attendance")):
            found.append((n, row))
    return found


def _category(row: dict[str, Any]) -> dict[str, Any]:
    needs = [n.strip() for n in row["need_types"].replace(";", ",").split(",") if n.strip()]
    return {
        "code": row["code"],
        "name": row["name"],
        "need_types": needs,
        "attendance": row["attendance"],
    }


def _number(value: str) -> str | int | None:
    # The service parses numbers and names a bad one; "" is left out (its default).
    return value or None


def _question(row: dict[str, Any]) -> dict[str, Any]:
    body = {k: row[k] for k in ("question_id", "text")}
    body["kind"] = row.get("kind") or "scored"
    for k in ("max_score", "weight", "min_score"):
        if row.get(k):
            body[k] = row[k]
    return body


def body_of(
    given: dict[str, Any], *, amending: bool
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The request body for procurement, and problems the console sees before sending
    (only dates it cannot read: the service decides every rule and names the field)."""
    problems: list[dict[str, str]] = []
    body: dict[str, Any] = {
        name: given[name] for name in ("title", "pass_mark", "min_tender_days") if given[name]
    }
    if not amending:
        body["reference"] = given["reference"]
        body["regime"] = given["regime"] or None
        body["open"] = given["open"] == "yes"
        body["narrowing_published"] = given["narrowing_published"] == "yes"
        if given["regime"].startswith("pa2023"):  # PCR 2015 has its own light-touch code
            body["light_touch"] = given["light_touch"] == "yes"
        established = _date(given, "established_on", problems)
        if established:
            body["established_on"] = established
    for name in ("term_start", "term_end"):
        value = _date(given, name, problems)
        if value:
            body[name] = value
        elif not amending:
            problems.append(problem(name, f"Enter the {LABELS[name].lower()}"))
    extensions = [_date(given, name, problems) for name in ("extension_1", "extension_2")]
    body["extension_ends"] = [e for e in extensions if e]
    if amending:
        body["max_extension_end"] = body["extension_ends"][-1] if body["extension_ends"] else None
    body["categories"] = [_category(row) for _, row in _rows(given, "categories")]
    body["lots"] = [
        {
            "code": row["code"],
            "name": row["name"],
            "min_quality_score": _number(row["min_quality_score"]),
            "block_contracts_allowed": row["block_contracts_allowed"] == "yes",
        }
        for _, row in _rows(given, "lots")
    ]
    body["selection_questions"] = [_question(row) for _, row in _rows(given, "selection_questions")]
    award_questions = [_question(row) for _, row in _rows(given, "quality_questions")]
    for q in award_questions:
        q.pop("kind", None)
    body["award_criteria"] = {
        "quality_weight": _number(given["quality_weight"]),
        "price_weight": _number(given["price_weight"]),
        "quality_questions": award_questions,
    }
    if amending and given["reason"]:
        body["reason"] = given["reason"]
    return {k: v for k, v in body.items() if v is not None}, problems


def given_from_scheme(scheme: dict[str, Any]) -> dict[str, Any]:
    """The form filled in from a scheme as procurement shows it (to amend a draft)."""
    blank: dict[str, Any] = given_of(FormData())
    blank.update({k: str(scheme.get(k) or "") for k in ("title", "pass_mark", "min_tender_days")})
    for name, value in (("term_start", scheme["term_start"]), ("term_end", scheme["term_end"])):
        _fill_date(blank, name, value)
    for n, end in enumerate(scheme.get("extension_ends") or [], start=1):
        if n <= 2:
            _fill_date(blank, f"extension_{n}", end)
    for rows, listed in (
        ("categories", scheme["categories"]),
        ("lots", scheme["lots"]),
        ("selection_questions", scheme["selection_questions"]),
        ("quality_questions", scheme["award_criteria"]["quality_questions"]),
    ):
        for n, item in enumerate(listed[: ROWS[rows]], start=1):
            for col in COLUMNS[rows]:
                blank[f"{rows}-{n}-{col}"] = _shown(col, item.get(col))
    blank["quality_weight"] = str(scheme["award_criteria"]["quality_weight"])
    blank["price_weight"] = str(scheme["award_criteria"]["price_weight"])
    return blank


def _shown(col: str, value: Any) -> Any:
    if col == "attendance":
        return list(value or [])
    if col == "need_types":
        return ", ".join(value or [])
    if col == "block_contracts_allowed":
        return "yes" if value else ""
    return "" if value is None else str(value)


def _fill_date(given: dict[str, Any], name: str, value: str) -> None:
    year, month, day = str(value).split("-")
    given[f"{name}-year"], given[f"{name}-month"], given[f"{name}-day"] = year, month, day


def _row_of(given: dict[str, Any], rows: str, ref: str) -> int:
    """The form row a service error names: by index (pydantic) or by its code."""
    if ref.isdigit():
        filled = _rows(given, rows)
        index = int(ref)
        return filled[index][0] if index < len(filled) else 1
    for n, row in _rows(given, rows):
        if row[KEYS[rows]] == ref:
            return n
    return 1


def _input_of(given: dict[str, Any], field: str) -> tuple[str, str]:
    """The input id a service field names, and its label."""
    parts = field.split(".")
    if parts[0] == "award_criteria":
        parts = parts[1:] or ["quality_weight"]
    top = parts[0]
    if top in ROWS:
        if len(parts) == 1:
            return f"{top}-1-{KEYS[top]}", f"{ROW_LABELS[top]}s"
        n = _row_of(given, top, parts[1])
        col = parts[2] if len(parts) > 2 and parts[2] in COLUMNS[top] else KEYS[top]
        return f"{top}-{n}-{col}", f"{ROW_LABELS[top]} {n}"
    if top in ("extension_ends", "max_extension_end"):
        return "extension_1-day", LABELS[top]
    if top in DATES:
        return f"{top}-day", LABELS[top]
    if top in LABELS:
        return top, LABELS[top]
    return "main-content", top.replace("_", " ")


def service_errors(errors: list[dict[str, str]], given: dict[str, Any]) -> list[dict[str, str]]:
    """Procurement's `{field, rule}` errors for the summary, each linked to its input."""
    items = []
    for error in errors:
        target, label = _input_of(given, error["field"])
        rule = error.get("message") or error["rule"].replace("_", " ")
        field = target.removesuffix("-day")
        items.append({"text": f"{label}: {rule}", "href": f"#{target}", "field": field})
    return items
