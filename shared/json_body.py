"""A route's answer as the JSON bytes FastAPI would send for it, without FastAPI's
copies.

For a route declared to return `dict[str, Any]`, FastAPI validates the returned dict
against that type (a copy), serialises it in pydantic's JSON mode (another) and renders
that with `json.dumps`. The validation of a dict we built ourselves checks nothing; here
the same serialisation and rendering run on their own, so the bytes are the same.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Response
from pydantic import TypeAdapter

_ANY_DICT: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])


def json_body(content: dict[str, Any]) -> bytes:
    """`content` as FastAPI renders the answer of a route returning `dict[str, Any]`."""
    return json.dumps(
        _ANY_DICT.dump_python(content, mode="json"),
        ensure_ascii=False,
        allow_nan=False,
        indent=None,
        separators=(",", ":"),
    ).encode("utf-8")


def json_response(content: dict[str, Any]) -> Response:
    return Response(json_body(content), media_type="application/json")
