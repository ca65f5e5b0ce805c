"""The AsyncAPI 3.0 document of a service: every message it sends and receives, as it is
on the wire (CloudEvents Kafka binding), with headers, key, partitioning and servers.

FastStream's generator knows only the Python signatures (our subscribers take raw bytes,
so it shows `EmptyPayload`); the contract is the topics' event models, so it is built
from them here. docs/integration.md explains the same in prose.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared.bus import PARTITIONS
from shared.contracts import dlq_topic, topic_module
from shared.envelope import (
    CE_PREFIX,
    REQUIRED_ATTRIBUTES,
    STRUCTURED_CONTENT_TYPE,
    Envelope,
    dataschema_uri,
)
from shared.runtime import ServiceRuntime

REF = "#/components/schemas/{model}"
KAFKA_BINDING = "0.5.0"

PRODUCTION_SERVER = {
    "host": "kafka.send-dps.example:9093",
    "protocol": "kafka-secure",
    "description": "The council-facing listener of the production Apache Kafka cluster: "
    "TLS, and SASL/SCRAM-SHA-512 with one user per council system (docs/integration.md). "
    "The host is the operator's; this is its shape.",
    "security": [{"$ref": "#/components/securitySchemes/councilScram"}],
}
DEVELOPMENT_SERVER = {
    "host": "127.0.0.1:9092",
    "protocol": "kafka",
    "description": "The embedded broker of `dps up` (Tansu, in memory, no authentication). "
    "librdkafka 2.16 (confluent-kafka) and aiokafka work with it; librdkafka 2.0 "
    "(Debian bookworm's kcat) does not.",
}
SECURITY_SCHEMES = {
    "councilScram": {
        "type": "scramSha512",
        "description": "SASL/SCRAM-SHA-512 over TLS. Each council system gets its own user "
        "whose ACLs allow writing ehc.plans.v1 and reading the topics it follows.",
    }
}

KEY_RULE = (
    "Key: the event's `subject`, UTF-8 (for ehc.plans.v1 the child reference, for the "
    "services' topics the aggregate id). Partition: murmur2 of the key modulo the "
    f"partition count ({PARTITIONS}), as Java clients and aiokafka do; librdkafka "
    "clients must set `partitioner=murmur2_random` (their default, CRC32, puts a key "
    "elsewhere). One key's events are applied in partition order."
)


def _structured_headers() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "CloudEvents Kafka binding, structured content mode: the whole event "
        "is the value. No `ce_` header may be set (a receiver would take the record for "
        "binary mode).",
        "required": ["content-type"],
        "properties": {
            "content-type": {"const": STRUCTURED_CONTENT_TYPE},
            "correlation_id": {
                "type": "string",
                "description": "Application header, a copy of `correlationid`.",
            },
        },
    }


def _binary_headers(event_type: str, schema_uri: str) -> dict[str, Any]:
    required = [CE_PREFIX + name for name in REQUIRED_ATTRIBUTES]
    properties: dict[str, Any] = {CE_PREFIX + name: {"type": "string"} for name in required}
    properties |= {
        "ce_specversion": {"const": "1.0"},
        "ce_type": {"const": event_type},
        "ce_id": {
            "type": "string",
            "minLength": 1,
            "description": "Unique per event and the same on every redelivery: events are "
            "applied once per id.",
        },
        "ce_subject": {"type": "string", "description": "The key (child reference)."},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_dataschema": {"const": schema_uri},
        "ce_correlationid": {"type": "string"},
        "content-type": {"const": "application/json", "description": "`datacontenttype`"},
    }
    return {
        "type": "object",
        "description": "CloudEvents Kafka binding, binary content mode: attributes in `ce_` "
        "headers, only `data` (JSON) in the value.",
        "required": [*required, "ce_subject"],
        "properties": properties,
    }


def _message(
    topic: str, event_type: str, model: type[BaseModel], data: dict[str, Any], mode: str
) -> dict[str, Any]:
    schema_uri = dataschema_uri(topic, event_type)
    if mode == "binary":
        headers, payload = _binary_headers(event_type, schema_uri), data
        content_type = "application/json"
    else:
        headers = _structured_headers()
        content_type = STRUCTURED_CONTENT_TYPE
        payload = {
            "allOf": [{"$ref": REF.format(model="CloudEvent")}],
            "properties": {
                "type": {"const": event_type},
                "dataschema": {"const": schema_uri},
                "data": data,
            },
        }
    doc = (model.__doc__ or "").strip().splitlines()
    return {
        "name": event_type,
        "title": f"{event_type} ({mode} mode)",
        "summary": doc[0] if doc else event_type,
        "description": KEY_RULE,
        "contentType": content_type,
        "headers": headers,
        "payload": payload,
        "correlationId": {
            "location": "$message.payload#/correlationid"
            if mode == "structured"
            else "$message.header#/ce_correlationid"
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "= subject"},
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }


def _dead_letter_message() -> dict[str, Any]:
    return {
        "name": "dps.dead_letter",
        "title": "A record this service could not apply",
        "summary": "The original record's value, key and headers, plus why.",
        "description": "Value, key and headers are the original record's; `dlq_*` headers "
        "say why and where it came from. `dps dlq retry` sends it back to its topic and "
        "partition.",
        "headers": {
            "type": "object",
            "required": ["dlq_kind", "dlq_reason", "dlq_topic", "dlq_partition", "dlq_offset"],
            "properties": {
                "dlq_kind": {
                    "enum": ["undecodable", "unknown_type", "invalid_payload", "handler_failed"]
                },
                "dlq_reason": {"type": "string"},
                "dlq_topic": {"type": "string"},
                "dlq_partition": {"type": "string"},
                "dlq_offset": {"type": "string"},
                "dlq_consumer": {"type": "string"},
            },
        },
        "payload": {"description": "The original record's value, unchanged."},
    }


Refs = dict[Any, dict[str, Any]]


def _schemas(topics: Iterable[str]) -> tuple[dict[str, Any], Refs]:
    """Every event model's schema under components/schemas, and the $ref of each."""
    models = {m for t in topics for m in topic_module(t).EVENT_TYPES.values()}
    ordered = sorted(models, key=lambda m: (m.__module__, m.__name__))
    keys, top = models_json_schema([(m, "validation") for m in ordered], ref_template=REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    schemas["CloudEvent"] = Envelope.model_json_schema(ref_template=REF)
    return schemas, {model: dict(ref) for (model, _mode), ref in keys.items()}


def asyncapi(runtime: ServiceRuntime) -> dict[str, Any]:
    """The service's AsyncAPI 3.0 document."""
    sent = list(runtime.definition.publishes)
    received = {c.topic: sorted(c.handlers) for c in runtime.consumers}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas, refs = _schemas({*sent, *received})

    def channel(topic: str, description: str, names: list[str]) -> None:
        channels[topic] = {
            "address": topic,
            "description": description,
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
            "servers": [{"$ref": "#/servers/production"}, {"$ref": "#/servers/development"}],
            "bindings": {
                "kafka": {"topic": topic, "partitions": PARTITIONS, "bindingVersion": KAFKA_BINDING}
            },
        }

    def operation(action: str, topic: str, names: list[str]) -> None:
        operations[f"{action}:{topic}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{topic}"},
            "messages": [{"$ref": f"#/channels/{topic}/messages/{n}"} for n in names],
        }

    for topic in sorted({*sent, *received}):
        models = topic_module(topic).EVENT_TYPES
        modes = ["structured", "binary"] if topic in received else ["structured"]
        names_of: dict[str, list[str]] = {}
        for event_type, model in models.items():
            for mode in modes:
                name = f"{topic}:{event_type}:{mode}"
                messages[name] = _message(topic, event_type, model, refs[model], mode)
                names_of.setdefault(event_type, []).append(name)
        all_names = [n for names in names_of.values() for n in names]
        description = "CloudEvents 1.0 over the Kafka binding. " + (
            "Published in structured mode." if topic in sent else "Read in either mode."
        )
        channel(topic, description, all_names)
        if topic in sent:
            operation("send", topic, all_names)
        if topic in received:
            handled = [n for t in received[topic] for n in names_of.get(t, [])]
            operation("receive", topic, handled)
            messages.setdefault("dps.dead_letter", _dead_letter_message())
            dlq = dlq_topic(topic)
            channel(dlq, f"Records of {topic} this service could not apply.", ["dps.dead_letter"])
            operation("send", dlq, ["dps.dead_letter"])
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": runtime.definition.title,
            "version": "1.0",
            "description": runtime.definition.description
            + " Wire format, keys and errors: docs/integration.md.",
        },
        "defaultContentType": STRUCTURED_CONTENT_TYPE,
        "servers": {"production": PRODUCTION_SERVER, "development": DEVELOPMENT_SERVER},
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
