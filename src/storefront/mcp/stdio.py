"""``storefront mcp``: the MCP server over stdin/stdout for a local agent.

stdout carries the protocol and nothing else: logs go to stderr (and while the
SDK serves, it points file descriptor 1 at stderr, so even a stray print from a
library cannot corrupt the stream).
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from storefront.config import Settings
from storefront.core.logging import configure_logging
from storefront.core.observability import Metrics
from storefront.mcp.identity import FixedToken, authenticate
from storefront.mcp.server import build_server
from storefront.runtime import build_runtime

log = structlog.get_logger("storefront.mcp")


async def serve_stdio(settings: Settings, token: str) -> None:
    """Serve until the client closes stdin. Raises Unauthenticated if the token is refused."""
    configure_logging(settings.log_level, settings.resolved_log_format)
    async with build_runtime(settings, Metrics()) as state:
        # Refuse a bad token now, with a message on stderr, rather than on the first call.
        principal = await authenticate(state, token)
        server = build_server(state, FixedToken(state, token))
        jobs = state.jobs
        sweeper = None
        if jobs.runs_in_process and not settings.jobs_inline:
            # No broker to a separate worker: like the API process, run the jobs our
            # tools enqueue (order confirmations, notifications) here.
            sweeper = asyncio.create_task(jobs.sweeper.run_forever(), name="job-sweeper")
        log.info("mcp_stdio_started", user_id=principal.user.id, role=principal.user.role, database=state.db.dialect)
        try:
            await server.run_stdio_async()
        finally:
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            log.info("mcp_stdio_stopped")
