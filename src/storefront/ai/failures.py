"""What went wrong with a provider call, and whether trying the same provider again can help."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelConnectionError,
    ModelHTTPError,
    ModelRateLimitError,
    ModelRequestTimeout,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
    UnexpectedModelBehavior,
)

from storefront.ai.content import OutputRejected


class FailureKind(StrEnum):
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    CLIENT_ERROR = "client_error"
    CONNECTION = "connection"
    MALFORMED = "malformed"
    CIRCUIT_OPEN = "circuit_open"
    ERROR = "error"


# Only throttling and server errors are worth another attempt at the same provider.
RETRYABLE = frozenset({FailureKind.RATE_LIMITED, FailureKind.SERVER_ERROR})


@dataclass(frozen=True, slots=True)
class Failure:
    kind: FailureKind
    detail: str
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


# In order: the first matching type names the kind (HTTP errors go by status first).
_KINDS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], FailureKind], ...] = (
    ((TimeoutError, ModelRequestTimeout, ModelTimeoutError), FailureKind.TIMEOUT),  # ours, or the SDK's
    ((OutputRejected, UnexpectedModelBehavior), FailureKind.MALFORMED),
    (ModelRateLimitError, FailureKind.RATE_LIMITED),  # throttling without an HTTP status (Bedrock, gRPC)
    ((ModelServerError, ModelUnavailableError), FailureKind.SERVER_ERROR),
    (ModelConnectionError, FailureKind.CONNECTION),
    (ModelAPIError, FailureKind.CLIENT_ERROR),
)


def _kind(exc: BaseException) -> FailureKind:
    if isinstance(exc, ModelHTTPError):
        if exc.status_code == 429:
            return FailureKind.RATE_LIMITED
        return FailureKind.SERVER_ERROR if exc.status_code >= 500 else FailureKind.CLIENT_ERROR
    for types, kind in _KINDS:
        if isinstance(exc, types):
            return kind
    return FailureKind.ERROR


def classify(exc: BaseException) -> Failure:
    kind = _kind(exc)
    retry_after = exc.retry_after if isinstance(exc, ModelAPIError) and kind in RETRYABLE else None
    return Failure(kind, f"{type(exc).__name__}: {exc}"[:300], retry_after)
