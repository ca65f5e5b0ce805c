"""The CloudEvents 1.0 Kafka protocol binding: what we publish and what we accept.

The official SDK (`cloudevents` on PyPI, its Kafka binding) stands in for a council's
receiver and producer, so these tests fail if our wire format drifts from the standard.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel

from shared.envelope import (
    STRUCTURED_CONTENT_TYPE,
    UndecodableEvent,
    dataschema_uri,
    decode_record,
    new_event,
)
from shared.infra_models import OutboxMessage
from shared.outbox import wire_headers
from shared.unit_of_work import outbox_values


class Sample(BaseModel):
    child_ref: str


def _published() -> tuple[dict[str, bytes], bytes, str]:
    event = new_event(
        "ehc.plan.issued",
        source="dps/placements",
        subject="KCC-1",
        data=Sample(child_ref="KCC-1"),
        topic="ehc.plans.v1",
    )
    row = outbox_values("ehc.plans.v1", event)
    headers = {k: str(v).encode() for k, v in row["headers"].items()}
    return headers, row["payload"], event.id


def test_published_events_are_structured_mode_for_a_binding_receiver() -> None:
    headers, value, event_id = _published()
    assert headers["content-type"] == STRUCTURED_CONTENT_TYPE.encode()
    assert not [name for name in headers if name.startswith("ce_")]
    message = ce_kafka.KafkaMessage(headers=headers, key=b"KCC-1", value=value)
    received = ce_kafka.from_kafka_event(message)  # picks the mode as the binding says
    assert received.get_id() == event_id
    assert received.get_type() == "ehc.plan.issued"
    assert received.get_data() == {"child_ref": "KCC-1"}
    assert ce_kafka.from_structured_event(message).get_id() == event_id


def test_dataschema_is_an_absolute_uri_into_the_published_schemas() -> None:
    _headers, value, _id = _published()
    schema = json.loads(value)["dataschema"]
    assert schema == "https://send-dps.example/schemas/ehc.plans.v1.json#ehc.plan.issued"
    assert schema == dataschema_uri("ehc.plans.v1", "ehc.plan.issued")


def _council_event(**attributes: object) -> CloudEvent:
    base: dict[str, object] = {
        "id": "evt-1",
        "type": "ehc.plan.ceased",
        "source": "urn:council:886",
        "subject": "KCC-1",
        "time": datetime(2026, 1, 5, 9, tzinfo=UTC),
        "datacontenttype": "application/json",
        "correlationid": "corr-9",
    }
    return CloudEvent({**base, **attributes}, {"child_ref": "KCC-1", "ceased_on": "2026-01-05"})


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_both_modes_from_the_official_sdk_are_accepted(mode: str) -> None:
    to_kafka = ce_kafka.to_binary_event if mode == "binary" else ce_kafka.to_structured_event
    message = to_kafka(_council_event(), key_mapper=lambda e: e.get_subject())
    envelope = decode_record(message.value, list(message.headers.items()))
    assert (envelope.id, envelope.type, envelope.subject) == ("evt-1", "ehc.plan.ceased", "KCC-1")
    assert envelope.source == "urn:council:886"
    assert envelope.correlationid == "corr-9"
    assert envelope.time == datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert envelope.data == {"child_ref": "KCC-1", "ceased_on": "2026-01-05"}


def test_binary_mode_without_an_id_is_refused_with_the_reason() -> None:
    message = ce_kafka.to_binary_event(_council_event())
    headers = [(k, v) for k, v in message.headers.items() if k != "ce_id"]
    with pytest.raises(UndecodableEvent, match=r"missing required CloudEvents attribute.*id"):
        decode_record(message.value, headers)


def test_structured_mode_without_an_id_is_refused_not_given_a_random_one() -> None:
    document = {"specversion": "1.0", "type": "t", "source": "s", "subject": "x", "data": {}}
    value = json.dumps(document).encode()
    headers = [("content-type", STRUCTURED_CONTENT_TYPE.encode())]
    with pytest.raises(UndecodableEvent, match="id"):
        decode_record(value, headers)


@pytest.mark.parametrize("missing", ["ce_source", "ce_type"])
def test_binary_mode_requires_source_and_type(missing: str) -> None:
    message = ce_kafka.to_binary_event(_council_event())
    headers = [(k, v) for k, v in message.headers.items() if k != missing]
    with pytest.raises(UndecodableEvent, match=missing.removeprefix("ce_")):
        decode_record(message.value, headers)


def test_binary_mode_with_non_json_data_is_refused() -> None:
    message = ce_kafka.to_binary_event(_council_event())
    headers = {**message.headers, "content-type": b"text/csv"}
    with pytest.raises(UndecodableEvent, match="must be JSON"):
        decode_record(b"a,b", list(headers.items()))


def test_batch_content_type_is_refused() -> None:
    headers = [("content-type", b"application/cloudevents-batch+json")]
    with pytest.raises(UndecodableEvent, match="no batches"):
        decode_record(b"[]", headers)


def test_legacy_records_without_content_type_are_read_as_structured() -> None:
    # What send-dps published before this change: the event in the value, `ce_type` and
    # `ce_id` headers but no `ce_specversion` (so not a valid binary-mode record).
    _headers, value, event_id = _published()
    legacy = [("ce_type", b"ehc.plan.issued"), ("ce_id", event_id.encode())]
    assert decode_record(value, legacy).id == event_id
    assert decode_record(value, []).id == event_id


def test_legacy_outbox_rows_are_published_with_structured_mode_headers() -> None:
    _headers, value, event_id = _published()
    row = OutboxMessage(
        event_id=event_id,
        topic="ehc.plans.v1",
        event_type="ehc.plan.issued",
        key="KCC-1",
        payload=value,
        headers={"ce_type": "ehc.plan.issued", "ce_id": event_id, "correlation_id": "c"},
    )
    assert wire_headers(row) == {"content-type": STRUCTURED_CONTENT_TYPE, "correlation_id": "c"}


def test_dead_letter_rows_keep_the_original_records_headers() -> None:
    headers = {"ce_type": "t", "ce_id": "1", "dlq_kind": "undecodable", "dlq_reason": "x"}
    row = OutboxMessage(
        event_id="dlq:1", topic="t.dlq", event_type="dps.dead_letter", key="", payload=b"{}"
    )
    row.headers = headers
    assert wire_headers(row) == headers


def test_the_schema_base_is_configured_and_must_be_absolute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shared.envelope import DEFAULT_SCHEMA_BASE, set_schema_base
    from shared.settings import settings_for

    monkeypatch.setenv("DPS_EVENT_SCHEMA_BASE", "https://council.example/dps/schemas")
    settings = settings_for("placements")
    assert settings.event_schema_base == "https://council.example/dps/schemas/"
    set_schema_base(settings.event_schema_base)
    try:
        assert dataschema_uri("placements.v1", "x.y") == (
            "https://council.example/dps/schemas/placements.v1.json#x.y"
        )
    finally:
        set_schema_base(DEFAULT_SCHEMA_BASE)
    monkeypatch.setenv("DPS_EVENT_SCHEMA_BASE", "schemas/")
    with pytest.raises(ValueError, match="absolute"):
        settings_for("placements")
