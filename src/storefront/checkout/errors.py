"""Checkout errors, with the codes of the contract."""

from __future__ import annotations

from collections.abc import Sequence

from storefront.core.errors import Conflict


class CheckoutIncomplete(Conflict):
    """The cart lacks what an order needs (items, an address, a shipping option)."""

    def __init__(self, missing: Sequence[str]) -> None:
        super().__init__(
            f"The cart cannot be checked out yet: it needs {', '.join(missing)}",
            details=[{"field": field, "message": "missing"} for field in missing],
        )


class NotShippable(Conflict):
    code = "NOT_SHIPPABLE"

    def __init__(self, country: str) -> None:
        super().__init__(f"The shop does not ship to {country}", details=[{"field": "shipping_address.country"}])


class ShippingOptionGone(Conflict):
    def __init__(self, country: str) -> None:
        super().__init__(
            f"The chosen shipping option no longer serves {country}: choose one of the current options",
            details=[{"field": "shipping_option", "message": "no longer available"}],
        )
