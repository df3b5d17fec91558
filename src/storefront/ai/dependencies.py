"""AI content at the HTTP edge: the chain the runtime built, and the service over it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from storefront.ai.chain import ContentChain
from storefront.ai.service import ContentService
from storefront.catalog.cache import CatalogCache
from storefront.core.dependencies import StateDep
from storefront.core.state import AppState


def content_service(state: AppState, chain: ContentChain) -> ContentService:
    """The service every entry point (HTTP, CLI) uses, wired from the process's clients."""
    return ContentService(state.db, chain, CatalogCache(state.cache))


async def get_chain(request: Request) -> ContentChain:
    chain: ContentChain = request.app.state.storefront.ai
    return chain


ChainDep = Annotated[ContentChain, Depends(get_chain)]


async def get_content_service(state: StateDep, chain: ChainDep) -> ContentService:
    return content_service(state, chain)


ContentServiceDep = Annotated[ContentService, Depends(get_content_service)]
