"""CSV exports on PostgreSQL (one COPY, written by the server) against the csv module's path:
the same bytes, a client that leaves stops the COPY and gives its connection back, and
errors before the first byte keep the API's error envelope."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy import delete, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storefront.catalog.models import Category, Product
from storefront.config import Settings
from storefront.core.db import Database, create_engine
from storefront.core.logging import configure_logging
from storefront.identity.models import User
from storefront.orders.models import Order, OrderLine
from storefront.reports.service import Reports, _RowEnds
from tests.helpers import Api, assert_error

# Text a CSV writer and a spreadsheet both care about: separators, quotes, line breaks
# (alone, in pairs, at either end), formula starts, an empty string, non-ASCII.
AWKWARD = [
    "plain",
    "comma, inside",
    'a "quoted" word',
    '"',
    '""',
    "line\nbreak",
    "carriage\rreturn",
    "windows\r\nbreak",
    "\nleading newline",
    "trailing newline\n",
    "=SUM(A1:A9)",
    "+1 555",
    "-minus",
    "@handle",
    "\ttab first",
    "\rcr first",
    "'apostrophe first",
    " leading space",
    "",
    "Crème brûlée, naïve café ☕ 🎉 ß 東京",
    '=HYPERLINK("http://x",\n"y")',
    "back\\slash \\. and \\N",
]


async def _collect(body: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in body])


async def _awkward_history(connection: AsyncConnection) -> int:
    """Products, users and orders holding AWKWARD text, written straight to the tables (the
    API would refuse some of it; a report must still write whatever a table holds)."""
    tag = uuid.uuid4().hex[:8]
    category_id = (
        await connection.execute(
            insert(Category).values(name=f"Awkward {tag}", slug=f"=awkward-{tag}").returning(Category.id)
        )
    ).scalar_one()
    created = [
        datetime(2026, 5, 1, 0, 0, 0, tzinfo=UTC),  # no microseconds: isoformat leaves them out
        datetime(2026, 5, 1, 12, 30, 5, 120000, tzinfo=UTC),
        datetime(2026, 5, 2, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 5, 3, 8, 0, 0, 1, tzinfo=UTC),
    ]
    prices = [Decimal("0.00"), Decimal("0.05"), Decimal("12.34"), Decimal("1000000.00"), Decimal("9.90")]
    product_ids = []
    for index, title in enumerate(AWKWARD):
        product_ids.append(
            (
                await connection.execute(
                    insert(Product)
                    .values(
                        slug=f"awkward-{tag}-{index}" if index % 3 else f"-awkward,{tag} {index}",
                        title=title,
                        category_id=category_id,
                        price=prices[index % len(prices)],
                        stock=index,
                        created_at=created[index % len(created)],
                    )
                    .returning(Product.id)
                )
            ).scalar_one()
        )
    user_ids = []
    for index, email in enumerate(["=evil@example.com", '"quoted"@example.com', "plain@example.com", ""]):
        user = insert(User).values(email=email, name=f"User {index}", password_hash="x").returning(User.id)
        user_ids.append((await connection.execute(user)).scalar_one())
    for index in range(12):
        lines = [
            (product_ids[(index * 3 + offset) % len(product_ids)], AWKWARD[(index * 5 + offset) % len(AWKWARD)])
            for offset in range(1 + index % 3)
        ]
        total = sum(Decimal(index + offset) + Decimal("0.99") for offset in range(len(lines)))
        order_id = (
            await connection.execute(
                insert(Order)
                .values(
                    user_id=user_ids[index % len(user_ids)],
                    status=["placed", "cancelled", "shipped", "pending_payment"][index % 4],
                    total=total,
                    created_at=created[index % len(created)],
                )
                .returning(Order.id)
            )
        ).scalar_one()
        for offset, (product_id, title) in enumerate(lines):
            unit = Decimal(index + offset) + Decimal("0.99")
            await connection.execute(
                insert(OrderLine).values(
                    order_id=order_id, product_id=product_id, title=title, unit_price=unit, quantity=1, line_total=unit
                )
            )
    return len(product_ids)


def test_row_ends_follow_the_quoting_across_chunks() -> None:
    # PostgreSQL ends rows with \n, the csv module with \r\n; a \n inside a quoted field stays.
    rows = [[title, "x", title + '"'] for title in AWKWARD] + [["", "", ""], ['"\n"', "\n\n", "end"]]
    for quoting in (csv.QUOTE_ALL, csv.QUOTE_MINIMAL):
        # (QUOTE_MINIMAL with a \n terminator would not quote a lone \r, as PostgreSQL does.)
        kept = [row for row in rows if quoting == csv.QUOTE_ALL or "\r" not in row[0]]
        lf, crlf = io.StringIO(), io.StringIO()
        csv.writer(lf, lineterminator="\n", quoting=quoting).writerows(kept)
        csv.writer(crlf, lineterminator="\r\n", quoting=quoting).writerows(kept)
        source, expected = lf.getvalue().encode(), crlf.getvalue().encode()
        assert _RowEnds()(source) == expected
        assert _RowEnds()(bytearray(source)) == expected  # what asyncpg hands over
        for cut in range(len(source) + 1):  # every place a chunk can end
            ends = _RowEnds()
            assert ends(source[:cut]) + ends(source[cut:]) == expected, cut
        shuffle = random.Random(16)  # noqa: S311 - reproducible cut points, not secrets
        for _ in range(200):
            cuts = sorted(shuffle.sample(range(len(source)), 12))
            ends = _RowEnds()
            pieces = [source[a:b] for a, b in zip([0, *cuts], [*cuts, len(source)], strict=True)]
            assert b"".join(ends(piece) for piece in pieces) == expected


@pytest.fixture
def postgres_only(settings: Settings) -> None:
    if settings.is_sqlite:
        pytest.skip("COPY is PostgreSQL's; SQLite has only the csv module's path")


@pytest.mark.usefixtures("postgres_only")
async def test_postgres_exports_are_byte_identical_to_the_csv_path(make_api: Any, connection: AsyncConnection) -> None:
    awkward = await _awkward_history(connection)
    api: Api = await make_api(report_batch_size=10)  # the csv path reads several batches
    db = api.app.state.storefront.db
    server, python = Reports(db, 10), Reports(db, 10)
    assert server.copy
    python.copy = False

    products = await _collect(python.products())
    assert await _collect(server.products()) == products
    ours = [row for row in csv.DictReader(io.StringIO(products.decode(), newline="")) if "awkward" in row["slug"]]
    assert len(ours) == awkward
    assert {row["title"] for row in ours} >= {"'=SUM(A1:A9)", "line\nbreak", '"', "", "'\rcr first"}

    for start, end in [(date(2026, 5, 1), date(2026, 5, 3)), (date(2026, 5, 2), date(2026, 5, 2))]:
        orders = await _collect(python.orders(start, end))
        assert await _collect(server.orders(start, end)) == orders
        assert orders.count(b"\r\n") > 5
    times = {row["created_at"] for row in csv.DictReader(io.StringIO(orders.decode(), newline=""))}
    assert times == {"2026-05-02T23:59:59.999999+00:00"}

    # The same bytes over HTTP, the router included.
    admin = await api.admin_headers()
    window = {"from": start.isoformat(), "to": end.isoformat()}
    response = await api.client.get("/api/v1/reports/orders.csv", params=window, headers=admin)
    assert response.status_code == 200
    assert response.content == orders


@pytest.mark.usefixtures("postgres_only")
async def test_a_client_that_leaves_mid_copy_gives_the_connection_back(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    # A real pool and committed rows (the app's own reader, not the test's transaction):
    # enough of them (~33 MB: more than the queue and loopback's socket buffers hold) that
    # the COPY is still running, held back, when the client leaves.
    configure_logging(settings.log_level, settings.resolved_log_format)  # to this test's stderr
    db = Database(create_engine(settings), create_engine(settings, autocommit=True))
    tag = uuid.uuid4().hex[:8]
    try:
        async with db.engine.begin() as connection:
            category_id = (
                await connection.execute(
                    insert(Category).values(name=f"Bulk {tag}", slug=f"bulk-{tag}").returning(Category.id)
                )
            ).scalar_one()
            await connection.execute(
                text(
                    "INSERT INTO products (slug, title, category_id, price_cents, stock, created_at, updated_at) "
                    "SELECT :tag || '-' || n || repeat('s', 180), repeat('x', 190) || n, :category, n, n, now(), now() "
                    "FROM generate_series(1, 80000) AS n"
                ),
                {"tag": f"bulk-{tag}", "category": category_id},
            )
        reports = Reports(db, 2000)
        assert reports.copy
        body = cast(AsyncGenerator[bytes], reports.products())
        assert (await anext(body)).startswith(b"id,slug,")
        assert len(await anext(body)) > 0
        await asyncio.sleep(0.3)  # the queue fills; PostgreSQL waits on its socket
        async with db.engine.connect() as probe:
            # pg_stat_activity is read once per transaction unless the snapshot is cleared.
            copying = (
                "SELECT count(*) FROM pg_stat_activity, pg_stat_clear_snapshot() "
                "WHERE datname = current_database() AND state = 'active' AND query LIKE 'COPY (%'"
            )
            assert (await probe.execute(text(copying))).scalar_one() == 1
            await body.aclose()  # what the server does when the client hangs up
            assert db.read_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
            left = (
                "SELECT count(*) FROM pg_stat_activity, pg_stat_clear_snapshot() WHERE datname = current_database() "
                "AND (query LIKE 'COPY (%' OR query LIKE 'SET LOCAL statement_timeout%') "
                "AND state <> 'idle'"
            )
            for _ in range(50):
                if (await probe.execute(text(left))).scalar_one() == 0:
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the COPY (or its transaction) outlived the download")
        assert "report_cancelled" in capsys.readouterr().err
        # The connection went back to the pool usable: the next export is whole.
        whole = await _collect(reports.products())
        assert whole.count(f"bulk-{tag}-".encode()) == 80000
        assert db.read_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        async with db.engine.begin() as connection:
            await connection.execute(delete(Product).where(Product.slug.like(f"bulk-{tag}-%")))
            await connection.execute(delete(Category).where(Category.slug == f"bulk-{tag}"))
        await db.dispose()


async def test_export_errors_before_the_first_byte_keep_the_envelope(api: Api) -> None:
    admin = await api.admin_headers()
    backwards = await api.client.get(
        "/api/v1/reports/orders.csv", params={"from": "2026-03-05", "to": "2026-03-01"}, headers=admin
    )
    assert_error(backwards, 422, "VALIDATION_ERROR")
    missing = await api.client.get("/api/v1/reports/orders.csv", params={"from": "2026-03-05"}, headers=admin)
    assert_error(missing, 422, "VALIDATION_ERROR")
    assert_error(await api.client.get("/api/v1/reports/products.csv"), 401, "UNAUTHENTICATED")
    customer = await api.customer()
    forbidden = await api.client.get(
        "/api/v1/reports/orders.csv", params={"from": "2026-03-01", "to": "2026-03-01"}, headers=customer
    )
    assert_error(forbidden, 403, "FORBIDDEN")
    assert (await api.client.get("/api/v1/reports/products.csv", headers=admin)).status_code == 200
