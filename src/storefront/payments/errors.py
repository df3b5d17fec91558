"""Payment errors, with the codes of the contract."""

from __future__ import annotations

from storefront.core.errors import BadRequest, Conflict, NotFound, ServiceUnavailable


class PaymentProviderUnavailable(ServiceUnavailable):
    def __init__(self, provider: str) -> None:
        super().__init__(f"The payment provider ({provider}) did not answer; try again shortly")


class InvalidWebhook(BadRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Webhook refused: {reason}")


class UnknownWebhook(NotFound):
    def __init__(self, provider: str) -> None:
        super().__init__(f"No webhook for provider '{provider}' here")


class NothingToCapture(Conflict):
    def __init__(self, order_id: int, why: str) -> None:
        super().__init__(f"Order {order_id} has no payment to capture: {why}")
