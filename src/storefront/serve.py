"""`storefront serve`'s main process: Granian's worker processes, and a drain on SIGTERM.

Granian stops accepting connections as soon as its main process gets SIGTERM.
Behind a balancer that still believes the process is up, that refuses the
requests sent before the next health check notices (measured 2026-12-03: 28 of
1,891 requests answered 503 during a rolling restart without balancer retries).
So SIGTERM starts a drain instead (``storefront.core.lifecycle``): a marker file
tells every worker process to report "not ready" while still serving, and only
after ``SHUTDOWN_DRAIN_SECONDS`` does Granian's own shutdown begin, giving
in-flight requests ``SHUTDOWN_GRACE_SECONDS``. A second SIGTERM, or SIGINT
(Ctrl-C), stops at once.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import structlog
from granian import Granian
from granian.constants import Interfaces, Loops

from storefront.config import Settings

log = structlog.get_logger("storefront.serve")


class SigtermDrain:
    """Turns SIGTERM into drain-then-stop for a Granian server."""

    def __init__(self, interrupt: Callable[[], None], marker: Path, drain_seconds: float) -> None:
        self.interrupt = interrupt  # Granian's own SIGINT/SIGTERM handler: begin the shutdown
        self.marker = marker
        self.drain_seconds = drain_seconds
        self._timer: threading.Timer | None = None

    def install(self) -> None:
        """A Granian start-up hook: it runs after Granian installed its own handlers."""
        signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        if self._timer is not None or self.drain_seconds <= 0:
            self.interrupt()
            return
        self.marker.touch()
        log.info("draining", drain_seconds=self.drain_seconds)
        self._timer = threading.Timer(self.drain_seconds, self.interrupt)
        self._timer.daemon = True
        self._timer.start()


def run_server(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve until stopped. The worker processes find the drain marker through the environment."""
    marker_dir = Path(tempfile.mkdtemp(prefix="storefront-serve-"))
    marker = marker_dir / "draining"
    os.environ["STOREFRONT_DRAIN_MARKER"] = str(marker)
    server = Granian(
        "storefront.app:create_app",
        factory=True,
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        loop=Loops.uvloop,
        log_access=False,  # our middleware writes the access log
        respawn_failed_workers=True,
        # Granian waits this long for a worker's in-flight requests, then kills it (0: forever).
        workers_kill_timeout=max(1, math.ceil(settings.shutdown_grace_seconds)),
    )
    interrupt: Callable[[], None] = server.signal_handler_interrupt
    server.on_startup(SigtermDrain(interrupt, marker, settings.shutdown_drain_seconds).install)
    try:
        server.serve()
    finally:
        shutil.rmtree(marker_dir, ignore_errors=True)
