"""Admin analytics against hand-computed figures, and CSV exports."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storefront.catalog.models import Product
from storefront.orders.models import Order
from tests.helpers import Api, assert_error, bearer, serve


@pytest.fixture
async def history(api: Api, connection: AsyncConnection) -> dict[str, Any]:
    """Four orders on fixed days; one cancelled. Prices: A 10.00, B 2.50 (title with awkward characters)."""
    category = await api.category("Analytics")
    a = await api.product(category["slug"], "Lamp A", price="10.00", stock=100, low_stock_threshold=5)
    b = await api.product(category["slug"], 'Crème "B", brûlée; edition', slug="b", price="2.50", stock=8)
    buyer = await api.customer()
    placed = [
        (await api.order(buyer, *items)).json()
        for items in ([(a["id"], 2)], [(a["id"], 1), (b["id"], 4)], [(b["id"], 1)], [(a["id"], 5)])
    ]
    days = ["2026-03-01T10:00:00", "2026-03-01T23:59:59", "2026-03-03T00:00:00", "2026-03-03T12:00:00"]
    for order, day in zip(placed, days, strict=True):
        await connection.execute(
            update(Order)
            .where(Order.id == order["id"])
            .values(created_at=datetime.fromisoformat(day).replace(tzinfo=UTC))
        )
    await api.client.post(f"/api/v1/orders/{placed[3]['id']}/cancel", headers=buyer)
    return {"a": a, "b": b, "orders": placed}


async def test_analytics_matches_hand_computed_figures(api: Api, history: dict[str, Any]) -> None:
    a, b = history["a"], history["b"]
    admin = await api.admin_headers()
    response = await api.client.get(
        "/api/v1/admin/analytics", params={"from": "2026-03-01", "to": "2026-03-04"}, headers=admin
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["days"] == [
        {"date": "2026-03-01", "orders": 2, "revenue": "40.00"},  # 20.00 + (10.00 + 10.00)
        {"date": "2026-03-02", "orders": 0, "revenue": "0.00"},
        {"date": "2026-03-03", "orders": 1, "revenue": "2.50"},  # the 50.00 order was cancelled
        {"date": "2026-03-04", "orders": 0, "revenue": "0.00"},
    ]
    # Every status is counted, the checkout ones (pending_payment, refunded) too: none were placed here.
    assert body["orders_by_status"] == {
        "pending_payment": 0, "placed": 3, "shipped": 0, "delivered": 0, "cancelled": 1, "refunded": 0,
    }  # fmt: skip
    assert body["top_products"]["by_revenue"] == [
        {"product_id": a["id"], "title": "Lamp A", "units": 3, "revenue": "30.00"},
        {"product_id": b["id"], "title": b["title"], "units": 5, "revenue": "12.50"},
    ]
    assert [item["product_id"] for item in body["top_products"]["by_units"]] == [b["id"], a["id"]]
    assert {"product_id": b["id"], "title": b["title"], "stock": 3, "low_stock_threshold": 5} in body["low_stock"]

    narrow = (
        await api.client.get(
            "/api/v1/admin/analytics", params={"from": "2026-03-02", "to": "2026-03-02"}, headers=admin
        )
    ).json()
    assert narrow["days"] == [{"date": "2026-03-02", "orders": 0, "revenue": "0.00"}]
    assert narrow["top_products"]["by_revenue"] == []


async def test_analytics_checks_its_input(api: Api) -> None:
    admin = await api.admin_headers()
    backwards = await api.client.get(
        "/api/v1/admin/analytics", params={"from": "2026-03-05", "to": "2026-03-01"}, headers=admin
    )
    assert_error(backwards, 422, "VALIDATION_ERROR")
    too_long = await api.client.get(
        "/api/v1/admin/analytics", params={"from": "2020-01-01", "to": "2026-01-01"}, headers=admin
    )
    assert_error(too_long, 422, "VALIDATION_ERROR")
    assert_error(
        await api.client.get("/api/v1/admin/analytics", params={"from": "x", "to": "y"}, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
    customer = await api.customer()
    assert_error(
        await api.client.get(
            "/api/v1/admin/analytics", params={"from": "2026-03-01", "to": "2026-03-01"}, headers=customer
        ),
        403,
        "FORBIDDEN",
    )


async def test_orders_csv_round_trips(api: Api, history: dict[str, Any]) -> None:
    admin = await api.admin_headers()
    response = await api.client.get(
        "/api/v1/reports/orders.csv", params={"from": "2026-03-01", "to": "2026-03-03"}, headers=admin
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="orders-2026-03-01-2026-03-03.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        "order_id", "created_at", "status", "user_email", "product_id", "title",
        "unit_price", "quantity", "line_total", "order_total",
    ]  # fmt: skip
    expected = [
        (
            order["id"],
            item["product_id"],
            item["title"],
            item["unit_price"],
            item["quantity"],
            item["line_total"],
            order["total"],
        )
        for order in history["orders"]
        for item in order["items"]
    ]
    got = [
        (
            int(row["order_id"]),
            int(row["product_id"]),
            row["title"],
            row["unit_price"],
            int(row["quantity"]),
            row["line_total"],
            row["order_total"],
        )
        for row in rows
    ]
    assert got == expected
    assert rows[-1]["status"] == "cancelled"
    assert any(row["title"] == 'Crème "B", brûlée; edition' for row in rows)


async def test_exports_neutralise_spreadsheet_formulas(api: Api) -> None:
    # Text that a spreadsheet would run as a formula is written with a leading apostrophe.
    category = await api.category("Formulas")
    product = await api.product(category["slug"], "=HYPERLINK(1) lamp", price="3.00", stock=5)
    _, tokens = await api.user_tokens(f"-attack{uuid.uuid4().hex[:6]}@example.com")
    buyer = bearer(tokens["access_token"])
    assert (await api.order(buyer, (product["id"], 1))).status_code == 201
    admin = await api.admin_headers()
    today = datetime.now(UTC).date().isoformat()
    orders = await api.client.get("/api/v1/reports/orders.csv", params={"from": today, "to": today}, headers=admin)
    row = next(row for row in csv.DictReader(io.StringIO(orders.text)) if int(row["product_id"]) == product["id"])
    assert row["title"] == "'=HYPERLINK(1) lamp"
    assert row["user_email"].startswith("'-attack")
    products = await api.client.get("/api/v1/reports/products.csv", headers=admin)
    titles = {row["id"]: row["title"] for row in csv.DictReader(io.StringIO(products.text))}
    assert titles[str(product["id"])] == "'=HYPERLINK(1) lamp"


async def test_products_csv_round_trips(make_api: Any, history: dict[str, Any]) -> None:
    api: Api = await make_api(report_batch_size=10)  # several batches
    category = history["a"]["category"]["slug"]
    for index in range(25):
        await api.product(category, f"Filler, {index}")
    response = await api.client.get("/api/v1/reports/products.csv", headers=await api.admin_headers())
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    ours = {row["slug"]: row for row in rows}
    b = ours["b"]
    assert b["title"] == 'Crème "B", brûlée; edition'
    assert (b["price"], b["stock"], b["category"]) == ("2.50", "3", category)
    assert sum(1 for row in rows if row["title"].startswith("Filler, ")) == 25
    ids = [int(row["id"]) for row in rows]
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))
    customer = await api.customer()
    assert_error(await api.client.get("/api/v1/reports/products.csv", headers=customer), 403, "FORBIDDEN")


async def test_a_client_that_disconnects_stops_the_export(
    make_api: Any, history: dict[str, Any], capsys: pytest.CaptureFixture[str], connection: AsyncConnection
) -> None:
    api: Api = await make_api(report_batch_size=10)
    category = history["a"]["category"]["slug"]
    for index in range(60):
        await api.product(category, f"Row {index}")
    # Megabytes more, so that the export cannot be over before the hang-up reaches the
    # server: on PostgreSQL a single COPY writes these 60 rows in one chunk.
    category_id = history["a"]["category"]["id"]
    bulk = [
        {"slug": f"bulk-{index}", "title": "x" * 190, "category_id": category_id, "price_cents": 1, "stock": 1}
        for index in range(20_000)
    ]
    await connection.execute(insert(Product), bulk)
    headers = await api.admin_headers()
    async with serve(api.app) as base, httpx.AsyncClient(base_url=base, timeout=10) as client:
        async with client.stream("GET", "/api/v1/reports/products.csv", headers=headers) as response:
            assert response.status_code == 200
            async for _ in response.aiter_bytes():
                break  # read the first chunk, then hang up
        for _ in range(50):
            if "report_cancelled" in capsys.readouterr().err:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the export kept running after the client left")
