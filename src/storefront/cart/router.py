"""Cart routes: always the caller's own cart (no cart id in any path)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from storefront.cart.dependencies import CartServiceDep, WritingCartServiceDep
from storefront.cart.schemas import CartItemIn, CartRead, ShippingAddress, ShippingOptionChoice, cart_read
from storefront.core.dependencies import API_PREFIX
from storefront.core.params import MAX_ID
from storefront.identity.dependencies import CurrentUser
from storefront.shipping.schemas import ShippingOptionRead

router = APIRouter(prefix=f"{API_PREFIX}/cart", tags=["cart"])

ProductId = Annotated[int, Path(ge=1, le=MAX_ID, description="The product's id.")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "NOT_FOUND: no such product, or it is archived"}}
NO_ADDRESS: dict[int | str, dict[str, Any]] = {409: {"description": "CONFLICT: the cart has no shipping address yet"}}


@router.get("", response_model=CartRead, summary="Your cart at current prices (created empty on first use)")
async def read_cart(user: CurrentUser, service: WritingCartServiceDep) -> object:
    return cart_read(await service.view(user.id))


@router.put("/items/{product_id}", response_model=CartRead, responses=NOT_FOUND, summary="Set a product's quantity")
async def set_item(product_id: ProductId, body: CartItemIn, user: CurrentUser, service: CartServiceDep) -> object:
    return cart_read(await service.set_item(user.id, product_id, body.quantity))


@router.delete(
    "/items/{product_id}",
    response_model=CartRead,
    summary="Remove a product from the cart (the cart is answered; removing an absent product changes nothing)",
)
async def remove_item(product_id: ProductId, user: CurrentUser, service: CartServiceDep) -> object:
    return cart_read(await service.remove_item(user.id, product_id))


@router.put(
    "/shipping-address",
    response_model=CartRead,
    summary="Set the shipping address; a chosen option that does not serve its country is cleared",
)
async def set_address(body: ShippingAddress, user: CurrentUser, service: CartServiceDep) -> object:
    return cart_read(await service.set_address(user.id, body))


@router.get(
    "/shipping-options",
    response_model=list[ShippingOptionRead],
    responses=NO_ADDRESS,
    summary="Options for the address's country, priced for the subtotal (empty: no shipping there)",
)
async def shipping_options(user: CurrentUser, service: CartServiceDep) -> object:
    return [ShippingOptionRead.model_validate(option) for option in await service.shipping_options(user.id)]


@router.put(
    "/shipping-option",
    response_model=CartRead,
    responses=NO_ADDRESS,
    summary="Choose one of the shipping options (422 when it is not one of them)",
)
async def choose_option(body: ShippingOptionChoice, user: CurrentUser, service: CartServiceDep) -> object:
    return cart_read(await service.choose_option(user.id, body.id))
