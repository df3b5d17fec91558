"""What a checkout answers: the order waiting for its payment, and the payment to make."""

from __future__ import annotations

from pydantic import BaseModel

from storefront.checkout.service import CheckedOut
from storefront.core.schemas import MoneyOut
from storefront.orders.schemas import OrderRead, order_read


class PaymentRead(BaseModel):
    id: int
    provider: str
    status: str
    amount: MoneyOut
    # Stripe: what the buyer's browser confirms the PaymentIntent with (never stored, shown once).
    client_secret: str | None = None


class CheckoutRead(BaseModel):
    order: OrderRead
    payment: PaymentRead


class CheckoutRequest(BaseModel):
    """What an idempotency key is bound to: a checkout has no body, so only the operation."""


def checkout_read(done: CheckedOut) -> CheckoutRead:
    payment = done.payment
    return CheckoutRead(
        order=order_read(done.order),
        payment=PaymentRead(
            id=payment.id,
            provider=payment.provider,
            status=payment.status,
            amount=payment.amount,
            client_secret=payment.client_secret,
        ),
    )
