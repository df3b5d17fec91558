"""The analytics report timed in-process on an existing PostgreSQL database, with a digest
of its answer (low stock left aside) so that two versions can be proved to agree:

    flock /tmp/storefront-bench.lock .venv/bin/python -m bench.analytics_timing \\
        postgresql+asyncpg://postgres@127.0.0.1/storefront_bench_reports_200000_copy [runs]

Used for issue 16 row 7 on a private copy of the reports bench database (`CREATE DATABASE
.. TEMPLATE storefront_bench_reports_200000`), so that upgrading it does not touch the shared one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import statistics
import sys
import time
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from storefront.analytics.service import Analytics

RANGES = {
    "30 days": (date(2025, 6, 1), date(2025, 6, 30)),
    "365 days": (date(2025, 1, 1), date(2025, 12, 31)),
    "200 days, partial months": (date(2025, 3, 17), date(2025, 10, 2)),
}


async def measure(url: str, runs: int) -> None:
    engine = create_async_engine(url)
    try:
        for label, (first, last) in RANGES.items():
            timings = []
            for attempt in range(runs + 1):  # the first warms the pool and the buffers
                async with AsyncSession(engine) as session:
                    began = time.perf_counter()
                    report = await Analytics(session).report(first, last)
                    if attempt:
                        timings.append((time.perf_counter() - began) * 1000)
            report.pop("low_stock")
            digest = hashlib.sha256(json.dumps(report, sort_keys=True).encode()).hexdigest()[:12]
            print(f"{label}: median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms, digest {digest}")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(measure(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5))
