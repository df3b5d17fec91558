"""Placing, reading, cancelling orders; what follows an order; atomicity."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storefront.catalog.models import Product
from storefront.core.jobs import Job
from storefront.orders.models import Order
from tests.helpers import Api, assert_error, failing_commits


@pytest.fixture
async def shop(api: Api) -> dict[str, Any]:
    category = await api.category()
    mug = await api.product(category["slug"], "Order Mug", price="19.99", stock=10, low_stock_threshold=3)
    pot = await api.product(category["slug"], "Order Pot", price="5.00", stock=2)
    return {"mug": mug, "pot": pot, "category": category}


async def _stock(api: Api, product: dict[str, Any]) -> int:
    response = await api.client.get(f"/api/v1/products/{product['id']}")
    stock: int = response.json()["stock"]
    return stock


async def test_place_order_takes_stock_and_copies_prices(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    response = await api.order(buyer, (shop["mug"]["id"], 3), (shop["pot"]["id"], 1))
    assert response.status_code == 201, response.text
    order = response.json()
    assert response.headers["location"] == f"/api/v1/orders/{order['id']}"
    assert order["status"] == "placed"
    assert order["total"] == "64.97"
    assert order["items"] == [
        {
            "product_id": shop["mug"]["id"],
            "title": "Order Mug",
            "unit_price": "19.99",
            "quantity": 3,
            "line_total": "59.97",
        },
        {
            "product_id": shop["pot"]["id"],
            "title": "Order Pot",
            "unit_price": "5.00",
            "quantity": 1,
            "line_total": "5.00",
        },
    ]
    assert await _stock(api, shop["mug"]) == 7
    assert await _stock(api, shop["pot"]) == 1

    # A later price change leaves the order as it was.
    admin = await api.admin_headers()
    await api.client.patch(
        f"/api/v1/products/{shop['mug']['id']}", json={"price": "1.00", "title": "Cheap"}, headers=admin
    )
    again = (await api.client.get(f"/api/v1/orders/{order['id']}", headers=buyer)).json()
    assert again["items"][0]["unit_price"] == "19.99"
    assert again["items"][0]["title"] == "Order Mug"
    assert again["total"] == "64.97"


async def test_repeated_products_are_merged(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    response = await api.order(buyer, (shop["mug"]["id"], 1), (shop["mug"]["id"], 2))
    assert response.status_code == 201
    assert response.json()["items"][0]["quantity"] == 3


async def test_out_of_stock_takes_nothing_and_names_the_product(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    response = await api.order(buyer, (shop["mug"]["id"], 2), (shop["pot"]["id"], 3))
    error = assert_error(response, 409, "OUT_OF_STOCK")
    assert error["details"] == [{"product_id": shop["pot"]["id"], "requested": 3, "available": 2}]
    assert await _stock(api, shop["mug"]) == 10
    assert await _stock(api, shop["pot"]) == 2


async def test_unknown_and_archived_products_are_404(
    api: Api, shop: dict[str, Any], connection: AsyncConnection
) -> None:
    buyer = await api.customer()
    unknown = await api.order(buyer, (2_000_000_000, 1))
    assert "2000000000" in assert_error(unknown, 404, "NOT_FOUND")["message"]
    await connection.execute(
        update(Product).where(Product.id == shop["pot"]["id"]).values(archived_at=datetime.now(UTC))
    )
    archived = await api.order(buyer, (shop["mug"]["id"], 1), (shop["pot"]["id"], 1))
    assert str(shop["pot"]["id"]) in assert_error(archived, 404, "NOT_FOUND")["message"]
    assert await _stock(api, shop["mug"]) == 10


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": []}, "items"),
        ({"items": [{"product_id": 1, "quantity": 0}]}, "items.0.quantity"),
        ({"items": [{"product_id": 1, "quantity": 101}]}, "items.0.quantity"),
        ({"items": [{"product_id": 0, "quantity": 1}]}, "items.0.product_id"),
        ({"items": [{"product_id": 1, "quantity": 1, "price": "0.01"}]}, "items.0.price"),
        ({"items": [{"product_id": 1, "quantity": 1}], "total": "0.00"}, "total"),
        ({"items": [{"product_id": 1, "quantity": 1}], "status": "delivered"}, "status"),
    ],
)
async def test_order_validation(api: Api, body: dict[str, Any], field: str) -> None:
    response = await api.client.post("/api/v1/orders", json=body, headers=await api.customer())
    assert assert_error(response, 422, "VALIDATION_ERROR")["details"][0]["field"] == field


async def test_quantity_caps(make_api: Any, shop: dict[str, Any]) -> None:
    api: Api = await make_api(order_max_lines=2, order_max_units=5)
    buyer = await api.customer()
    category = shop["category"]["slug"]
    third = await api.product(category, stock=50)
    too_many_lines = await api.order(buyer, (shop["mug"]["id"], 1), (shop["pot"]["id"], 1), (third["id"], 1))
    assert_error(too_many_lines, 422, "VALIDATION_ERROR")
    too_many_units = await api.order(buyer, (third["id"], 6))
    assert_error(too_many_units, 422, "VALIDATION_ERROR")


async def test_orders_are_private(api: Api, shop: dict[str, Any]) -> None:
    alice, bob = await api.customer(), await api.customer()
    order = (await api.order(alice, (shop["mug"]["id"], 1))).json()
    assert_error(await api.client.get(f"/api/v1/orders/{order['id']}", headers=bob), 404, "NOT_FOUND")
    assert_error(await api.client.post(f"/api/v1/orders/{order['id']}/cancel", headers=bob), 404, "NOT_FOUND")
    assert (await api.client.get("/api/v1/orders", headers=bob)).json()["items"] == []
    # A customer cannot widen the listing with user_id.
    sneaky = await api.client.get("/api/v1/orders", params={"user_id": 1}, headers=bob)
    assert sneaky.json()["items"] == []
    assert [item["id"] for item in (await api.client.get("/api/v1/orders", headers=alice)).json()["items"]] == [
        order["id"]
    ]


async def test_admin_lists_all_orders_with_filters(api: Api, shop: dict[str, Any]) -> None:
    alice, bob = await api.customer(), await api.customer()
    mine = (await api.order(alice, (shop["mug"]["id"], 1))).json()
    theirs = (await api.order(bob, (shop["mug"]["id"], 1))).json()
    admin = await api.admin_headers()
    alice_id = (await api.client.get("/api/v1/users/me", headers=alice)).json()["id"]
    everyone = {
        item["id"]
        for item in (await api.client.get("/api/v1/orders", params={"limit": 100}, headers=admin)).json()["items"]
    }
    assert {mine["id"], theirs["id"]} <= everyone
    only_alice = (await api.client.get("/api/v1/orders", params={"user_id": alice_id}, headers=admin)).json()
    assert [item["id"] for item in only_alice["items"]] == [mine["id"]]
    await api.client.post(f"/api/v1/orders/{theirs['id']}/status", json={"status": "shipped"}, headers=admin)
    shipped = (await api.client.get("/api/v1/orders", params={"status": "shipped"}, headers=admin)).json()
    assert theirs["id"] in [item["id"] for item in shipped["items"]]
    assert mine["id"] not in [item["id"] for item in shipped["items"]]


async def test_cancel_gives_stock_back_once(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    order = (await api.order(buyer, (shop["mug"]["id"], 4))).json()
    assert await _stock(api, shop["mug"]) == 6
    cancelled = await api.client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert await _stock(api, shop["mug"]) == 10
    twice = await api.client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer)
    assert_error(twice, 409, "INVALID_TRANSITION")
    assert await _stock(api, shop["mug"]) == 10


async def test_status_lifecycle(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    admin = await api.admin_headers()
    order = (await api.order(buyer, (shop["mug"]["id"], 1))).json()
    url = f"/api/v1/orders/{order['id']}/status"
    assert_error(await api.client.post(url, json={"status": "shipped"}, headers=buyer), 403, "FORBIDDEN")
    assert_error(await api.client.post(url, json={"status": "delivered"}, headers=admin), 409, "INVALID_TRANSITION")
    assert (await api.client.post(url, json={"status": "shipped"}, headers=admin)).json()["status"] == "shipped"
    cancel = await api.client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer)
    assert_error(cancel, 409, "INVALID_TRANSITION")
    assert (await api.client.post(url, json={"status": "delivered"}, headers=admin)).json()["status"] == "delivered"
    for target in ("placed", "shipped", "cancelled"):
        assert_error(await api.client.post(url, json={"status": target}, headers=admin), 409, "INVALID_TRANSITION")
    assert_error(await api.client.post(url, json={"status": "lost"}, headers=admin), 422, "VALIDATION_ERROR")
    assert await _stock(api, shop["mug"]) == 9


async def test_an_order_sends_an_email_and_notifies(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    admin = await api.admin_headers()
    order = (await api.order(buyer, (shop["mug"]["id"], 8))).json()  # 10 → 2: below the threshold of 3

    mine = (await api.client.get("/api/v1/notifications", headers=buyer)).json()["items"]
    assert [(item["kind"], item["data"]["order_id"]) for item in mine] == [("order_placed", order["id"])]
    assert mine[0]["body"].startswith("8 items, total ")
    alerts = (await api.client.get("/api/v1/notifications", params={"unread": "true"}, headers=admin)).json()["items"]
    low = [item for item in alerts if item["kind"] == "low_stock"]
    assert [(item["data"]["product_id"], item["data"]["stock"]) for item in low] == [(shop["mug"]["id"], 2)]

    mail_dir = Path(api.state.settings.data_dir) / "mail"
    message_path = mail_dir / f"order-{order['id']}-confirmation_at_storefront.eml"
    message = BytesParser(policy=policy.default).parsebytes(message_path.read_bytes())
    assert message["Subject"] == f"Your order #{order['id']}"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert "Order Mug" in text.get_content()
    assert "159.92" in text.get_content()
    assert html is not None
    assert "<strong>#" in html.get_content()


async def test_a_failing_commit_leaves_no_order_no_stock_change_no_job(
    api: Api, shop: dict[str, Any], connection: AsyncConnection
) -> None:
    buyer = await api.customer()

    async def counts() -> tuple[int, int]:
        orders = await connection.scalar(select(func.count()).select_from(Order))
        jobs = await connection.scalar(select(func.count()).select_from(Job))
        return orders or 0, jobs or 0

    before = await counts()

    healthy = api.state.db.sessionmaker
    # By COMMIT the order row, its lines, the stock update and the jobs are all written. The
    # order's unit of work is the one with work waiting for its commit (the job hand-outs and
    # the cache invalidation); the order itself is written with INSERTs, not kept in the session.
    api.state.db.sessionmaker = failing_commits(connection, lambda session: bool(session.info.get("after_commit")))
    response = await api.order(buyer, (shop["mug"]["id"], 2))
    api.state.db.sessionmaker = healthy
    # The database went away: an outage (503, retry), and nothing of the order kept.
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert await counts() == before
    stock = await connection.scalar(select(Product.stock).where(Product.id == shop["mug"]["id"]))
    assert stock == 10
