"""Checkout helpers: a shop with a zone (standard 4.90, free from 100.00; express 9.90)
and VAT, and a customer's cart filled ready to check out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storefront.core.jobs import Job
from storefront.orders.service import CONFIRMATION_EMAIL
from tests.helpers import Api
from tests.shipping.factories import rate, tax, zone

CART = "/api/v1/cart"
CHECKOUT = "/api/v1/cart/checkout"
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "Unter den Linden 1",
    "city": "Berlin",
    "postal_code": "10117",
    "country": "DE",
}


async def open_shop(api: Api, country: str = "DE", vat: str | None = "0.19", **names: str) -> dict[str, Any]:
    category = await api.category(names.get("category"))
    mug = await api.product(category["slug"], names.get("mug"), price="19.99", stock=10, low_stock_threshold=5)
    pot = await api.product(category["slug"], names.get("pot"), price="5.00", stock=3, low_stock_threshold=1)
    shipping = rate("Standard", "4.90", "100.00", 2, 5), rate("Express", "9.90", None, 1, 1)
    europe = await zone(api, [country], *shipping, name=names.get("zone", "Zone"))
    if vat is not None:
        await tax(api, country, vat)
    return {"mug": mug, "pot": pot, "zone": europe, "standard": europe["rates"][0]["id"]}


async def fill_cart(
    api: Api, headers: dict[str, str], rate_id: int | None, *items: tuple[int, int], address: dict[str, Any] = ADDRESS
) -> None:
    for product_id, quantity in items:
        response = await api.client.put(f"{CART}/items/{product_id}", json={"quantity": quantity}, headers=headers)
        assert response.status_code == 200, response.text
    response = await api.client.put(f"{CART}/shipping-address", json=address, headers=headers)
    assert response.status_code == 200, response.text
    if rate_id is not None:
        response = await api.client.put(f"{CART}/shipping-option", json={"id": rate_id}, headers=headers)
        assert response.status_code == 200, response.text


async def confirmations(api: Api, order_id: int) -> tuple[int, int | None]:
    """How many confirmation-email jobs an order has, and when its email file was written
    (order ids repeat across rolled-back tests, so the file's time tells this test's write)."""
    async with api.state.db.session_scope() as session:
        jobs = (await session.scalars(select(Job).where(Job.name == CONFIRMATION_EMAIL))).all()
    mail = api.state.settings.data_dir / "mail" / f"order-{order_id}-confirmation_at_storefront.eml"
    count = sum(1 for job in jobs if job.payload == {"order_id": order_id})
    return count, (mail.stat().st_mtime_ns if mail.exists() else None)
