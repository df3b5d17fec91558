"""Tax rate errors."""

from __future__ import annotations

from storefront.core.errors import InvalidInput


class RateOutOfRange(InvalidInput):
    """The service's own check, for callers that do not come through the HTTP schema."""

    def __init__(self) -> None:
        super().__init__("rate", "must be at least 0 and below 1, with at most 4 decimal places")
