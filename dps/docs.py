"""Writes the published interface documents into docs/: OpenAPI per service, AsyncAPI
per service (dps/asyncapi.py), the JSON Schema of every event payload and the role x
route policy of every service (shared/policy.py).

`tests/unit/test_published_docs.py` fails when these files fall behind the code.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from dps.asyncapi import asyncapi
from dps.services import definition_of
from shared.contracts import TOPICS, topic_module
from shared.envelope import DEFAULT_SCHEMA_BASE, Envelope
from shared.policy import Policy, markdown
from shared.runtime import ServiceRuntime
from shared.settings import SERVICES, settings_for

JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"


def _runtime(service: str) -> ServiceRuntime:
    settings = settings_for(service, jwt_secret="docs", database_url="sqlite+aiosqlite://")
    return ServiceRuntime(definition_of(service), settings, use_temporal=False, watch_broker=False)


def policies() -> dict[str, Policy]:
    """Each service's policy table, and the operator routes' one every service serves."""
    from shared.admin_api import POLICY as ADMIN_POLICY  # imports the runtime
    from shared.audit_api import POLICY as AUDIT_POLICY

    tables: dict[str, Policy] = {
        service: importlib.import_module(f"services.{service}.policy").POLICY
        for service in SERVICES
    }
    tables["admin"] = ADMIN_POLICY
    tables["audit"] = AUDIT_POLICY
    return tables


def documents() -> dict[str, Any]:
    """Relative path under docs/ -> document."""
    docs: dict[str, Any] = {}
    for service in SERVICES:
        runtime = _runtime(service)
        docs[f"api/{service}.openapi.json"] = runtime.build_app().openapi()
        docs[f"api/{service}.asyncapi.json"] = asyncapi(runtime)
    docs["schemas/envelope.json"] = {
        "$schema": JSON_SCHEMA,
        "$id": f"{DEFAULT_SCHEMA_BASE}envelope.json",
        **Envelope.model_json_schema(),
    }
    for topic in TOPICS:
        docs[f"schemas/{topic}.json"] = topic_schema(topic)
    for name, table in policies().items():
        shared_source = {"admin": "shared/admin_api.py", "audit": "shared/audit_api.py"}
        source = shared_source.get(name, f"services/{name}/policy.py")
        docs[f"policy/{name}.md"] = markdown(name, source, table)
    return docs


def topic_schema(topic: str) -> dict[str, Any]:
    """One JSON Schema (2020-12) document per topic for the events' `data`.

    Its `$id` plus an event type as fragment is the events' `dataschema`
    (`.../placements.v1.json#placement.contract.created`): each event type is a `$defs`
    entry with that `$anchor`. Rules between fields that JSON Schema cannot state are in
    the models' `x-rules` (shared/contracts/ehc_plans_v1.py).
    """
    models = topic_module(topic).EVENT_TYPES
    keys, top = models_json_schema(
        [(model, "validation") for model in models.values()], ref_template="#/$defs/{model}"
    )
    defs: dict[str, Any] = dict(top.get("$defs", {}))
    for name, model in models.items():
        defs[name] = {"$anchor": name, **keys[(model, "validation")]}
    return {
        "$schema": JSON_SCHEMA,
        "$id": f"{DEFAULT_SCHEMA_BASE}{topic}.json",
        "title": f"Payloads (`data`) of topic {topic}",
        "description": "The `data` of an event of this topic; the event's `type` says which "
        "of `events` (each also under `$defs`, anchored by the type).",
        "topic": topic,
        "anyOf": [{"$ref": f"#{name}"} for name in models],
        # Each type's schema in full, for readers; `$defs` holds the same for resolvers.
        "events": {name: _resolve(defs, keys[(m, "validation")]) for name, m in models.items()},
        "$defs": defs,
    }


def _resolve(defs: dict[str, Any], ref: Any) -> Any:
    return defs[str(ref["$ref"]).removeprefix("#/$defs/")]


def render(document: Any) -> str:
    if isinstance(document, str):  # Markdown, written as it is
        return document
    return json.dumps(document, indent=2, sort_keys=True, default=str) + "\n"


def write(docs_dir: Path) -> list[Path]:
    written = []
    for relative, document in documents().items():
        path = docs_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(document))
        written.append(path)
    return written
