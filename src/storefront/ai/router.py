"""HTTP routes of AI content."""

from __future__ import annotations

from fastapi import APIRouter

from storefront.ai.dependencies import ChainDep, ContentServiceDep
from storefront.ai.schemas import AiStatus, GenerateRequest, GenerateResponse
from storefront.core.dependencies import API_PREFIX
from storefront.core.params import ResourceId
from storefront.identity.dependencies import AdminUser

router = APIRouter(tags=["ai"])


@router.post(
    f"{API_PREFIX}/products/{{product_id}}/generate",
    response_model=GenerateResponse,
    summary="Write a product's description and SEO keywords with the AI chain",
    responses={429: {"description": "The daily token budget is spent"}, 503: {"description": "Every provider failed"}},
)
async def generate_content(
    product_id: ResourceId, body: GenerateRequest, _: AdminUser, service: ContentServiceDep
) -> GenerateResponse:
    outcome = await service.generate(product_id, body.fields, overwrite=body.overwrite)
    return GenerateResponse(
        description=outcome.description, seo_keywords=outcome.seo_keywords, provider=outcome.provider
    )


@router.get(f"{API_PREFIX}/ai/status", response_model=AiStatus, summary="Providers in order, circuits and counts")
async def ai_status(_: AdminUser, chain: ChainDep) -> AiStatus:
    return AiStatus.of(await chain.status())
