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


class ProviderNotConfigured(Conflict):
    """An order paid through a provider this process is not configured for (it was switched)."""

    def __init__(self, order_id: int, provider: str) -> None:
        super().__init__(f"Order {order_id} was paid through {provider}, which is not configured here")


class RefundRefused(Conflict):
    def __init__(self, order_id: int, provider: str, status: str) -> None:
        super().__init__(f"{provider} refused to refund order {order_id} ({status}); nothing was refunded")
