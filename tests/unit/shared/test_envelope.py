from __future__ import annotations

import pytest
from pydantic import BaseModel

from shared.envelope import UndecodableEvent, decode_envelope, new_event


class Sample(BaseModel):
    child_ref: str


def test_new_event_round_trips_and_keys_by_subject() -> None:
    event = new_event(
        "ehc.plan.issued", source="council/886", subject="KCC-1", data=Sample(child_ref="KCC-1")
    )
    decoded = decode_envelope(event.to_bytes())
    assert decoded.id == event.id
    assert decoded.key == b"KCC-1"
    assert decoded.correlationid == event.id  # a new journey starts with its own id
    assert decoded.data == {"child_ref": "KCC-1"}


def test_correlation_id_is_carried_when_given() -> None:
    event = new_event("t", source="s", subject="x", data=Sample(child_ref="x"), correlation_id="c1")
    assert decode_envelope(event.to_bytes()).correlationid == "c1"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "empty message"),
        (b"{oops", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"specversion": "0.3"}', "specversion must be '1.0'"),
        (b'{"specversion": "1.0", "id": "1", "type": "t", "source": "s"}', "bad envelope: subject"),
        (
            b'{"specversion": "1.0", "type": "t", "source": "s", "subject": "x"}',
            "missing required CloudEvents attribute\\(s\\): id",
        ),
    ],
)
def test_undecodable_messages_say_why(raw: bytes | None, reason: str) -> None:
    with pytest.raises(UndecodableEvent, match=reason):
        decode_envelope(raw)


def test_an_event_read_in_one_pass_equals_the_checked_path() -> None:
    from shared.envelope import validate_document

    event = new_event(
        "t", source="s", subject="x", data=Sample(child_ref="x"), topic="ehc.plans.v1"
    )
    raw = event.to_bytes()
    import json

    assert decode_envelope(raw) == validate_document(json.loads(raw)) == event


def test_one_pass_never_invents_an_attribute() -> None:
    # The model has defaults for id and specversion; a message without them is refused.
    with pytest.raises(UndecodableEvent, match="specversion"):
        decode_envelope(b'{"id": "1", "type": "t", "source": "s", "subject": "x"}')


@pytest.mark.parametrize(
    "raw",
    [
        b'{"specversion": "1.0", "id": "e1", "type": "t", "source": "s", "subject": "x",'
        b' "time": "2025-01-02T03:04:05Z", "data": {"a": [1, 2.5, null]}, "ext": "kept"}',
        b'{"specversion": "1.0", "id": "e2", "type": "t", "source": "s", "subject": "x",'
        b' "time": "2025-01-02T03:04:05+01:00", "correlationid": "c"}',
    ],
)
def test_the_one_pass_json_parse_gives_the_step_by_step_envelope(raw: bytes) -> None:
    import json

    from shared.envelope import validate_document

    assert decode_envelope(raw) == validate_document(json.loads(raw))
