"""Request and response bodies of AI content."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictBool

from storefront.ai.service import FIELDS
from storefront.ai.service import Field as ContentField
from storefront.core.schemas import Strict


def _all_fields() -> list[ContentField]:
    return list(FIELDS)


class GenerateRequest(Strict):
    fields: Annotated[list[ContentField], Field(min_length=1, max_length=2)] = Field(default_factory=_all_fields)
    overwrite: StrictBool = Field(False, description="Replace fields that already have content.")


class GenerateResponse(BaseModel):
    description: str
    seo_keywords: list[str]
    provider: str | None = Field(
        description='Who wrote the content ("local" is the offline generator); null when every requested '
        "field already had content and `overwrite` was false, so nothing was generated."
    )


class ProviderStatus(BaseModel):
    name: str
    available: bool
    reason: str | None = Field(description="Why an unavailable provider cannot be used.")
    circuit: str | None = Field(description="closed, open or half_open; null for the offline generator.")
    calls: int
    failures: dict[str, int]
    input_tokens: int
    output_tokens: int


class AiStatus(BaseModel):
    providers: list[ProviderStatus]
    tokens_today: int
    daily_token_budget: int | None

    @classmethod
    def of(cls, data: dict[str, Any]) -> AiStatus:
        return cls.model_validate(data)
