"""json_body renders a dict as FastAPI renders the same dict from a `dict[str, Any]` route."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.json_body import json_body, json_response


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


CONTENT: dict[str, Any] = {
    "when": datetime(2026, 12, 7, 6, 41, 23, 738572, tzinfo=UTC),
    "local": datetime(2026, 6, 1, 9, 0, tzinfo=timezone(timedelta(hours=1))),
    "naive": datetime(2026, 6, 1, 9, 0),
    "on": date(2026, 4, 1),
    "at": time(13, 5),
    "money": Decimal("1234.50"),
    "whole": Decimal("200"),
    "tiny": Decimal("0.000001"),
    "ratio": 0.1,
    "big": 1e16,
    "count": 3,
    "yes": True,
    "nothing": None,
    "colour": Colour.RED,
    "level": Level.HIGH,
    "id": uuid.UUID("22028544-d630-550a-bb06-7a3b3df689d1"),
    "text": 'Ysgol Gymraeg — “quoted” \u2028 line\tand "escapes" and ünïcödé',
    "list": [{"seq": 0, "at": datetime(2026, 1, 1, tzinfo=UTC)}, (1, 2), []],
    "nested": {"deeper": {"amount": Decimal("-5.25"), "days": [date(2026, 1, 2)]}},
    "duration": timedelta(days=1, seconds=5),
}


def _fastapi_bytes(content: dict[str, Any]) -> bytes:
    app = FastAPI()

    @app.get("/thing")
    def thing() -> dict[str, Any]:
        return content

    return TestClient(app).get("/thing").content


def test_the_bytes_are_fastapis() -> None:
    assert json_body(CONTENT) == _fastapi_bytes(CONTENT)


def test_each_value_alone_is_rendered_as_fastapi_does() -> None:
    for name, value in CONTENT.items():
        assert json_body({name: value}) == _fastapi_bytes({name: value}), name


def test_the_response_is_json() -> None:
    response = json_response({"a": Decimal("1.50")})
    assert response.media_type == "application/json"
    assert response.body == b'{"a":"1.50"}'
