"""Events generated from the published schema (docs/schemas/ehc.plans.v1.json) are never
dead-lettered by the placements consumer for a rule the schema does not state.

The strategy is built from the published JSON Schema alone and every example is checked
by the reference validator (`jsonschema`, with format checking). hypothesis-jsonschema
would do the first part, but its 0.23.1 (the latest) calls a Hypothesis internal that
our pinned Hypothesis (6.170) no longer has, so the few keywords the document uses are
mapped here. The rules JSON Schema cannot state are the schema's `x-rules`; an
independent reading of them here predicts exactly which events are dead-lettered.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from aiokafka import ConsumerRecord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from sqlmodel import select

from shared.envelope import STRUCTURED_CONTENT_TYPE, Envelope
from shared.infra_models import DeadLetter
from tests.service.placements.conftest import Placements

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[3] / "docs/schemas/ehc.plans.v1.json").read_text()
)
DEFS: dict[str, Any] = SCHEMA["$defs"]
TOPIC = "ehc.plans.v1"
EXAMPLES = 150


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = DEFS[schema["$ref"].removeprefix("#/$defs/")]
    return schema


def strategy(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Instances of the subset of JSON Schema the document uses (validated afterwards)."""
    schema = _resolve(schema)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema and "type" not in schema:
        return st.one_of([strategy(branch) for branch in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "object":
        return _object(schema)
    if kind == "array":
        return st.lists(strategy(schema.get("items", {})), max_size=4)
    if kind == "string":
        if schema.get("format") == "date":
            return st.dates(date(1995, 1, 1), date(2035, 12, 31)).map(date.isoformat)
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(max_size=20)
    if kind == "integer":
        return st.integers(schema.get("minimum", -(10**6)), schema.get("maximum", 10**6))
    if kind == "number":
        low = schema.get("exclusiveMinimum", schema.get("minimum", -1e6))
        return st.floats(
            low,
            schema.get("maximum", 1e6),
            exclude_min="exclusiveMinimum" in schema,
            allow_nan=False,
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return st.none()


@st.composite
def _object(draw: st.DrawFn, schema: dict[str, Any]) -> dict[str, Any]:
    required = set(schema.get("required", []))
    out: dict[str, Any] = {}
    for name, sub in schema.get("properties", {}).items():
        if name in required or draw(st.booleans()):
            out[name] = draw(strategy(sub))
    if draw(st.booleans()):  # fields a council adds that the schema does not know
        out[draw(st.sampled_from(["case_note_ref", "first_name", "sen_unit"]))] = draw(
            st.text(max_size=10)
        )
    return out


def _at(instance: dict[str, Any], path: str) -> Any:
    value: Any = instance
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def broken_rules(schema: dict[str, Any], instance: Any) -> list[dict[str, Any]]:
    """The `x-rules` of the schema (and of nested objects' schemas) the instance breaks."""
    schema = _resolve(schema)
    if not isinstance(instance, dict):
        return []
    broken = [r for r in schema.get("x-rules", []) if _breaks(r, instance)]
    for name, value in instance.items():
        sub = schema.get("properties", {}).get(name)
        if sub is None or not isinstance(value, dict):
            continue
        branches = sub.get("anyOf", [sub])
        objects = [b for b in branches if _resolve(b).get("type") == "object"]
        broken += [m for b in objects[:1] for m in broken_rules(b, value)]
    return broken


def _breaks(rule: dict[str, Any], instance: dict[str, Any]) -> bool:
    field, other = _at(instance, rule["field"]), _at(instance, rule.get("other") or rule["on"])
    if field is None or other is None:
        return False
    first, second = date.fromisoformat(field), date.fromisoformat(other)
    if rule["rule"] == "before":
        return not first < second
    if rule["rule"] == "after":
        return not first > second
    assert rule["rule"] == "age_between", rule
    return not rule["minimum"] <= _age(first, second) <= rule["maximum"]


def _generated() -> list[tuple[str, dict[str, Any]]]:
    validator = Draft202012Validator(SCHEMA, format_checker=FormatChecker())
    events: list[tuple[str, dict[str, Any]]] = []
    for event_type in SCHEMA["events"]:
        events += [(event_type, data) for data in _examples(event_type)]
    assert all(validator.is_valid(data) for _, data in events)
    return events


def _examples(event_type: str) -> list[dict[str, Any]]:
    anchored = {**SCHEMA, "anyOf": [DEFS[event_type]]}
    valid = Draft202012Validator(anchored, format_checker=FormatChecker()).is_valid
    found: list[dict[str, Any]] = []

    @settings(
        max_examples=EXAMPLES // len(SCHEMA["events"]),
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy(DEFS[event_type]).filter(valid))
    def collect(data: dict[str, Any]) -> None:
        found.append(data)

    collect()
    return found


def _record(offset: int, event_type: str, data: dict[str, Any]) -> ConsumerRecord[bytes, bytes]:
    event = Envelope(
        type=event_type, source="urn:council:886", subject=str(data["child_ref"]), data=data
    )
    value = event.to_bytes()
    return ConsumerRecord(
        topic=TOPIC,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=event.subject.encode(),
        value=value,
        checksum=None,
        serialized_key_size=len(event.subject),
        serialized_value_size=len(value),
        headers=[("content-type", STRUCTURED_CONTENT_TYPE.encode())],
    )


async def test_schema_valid_events_are_dead_lettered_only_for_rules_the_schema_states(
    placements: Placements,
) -> None:
    events = _generated()
    assert len(events) >= EXAMPLES // 2
    [consumer] = [c for c in placements.runtime.consumers if c.topic == TOPIC]
    records = [_record(i, t, d) for i, (t, d) in enumerate(events)]
    for start in range(0, len(records), 25):
        await consumer.process(records[start : start + 25])

    async with placements.runtime.db.session() as session:
        dead = {d.offset: d.reason for d in (await session.exec(select(DeadLetter))).all()}
    expected = {
        i: broken
        for i, (event_type, data) in enumerate(events)
        if (broken := broken_rules(DEFS[event_type], data))
    }
    unexplained = {i: (events[i], reason) for i, reason in dead.items() if i not in expected}
    assert unexplained == {}, "dead-lettered for a rule the schema does not state"
    assert set(dead) == set(expected), "the schema states a rule the consumer does not enforce"
    for offset, broken in expected.items():
        assert any(rule["field"] in dead[offset] for rule in broken), (dead[offset], broken)
    assert len(expected) < len(events)  # the generator reaches accepted events too
