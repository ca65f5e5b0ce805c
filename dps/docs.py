"""Writes the published interface documents into docs/: OpenAPI per service, AsyncAPI
per service (FastStream generates it) and the JSON Schema of every event payload.

`tests/unit/test_published_docs.py` fails when these files fall behind the code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI

from dps.services import definition_of
from shared.contracts import TOPICS, topic_module
from shared.envelope import Envelope
from shared.runtime import ServiceRuntime
from shared.settings import SERVICES, settings_for


def _runtime(service: str) -> ServiceRuntime:
    settings = settings_for(service, jwt_secret="docs", database_url="sqlite+aiosqlite://")
    return ServiceRuntime(definition_of(service), settings, use_temporal=False, watch_broker=False)


def documents() -> dict[str, Any]:
    """Relative path under docs/ -> document."""
    docs: dict[str, Any] = {}
    for service in SERVICES:
        runtime = _runtime(service)
        docs[f"api/{service}.openapi.json"] = runtime.build_app().openapi()
        spec = AsyncAPI(runtime.broker, title=runtime.definition.title, version="1.0")
        docs[f"api/{service}.asyncapi.json"] = json.loads(spec.to_specification().to_json())
    docs["schemas/envelope.json"] = Envelope.model_json_schema()
    for topic in TOPICS:
        models = topic_module(topic).EVENT_TYPES
        docs[f"schemas/{topic}.json"] = {
            "title": f"Payloads (`data`) of topic {topic}",
            "topic": topic,
            "events": {name: model.model_json_schema() for name, model in models.items()},
        }
    return docs


def render(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, default=str) + "\n"


def write(docs_dir: Path) -> list[Path]:
    written = []
    for relative, document in documents().items():
        path = docs_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(document))
        written.append(path)
    return written
