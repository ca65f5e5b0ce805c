"""Every log line is one JSON object, the libraries' lines included (issue 17)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from shared.logging import configure_logging, get_logger


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    config = structlog.get_config()
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    structlog.configure(**config)
    structlog.contextvars.clear_contextvars()


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_library_and_own_lines_are_json_with_level_logger_time_and_context(
    restore_logging: None,
) -> None:
    out = io.StringIO()
    configure_logging("procurement", "INFO", as_json=True, stream=out)
    structlog.contextvars.bind_contextvars(correlation_id="c-123")
    get_logger("shared.consumer").info("event.applied", topic="providers.v1")
    logging.getLogger("aiokafka.consumer.group_coordinator").warning("heartbeat %s failed", "x")
    logging.getLogger("uvicorn.error").error("boom")
    try:
        raise ValueError("bad")
    except ValueError:
        logging.getLogger("temporalio.worker").exception("task failed")
    logged = lines(out)
    assert [entry["event"] for entry in logged] == [
        "event.applied",
        "heartbeat x failed",
        "boom",
        "task failed",
    ]
    for entry in logged:
        assert entry["service"] == "procurement"
        assert entry["correlation_id"] == "c-123"
        assert entry["timestamp"].endswith("Z")
    assert [e["level"] for e in logged] == ["info", "warning", "error", "error"]
    assert [e["logger"] for e in logged] == [
        "shared.consumer",
        "aiokafka.consumer.group_coordinator",
        "uvicorn.error",
        "temporalio.worker",
    ]
    assert "ValueError: bad" in logged[3]["exception"]


def test_library_chatter_below_warning_is_dropped(restore_logging: None) -> None:
    out = io.StringIO()
    configure_logging("placements", "DEBUG", as_json=True, stream=out)
    logging.getLogger("aiokafka").info("fetching")
    logging.getLogger("uvicorn.access").info("GET / 200")
    logging.getLogger("alembic.runtime.migration").debug("context")
    get_logger("shared.outbox").debug("outbox.published")
    assert [e["event"] for e in lines(out)] == ["outbox.published"]


def test_lines_logged_outside_the_bound_context_still_name_the_service(
    restore_logging: None,
) -> None:
    out = io.StringIO()
    configure_logging("monitoring", "INFO", as_json=True, stream=out)
    structlog.contextvars.clear_contextvars()
    logging.getLogger("temporalio.bridge.runtime").warning("core says")
    [entry] = lines(out)
    assert entry["service"] == "monitoring"
