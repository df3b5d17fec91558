"""Structured logs: JSON lines in production, readable console output in development.

Our own loggers use structlog's native path (no stdlib LogRecord per line, JSON
serialised by orjson): the access log writes a line per request, so its cost is
paid on every request. Standard-library loggers (uvicorn, SQLAlchemy, Alembic)
are formatted by the same processors, so every line has one shape.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import orjson
import structlog
from structlog.types import EventDict, Processor

from storefront.core.context import current_request_id

LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}


def _add_request_id(_: Any, __: str, event_dict: EventDict) -> EventDict:
    request_id = current_request_id()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


class _NamedLogger:
    """Writes rendered lines to a stream; carries the name ``add_logger_name`` reads."""

    def __init__(self, stream: TextIO, name: str) -> None:
        self._stream = stream
        self.name = name

    def msg(self, message: str) -> None:
        self._stream.write(message + "\n")
        self._stream.flush()

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


class _Factory:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def __call__(self, *args: Any) -> _NamedLogger:
        return _NamedLogger(self._stream, str(args[0]) if args else "storefront")


def _orjson(value: Any, **kwargs: Any) -> str:
    return orjson.dumps(value, **kwargs).decode()


def _renderer(fmt: str) -> list[Processor]:
    if fmt == "json":
        return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer(serializer=_orjson)]
    return [
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback)
    ]


_DATA_LOGGERS = ("aiosqlite", "stripe")


def configure_logging(level: str = "INFO", fmt: str = "console", stream: TextIO | None = None) -> None:
    stream = stream or sys.stderr
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, *_renderer(fmt)],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level]),
        logger_factory=_Factory(stream),
        # Not cached: tests and the CLI reconfigure; the lookup costs a dict access.
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_renderer(fmt)],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries whose debug lines carry data, kept at INFO even with LOG_LEVEL=DEBUG:
    # aiosqlite writes every statement with its parameters (password hashes, API token
    # hashes, addresses: tests/test_secrets_not_logged.py found them), Stripe's SDK its
    # request and response bodies (a PaymentIntent's client_secret). SQLAlchemy's engine
    # logs stay at its own default, WARNING.
    for name in _DATA_LOGGERS:
        logging.getLogger(name).setLevel(max(LEVELS[level], logging.INFO))
    # Our own middleware writes one line per request; uvicorn's would be a duplicate.
    logging.getLogger("uvicorn.access").disabled = True
    # taskiq's receiver writes "Executing task" for every job, through the standard library:
    # a duplicate of our own ``job_done`` line (which has the job's id in the outbox, not
    # the message's) that cost a twelfth of a busy worker's CPU (docs/performance.md, issue
    # 16 row 5). Its warnings stay; with LOG_LEVEL=DEBUG, all of it.
    logging.getLogger("taskiq.receiver").setLevel(LEVELS[level] if level == "DEBUG" else logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "granian", "_granian"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
