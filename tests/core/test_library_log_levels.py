"""Library loggers at the levels the configuration gives them: taskiq's per-job "Executing
task" line is off at INFO (our ``job_done`` line says it, with the outbox's job id), its
warnings stay, and LOG_LEVEL=DEBUG shows all of it."""

from __future__ import annotations

import io
import logging

from storefront.core.logging import configure_logging

RECEIVER = logging.getLogger("taskiq.receiver.receiver")  # the logger taskiq's receiver writes to


def test_taskiqs_per_job_line_is_off_at_info_and_its_warnings_are_not() -> None:
    stream = io.StringIO()
    try:
        configure_logging("INFO", stream=stream)
        RECEIVER.info("Executing task %s with ID: %s", "orders.notify_placed", "abc")
        RECEIVER.warning("task %s is not found", "orders.gone")
        logged = stream.getvalue()
        assert "Executing task" not in logged
        assert "orders.gone" in logged

        configure_logging("DEBUG", stream=stream)
        RECEIVER.info("Executing task %s with ID: %s", "orders.notify_placed", "abc")
        assert "Executing task orders.notify_placed" in stream.getvalue()
    finally:
        configure_logging()
