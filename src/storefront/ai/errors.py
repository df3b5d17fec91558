"""Errors of AI content, as the contract shows them."""

from __future__ import annotations

from typing import Any

from storefront.core.errors import RateLimited, ServiceUnavailable


class AiUnavailable(ServiceUnavailable):
    """Every link of the chain failed (503; a job raising it is retried)."""

    def __init__(self, attempts: list[dict[str, Any]]) -> None:
        super().__init__("Every AI provider failed; try again later", details=attempts)


class AiBudgetSpent(RateLimited):
    def __init__(self, retry_after: int) -> None:
        super().__init__("The daily AI token budget is spent", retry_after=retry_after)
