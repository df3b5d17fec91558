"""Totals, exactly as the contract computes them, against figures worked out by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from storefront.cart.totals import PricedLine, Totals, compute_totals
from storefront.shipping.models import ShippingRate
from tests.cart.helpers import cart, choose, put_item, ship_to
from tests.helpers import Api
from tests.shipping.factories import rate, tax, zone

D = Decimal


def _rate(price: str, free_over: str | None = None) -> ShippingRate:
    return ShippingRate(price=D(price), free_over=D(free_over) if free_over else None)


@pytest.mark.parametrize(
    ("lines", "shipping", "tax_rate", "expected"),
    [
        # Half up at exactly half a cent: 1.50 * 0.07 = 0.105 -> 0.11 (banker's rounding would give 0.10).
        ([("1.50", 1)], None, "0.07", ("1.50", "0.00", "0.11", "1.61")),
        # 0.10 * 0.25 = 0.025 -> 0.03 (half even: 0.02).
        ([("0.10", 1)], None, "0.25", ("0.10", "0.00", "0.03", "0.13")),
        # Just under half a cent rounds down: 1.49 * 0.07 = 0.1043 -> 0.10.
        ([("1.49", 1)], None, "0.07", ("1.49", "0.00", "0.10", "1.59")),
        # Shipping is taxed too: (64.97 + 4.90) * 0.19 = 13.2753 -> 13.28.
        ([("19.99", 3), ("5.00", 1)], ("4.90", "100.00"), "0.19", ("64.97", "4.90", "13.28", "83.15")),
        # free_over reached exactly: shipping is free; (50.00 + 0) * 0.0725 = 3.625 -> 3.63.
        ([("25.00", 2)], ("4.90", "50.00"), "0.0725", ("50.00", "0.00", "3.63", "53.63")),
        # ... and missed by a cent: (49.99 + 4.90) * 0.0725 = 3.979525 -> 3.98.
        ([("49.99", 1)], ("4.90", "50.00"), "0.0725", ("49.99", "4.90", "3.98", "58.87")),
        # Nothing in the cart, nothing chosen, untaxed.
        ([], None, "0", ("0.00", "0.00", "0.00", "0.00")),
    ],
)
def test_compute_totals(
    lines: list[tuple[str, int]], shipping: tuple[str, str] | None, tax_rate: str, expected: tuple[str, ...]
) -> None:
    priced = [PricedLine(index, f"P{index}", D(price), quantity) for index, (price, quantity) in enumerate(lines)]
    totals = compute_totals(priced, _rate(*shipping) if shipping else None, D(tax_rate))
    assert totals == Totals(*(D(value) for value in expected))
    assert [str(value) for value in (totals.subtotal, totals.shipping_total, totals.tax_total, totals.total)] == list(
        expected
    )


def _totals(body: dict[str, Any]) -> tuple[str, str, str, str]:
    return body["subtotal"], body["shipping_total"], body["tax_total"], body["total"]


async def test_the_cart_shows_hand_computed_totals(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    await put_item(api, buyer, shop["mug"]["id"], 3)
    body = await put_item(api, buyer, shop["pot"]["id"], 1)
    assert _totals(body) == ("64.97", "0.00", "0.00", "64.97")  # no address: no shipping, no tax

    body = await ship_to(api, buyer, "DE")
    assert _totals(body) == ("64.97", "0.00", "12.34", "77.31")  # 64.97 * 0.19 = 12.3443
    body = await choose(api, buyer, shop["zone"]["rates"][0]["id"])
    assert _totals(body) == ("64.97", "4.90", "13.28", "83.15")  # (64.97 + 4.90) * 0.19 = 13.2753
    assert body["shipping_option"]["price"] == "4.90"
    body = await ship_to(api, buyer, "AT")
    assert _totals(body) == ("64.97", "4.90", "13.97", "83.84")  # 69.87 * 0.20 = 13.974
    assert await cart(api, buyer) == body


async def test_a_country_without_a_rate_is_untaxed(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    await zone(api, ["CH"], rate("Post", "12.00"))
    await put_item(api, buyer, shop["mug"]["id"], 1)
    await ship_to(api, buyer, "CH")
    options = (await api.client.get("/api/v1/cart/shipping-options", headers=buyer)).json()
    body = await choose(api, buyer, options[0]["id"])
    assert _totals(body) == ("19.99", "12.00", "0.00", "31.99")


async def test_half_a_cent_of_tax_rounds_up(api: Api) -> None:
    category = await api.category()
    token = await api.product(category["slug"], "Token", price="1.50")
    await tax(api, "SE", "0.07")
    buyer = await api.customer()
    await put_item(api, buyer, token["id"], 1)
    body = await ship_to(api, buyer, "SE")
    assert _totals(body) == ("1.50", "0.00", "0.11", "1.61")  # 0.105 -> 0.11


async def test_free_shipping_from_the_threshold_on(api: Api) -> None:
    category = await api.category()
    half = await api.product(category["slug"], "Half", price="25.00")
    nearly = await api.product(category["slug"], "Nearly", price="24.99")
    europe = await zone(api, ["IE"], rate("Standard", "4.90", "50.00"))
    await tax(api, "IE", "0.23")
    buyer = await api.customer()
    await ship_to(api, buyer, "IE")
    await choose(api, buyer, europe["rates"][0]["id"])

    missed = await put_item(api, buyer, nearly["id"], 2)
    assert _totals(missed) == ("49.98", "4.90", "12.62", "67.50")  # 54.88 * 0.23 = 12.6224
    assert (await api.client.get("/api/v1/cart/shipping-options", headers=buyer)).json()[0]["price"] == "4.90"

    await api.client.delete(f"/api/v1/cart/items/{nearly['id']}", headers=buyer)
    reached = await put_item(api, buyer, half["id"], 2)
    assert _totals(reached) == ("50.00", "0.00", "11.50", "61.50")  # exactly 50.00: free
    assert reached["shipping_option"]["price"] == "0.00"
    assert (await api.client.get("/api/v1/cart/shipping-options", headers=buyer)).json()[0]["price"] == "0.00"


async def test_lines_are_repriced_when_an_admin_changes_a_price(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    await ship_to(api, buyer, "DE")
    body = await put_item(api, buyer, shop["mug"]["id"], 2)
    assert _totals(body) == ("39.98", "0.00", "7.60", "47.58")  # 39.98 * 0.19 = 7.5962

    patch = {"price": "12.50", "title": "Cart Mug (new)"}
    changed = await api.client.patch(
        f"/api/v1/products/{shop['mug']['id']}", json=patch, headers=await api.admin_headers()
    )
    assert changed.status_code == 200, changed.text
    after = await cart(api, buyer)
    assert after["items"][0] == {
        "product_id": shop["mug"]["id"],
        "title": "Cart Mug (new)",
        "unit_price": "12.50",
        "quantity": 2,
        "line_total": "25.00",
    }
    assert _totals(after) == ("25.00", "0.00", "4.75", "29.75")
