"""The published event contracts are complete and true: each event's `dataschema` is an
absolute URI that resolves into docs/schemas, and the AsyncAPI documents show every
message with its envelope, headers, key and the production server's security."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from dps.docs import documents
from shared.contracts import TOPICS, topic_module
from shared.envelope import dataschema_uri

DOCS = Path(__file__).resolve().parents[2] / "docs"
GENERATED = documents()


def _registry() -> Registry:
    resources = []
    for path in sorted((DOCS / "schemas").glob("*.json")):
        document = json.loads(path.read_text())
        resources.append((document["$id"], Resource.from_contents(document)))
    return Registry().with_resources(resources)


@pytest.mark.parametrize("topic", TOPICS)
def test_every_dataschema_resolves_to_its_events_schema(topic: str) -> None:
    registry = _registry()
    for event_type in topic_module(topic).EVENT_TYPES:
        uri = dataschema_uri(topic, event_type)
        assert uri.startswith("https://")
        resolved = registry.resolver().lookup(uri).contents
        assert resolved["$anchor"] == event_type
        Draft202012Validator.check_schema(json.loads((DOCS / f"schemas/{topic}.json").read_text()))


def test_a_valid_plan_validates_against_its_dataschema_and_a_bad_one_does_not() -> None:
    registry = _registry()
    uri = dataschema_uri("ehc.plans.v1", "ehc.plan.issued")
    validator = Draft202012Validator({"$ref": uri}, registry=registry)
    good = {
        "child_ref": "KCC-1",
        "la_code": "886",
        "year_group": 5,
        "primary_need": "ASD",
        "ehc_plan": {"issued_on": "2026-01-01", "next_review_due": "2027-01-01"},
        "postcode_district": "ME14",
    }
    assert list(validator.iter_errors(good)) == []
    no_age = {k: v for k, v in good.items() if k != "year_group"}
    bad_district = {**good, "postcode_district": "ME14 5AA"}
    bad_year = {**good, "year_group": 20}
    for bad in (no_age, bad_district, bad_year):
        assert list(validator.iter_errors(bad)), bad


def _messages(service: str) -> dict[str, Any]:
    return GENERATED[f"api/{service}.asyncapi.json"]["components"]["messages"]


def test_inbound_ehc_messages_show_the_envelope_headers_and_key_in_both_modes() -> None:
    document = GENERATED["api/placements.asyncapi.json"]
    assert "EmptyPayload" not in json.dumps(document)
    messages = _messages("placements")
    structured = messages["ehc.plans.v1:ehc.plan.issued:structured"]
    assert structured["headers"]["properties"]["content-type"] == {
        "const": "application/cloudevents+json"
    }
    assert structured["payload"]["properties"]["data"]["$ref"].endswith("/EhcPlanIssued")
    assert structured["payload"]["allOf"] == [{"$ref": "#/components/schemas/CloudEvent"}]
    assert "murmur2" in structured["description"]
    assert structured["bindings"]["kafka"]["key"]["type"] == "string"
    binary = messages["ehc.plans.v1:ehc.plan.issued:binary"]
    assert {"ce_id", "ce_source", "ce_specversion", "ce_type"} <= set(binary["headers"]["required"])
    receive = document["operations"]["receive:ehc.plans.v1"]["messages"]
    assert {"$ref": "#/channels/ehc.plans.v1/messages/ehc.plans.v1:ehc.plan.issued:binary"} in (
        receive
    )


def test_published_messages_and_production_server_are_documented() -> None:
    document = GENERATED["api/placements.asyncapi.json"]
    production = document["servers"]["production"]
    assert production["protocol"] == "kafka-secure" and production["security"]
    scheme = production["security"][0]["$ref"].rsplit("/", 1)[1]
    assert document["components"]["securitySchemes"][scheme]["type"] == "scramSha512"
    sent = document["operations"]["send:placements.v1"]["messages"]
    assert len(sent) == len(topic_module("placements.v1").EVENT_TYPES)
    envelope = document["components"]["schemas"]["CloudEvent"]
    assert {"id", "source", "specversion", "type", "subject"} <= set(envelope["required"])


@pytest.mark.parametrize("relative", [r for r in sorted(GENERATED) if r.endswith("asyncapi.json")])
def test_every_local_reference_of_the_asyncapi_documents_resolves(relative: str) -> None:
    document = GENERATED[relative]
    resolver = Registry().with_resource("urn:doc", Resource.opaque(document)).resolver("urn:doc")

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return own + [r for value in node.values() for r in refs(value)]
        if isinstance(node, list):
            return [r for value in node for r in refs(value)]
        return []

    for ref in refs(document):
        assert ref.startswith("#/"), ref
        resolver.lookup(ref)  # raises when the pointer leads nowhere
