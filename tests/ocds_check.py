"""Validate OCDS output with libcoveocds against the official OCDS 1.1 schemas, offline.

standard.open-contracting.org is out of reach in CI: ``dps.ocds_schema`` puts the
official schemas (from the ocdsmerge and ocdskit sdists on PyPI, sha256-pinned) in the
venv, and libcoveocds reads "the standard" from a ZIP made of them here (its
``standard_zip`` setting; ocdsextensionregistry reads ``schema/`` below the ZIP's top
directory). The closed codelists are written from the schema's own enums, so a code
outside them is reported; open codelists are left out (libcoveocds then skips them).

The packages declare the legalBasis and UK extensions, which libcoveocds would fetch from
GitHub: they are validated against the core schema without those declarations instead,
and the only fields beyond the core schema may be theirs (``tender.legalBasis``,
``awards.standstillPeriod``).
"""

from __future__ import annotations

import json
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

from libcoveocds.api import ocds_json_output
from libcoveocds.config import LibCoveOCDSConfig

from dps.ocds_schema import fetch

# The fields of the declared extensions (legalBasis; the UK extension's standstillPeriod).
EXTENSION_FIELDS = {
    "/releases/tender/legalBasis",
    "/releases/tender/legalBasis/scheme",
    "/releases/tender/legalBasis/id",
    "/releases/tender/legalBasis/description",
    "/releases/tender/legalBasis/uri",
    "/releases/awards/standstillPeriod",
    "/releases/awards/standstillPeriod/startDate",
    "/releases/awards/standstillPeriod/endDate",
}


def _closed_codelists(node: Any, out: dict[str, set[str]]) -> dict[str, set[str]]:
    if isinstance(node, dict):
        if "codelist" in node and not node.get("openCodelist", False):
            enum = node.get("enum") or node.get("items", {}).get("enum") or []
            out.setdefault(node["codelist"], set()).update(v for v in enum if v is not None)
        for value in node.values():
            _closed_codelists(value, out)
    elif isinstance(node, list):
        for value in node:
            _closed_codelists(value, out)
    return out


@cache
def schema_dir() -> Path:
    """The official schemas (fetched once if the venv lacks them)."""
    return fetch()


@cache
def release_schema() -> dict[str, Any]:
    return dict(json.loads((schema_dir() / "release-schema.json").read_text()))


@cache
def _config() -> LibCoveOCDSConfig:
    directory = schema_dir()
    standard = directory / "standard-1.1.zip"
    with zipfile.ZipFile(standard, "w") as zf:
        zf.writestr("standard-1.1/", "")
        for path in sorted(directory.glob("*.json")):
            zf.write(path, f"standard-1.1/schema/{path.name}")
        for name, codes in _closed_codelists(release_schema(), {}).items():
            rows = "".join(f"{code}\n" for code in sorted(codes))
            zf.writestr(f"standard-1.1/schema/codelists/{name}", f"Code\n{rows}")
    return LibCoveOCDSConfig({"standard_zip": f"file://{standard}", "context": "api"})


def cove(package: dict[str, Any]) -> dict[str, Any]:
    """libcoveocds' report on a release package (its declared extensions set aside)."""
    data = {k: v for k, v in package.items() if k != "extensions"}
    return dict(
        ocds_json_output(json_data=json.loads(json.dumps(data)), lib_cove_ocds_config=_config())
    )


def problems(package: dict[str, Any]) -> dict[str, Any]:
    """Everything libcoveocds finds wrong with a release package (empty: valid)."""
    report = cove(package)
    found: dict[str, Any] = {
        key: report[key]
        for key in (
            "validation_errors",
            "additional_closed_codelist_values",
            "conformance_errors",
            "json_deref_error",
            "additional_checks",
        )
        if report.get(key)
    }
    extra = {f["path"] + "/" + f["field_name"] for f in report.get("all_additional_fields", [])}
    if extra - EXTENSION_FIELDS:
        found["additional_fields"] = sorted(extra - EXTENSION_FIELDS)
    return found


def record_releases_as_package(record_package: dict[str, Any]) -> dict[str, Any]:
    """A record package's releases and compiled releases as one release package (no
    record package schema ships in the sdists: each release in it is validated so)."""
    releases = []
    for record in record_package["records"]:
        releases.extend(record["releases"])
        releases.append(record["compiledRelease"])
    keep = ("uri", "publisher", "publishedDate", "version")
    return {**{k: record_package[k] for k in keep}, "releases": releases}
