"""shared.ingest: an HTTP body read as CloudEvents, each event checked as the consumer
checks a Kafka record (shared.envelope.validate_document + the topic's contract model)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared import ingest
from shared.consumer import EventConsumer, Poison

TOPIC = "ehc.plans.v1"


def ceased(**attrs: Any) -> dict[str, Any]:
    document = {
        "specversion": "1.0",
        "id": "e-1",
        "source": "urn:council:886:case",
        "type": "ehc.plan.ceased",
        "subject": "KCC-1",
        "data": {"child_ref": "KCC-1", "ceased_on": "2026-01-05"},
    }
    document.update(attrs)
    return document


def test_one_event_or_a_batch_by_media_type() -> None:
    one = json.dumps(ceased()).encode()
    assert ingest.read_body("application/cloudevents+json; charset=utf-8", one) == (
        [ceased()],
        False,
    )
    many = json.dumps([ceased(), ceased(id="e-2")]).encode()
    documents, batch = ingest.read_body("application/cloudevents-batch+json", many)
    assert batch and [d["id"] for d in documents] == ["e-1", "e-2"]


@pytest.mark.parametrize(
    ("content_type", "body", "status", "rule"),
    [
        ("text/csv", b"a,b", 415, "unsupported_media_type"),
        (None, b"{}", 415, "unsupported_media_type"),
        ("application/cloudevents+json", b"\xff", 422, "not_json"),
        ("application/cloudevents+json", b"[]", 422, "not_an_object"),
        ("application/cloudevents-batch+json", b"{}", 422, "not_a_batch"),
    ],
)
def test_an_unreadable_body_is_refused(
    content_type: str | None, body: bytes, status: int, rule: str
) -> None:
    with pytest.raises(ingest.BodyRefused) as refused:
        ingest.read_body(content_type, body)
    assert refused.value.status_code == status
    assert refused.value.detail[0]["rule"] == rule


def test_a_valid_event_passes() -> None:
    checked = ingest.check_event(TOPIC, 0, ceased())
    assert checked.rejection is None and checked.envelope is not None
    assert checked.envelope.id == "e-1"


@pytest.mark.parametrize(
    ("document", "field", "rule"),
    [
        ({k: v for k, v in ceased().items() if k != "id"}, "id", "required"),
        (ceased(specversion="0.3"), "specversion", "must_be_1.0"),
        (ceased(subject=""), "subject", "string_too_short"),
        (ceased(type="ehc.plan.teleported"), "type", "unknown_event_type"),
        (ceased(data={"child_ref": "KCC-1"}), "data.ceased_on", "missing"),
        (ceased(data={"child_ref": "k", "ceased_on": "2026-01-05"}), "data.child_ref", None),
    ],
)
def test_each_broken_rule_is_named(document: dict[str, Any], field: str, rule: str | None) -> None:
    checked = ingest.check_event(TOPIC, 3, document)
    assert checked.envelope is None and checked.rejection is not None
    assert checked.rejection.status == "rejected" and checked.rejection.index == 3
    first = checked.rejection.errors[0]
    assert first["field"] == field
    assert rule is None or first["rule"] == rule
    assert first["message"]


@pytest.mark.parametrize(
    "document",
    [
        ceased(),
        {k: v for k, v in ceased().items() if k != "id"},
        ceased(type="ehc.plan.teleported"),
        ceased(data={"child_ref": "KCC-1"}),
        ceased(specversion="0.3"),
    ],
)
def test_http_and_kafka_agree_on_every_event(document: dict[str, Any]) -> None:
    """The consumer dead-letters exactly the events the HTTP ingest rejects."""

    class Record:
        value = json.dumps(document).encode()
        headers = [("content-type", b"application/cloudevents+json")]

    consumer = EventConsumer(
        service="placements",
        topic=TOPIC,
        handlers={"ehc.plan.ceased": _noop},
        db=None,  # type: ignore[arg-type]
    )
    dead = isinstance(consumer.decode(Record()), Poison)  # type: ignore[arg-type]
    assert dead == (ingest.check_event(TOPIC, 0, document).rejection is not None)


async def _noop(*_args: Any) -> None:
    return None
