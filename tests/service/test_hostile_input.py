"""Hostile input on every route of every service: never a 5xx (issue 13, "Hostile input").

Bodies and parameters are built from each service's own OpenAPI document, so a route added
later is covered without touching this file. Each variant fills every field with a
plausible value except one kind, which gets the hostile value: a 70-bit integer, a money
amount of 1e30, a date at either end of the calendar, or a string with a NUL byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from shared.contracts.common import Role
from shared.settings import SERVICES
from tests.harness import client_for, make_runtime

HOSTILE: dict[str, dict[str, Any]] = {
    "int": {"integer": 2**70},
    "money": {"number": 1e30},
    "date_max": {"date": "9999-12-31"},
    "date_min": {"date": "0001-01-01"},
    "nul": {"string": "a\x00b"},
}
PLAUSIBLE: dict[str, Any] = {
    "integer": 1,
    "number": 10,
    "date": "2026-09-01",
    "date-time": "2026-09-01T09:00:00Z",
    "uuid": "00000000-0000-4000-8000-000000000001",
    "string": "x",
    "boolean": True,
}


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def _kind(schema: dict[str, Any]) -> str:
    fmt = schema.get("format", "")
    if fmt in ("date", "date-time", "uuid"):
        return str(fmt)
    return str(schema.get("type", "string"))


def value_for(schema: dict[str, Any], doc: dict[str, Any], hostile: dict[str, Any]) -> Any:
    """A value for `schema`: hostile where its kind matches, plausible otherwise."""
    schema = _resolve(schema, doc)
    for key in ("anyOf", "oneOf", "allOf"):
        options = [s for s in schema.get(key, []) if _resolve(s, doc).get("type") != "null"]
        if options:
            kinds = [_kind(_resolve(s, doc)) for s in options]
            # Decimal is number-or-string: send the number form (money is "number" here).
            chosen = next((s for s, k in zip(options, kinds, strict=True) if k in hostile), None)
            return value_for(chosen or options[0], doc, hostile)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = "object" if "properties" in schema else _kind(schema)
    if kind == "object":
        props = schema.get("properties", {})
        return {name: value_for(sub, doc, hostile) for name, sub in props.items()}
    if kind == "array":
        return [value_for(schema.get("items", {}), doc, hostile)]
    if kind in hostile:
        return hostile[kind]
    if kind == "string" and "pattern" in schema:
        return PLAUSIBLE["string"]
    return PLAUSIBLE.get(kind, "x")


def requests_for(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], Any]]:
    """(method, path, query, body) for every operation and every hostile variant."""
    out: list[tuple[str, str, dict[str, Any], Any]] = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for hostile in HOSTILE.values():
                url, query = path, {}
                for param in op.get("parameters", []):
                    value = value_for(param.get("schema", {}), doc, hostile)
                    if param["in"] == "path":
                        url = url.replace("{" + param["name"] + "}", quote(str(value), safe=""))
                    elif param["in"] == "query":
                        query[param["name"]] = value
                content = op.get("requestBody", {}).get("content", {})
                body_schema = content.get("application/json", {}).get("schema")
                body = value_for(body_schema, doc, hostile) if body_schema else None
                out.append((method.upper(), url, query, body))
    return out


@pytest.mark.parametrize("service", SERVICES)
async def test_no_route_answers_hostile_input_with_a_server_error(
    service: str,
    database_url: Callable[[str], str],
    tmp_path: Path,
    tokens: dict[Role, str],
) -> None:
    broker = KafkaBroker()
    runtime = make_runtime(service, database_url(service), tmp_path, shared_broker=broker)
    failures: list[str] = []
    async with TestKafkaBroker(broker):
        await runtime.start()
        try:
            async with client_for(runtime) as client:
                doc = (await client.get("/openapi.json")).json()
                for method, url, query, body in requests_for(doc):
                    for role in Role:
                        headers = {"Authorization": f"Bearer {tokens[role]}"}
                        try:
                            response = await client.request(
                                method, url, params=query, json=body, headers=headers
                            )
                            code = response.status_code
                        except Exception as exc:  # raised through the ASGI transport
                            code = 500
                            query["error"] = repr(exc)[:200]
                        if code >= 500:
                            failures.append(f"{role} {method} {url} {query} {body!r:.300}")
        finally:
            await runtime.stop()
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} in all)"


def test_the_generator_puts_the_hostile_value_where_its_kind_is() -> None:
    doc = {
        "components": {"schemas": {"M": {"properties": {"n": {"type": "integer"}}}}},
        "paths": {},
    }
    body = value_for({"$ref": "#/components/schemas/M"}, doc, HOSTILE["int"])
    assert body == {"n": 2**70}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", value_for({"format": "date"}, doc, {}))
