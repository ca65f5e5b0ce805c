"""Structured JSON logs; every line inside a handler carries the event and correlation id.

Our own lines come from structlog. Libraries (uvicorn, aiokafka, temporalio and its Core,
alembic, SQLAlchemy) log through stdlib `logging`: the root handler renders their records
with the same processors, so with `as_json` every line on stderr is one JSON object with
`event`, `level`, `logger`, `timestamp`, `service` and whatever context is bound
(`correlation_id` inside a handler). Library chatter below WARNING is dropped.
"""

from __future__ import annotations

import logging
import sys
from typing import IO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

LIBRARY_LEVEL = logging.WARNING
_HANDLER_NAME = "dps"


def configure_logging(
    service: str, level: str = "INFO", as_json: bool = True, stream: IO[str] | None = None
) -> None:
    out = stream if stream is not None else sys.stderr
    renderer: Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    shared = _shared_processors(service)
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level)),
        logger_factory=_NamedPrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    _route_stdlib_logging(out, shared, renderer, max(LIBRARY_LEVEL, getattr(logging, level)))


def _shared_processors(service: str) -> list[Processor]:
    def default_service(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
        # Lines logged outside our context (Temporal Core's forwarded logs, threads)
        # still say which service wrote them.
        event.setdefault("service", service)
        return event

    return [
        structlog.contextvars.merge_contextvars,
        default_service,
        structlog.processors.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _route_stdlib_logging(
    out: IO[str], shared: list[Processor], renderer: Processor, level: int
) -> None:
    """Replace the root logger's handlers with one that renders like structlog."""
    handler = logging.StreamHandler(out)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's loggers carry handlers of their own unless started with log_config=None
    # (shared.runtime.serve does): make sure they propagate to ours either way.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
        library.setLevel(logging.NOTSET)


class _NamedPrintLogger(structlog.PrintLogger):
    """structlog's fast print logger, with the name `add_logger_name` reads."""

    def __init__(self, file: IO[str], name: str) -> None:
        super().__init__(file)  # type: ignore[arg-type]
        self.name = name


class _NamedPrintLoggerFactory:
    def __init__(self, file: IO[str]) -> None:
        self.file = file

    def __call__(self, *args: object) -> _NamedPrintLogger:
        return _NamedPrintLogger(self.file, str(args[0]) if args else "")


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]
