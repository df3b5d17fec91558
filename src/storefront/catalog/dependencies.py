"""Catalog services per request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from storefront.catalog.cache import CatalogCache
from storefront.catalog.reads import ProductReader, QueryExpansion
from storefront.catalog.search import search_backend
from storefront.catalog.service import CategoryService, ProductService
from storefront.core.dependencies import SessionDep, StateDep
from storefront.core.state import AppState


def product_reader(state: AppState, expansion: QueryExpansion | None) -> ProductReader:
    """The reader every entry point (HTTP, MCP) uses, wired from the process's clients."""
    return ProductReader(
        state.db,
        CatalogCache(state.cache),
        state.cursors,
        search_backend(state.db.dialect, state.settings.search_candidate_limit),
        expansion,
    )


async def get_expansion(request: Request) -> QueryExpansion | None:
    # Built by the AI domain in the runtime; the catalog knows it only by its protocol.
    expansion: QueryExpansion | None = request.app.state.storefront.expander
    return expansion


async def get_reader(request: Request) -> ProductReader:
    """The process's reader, built on first use. It holds only process-wide clients, and
    building it per request through three dependencies (FastAPI resolves each one) cost
    about a fifth of an uncached product read's CPU (docs/performance.md)."""
    app_state = request.app.state
    state: AppState = app_state.storefront
    built: tuple[AppState, ProductReader] | None = getattr(app_state, "catalog_reader", None)
    if built is None or built[0] is not state:  # a new lifespan built new clients
        built = (state, product_reader(state, await get_expansion(request)))
        app_state.catalog_reader = built
    return built[1]


async def get_product_service(state: StateDep, session: SessionDep) -> ProductService:
    return ProductService(session, CatalogCache(state.cache), state.jobs.queue)


async def get_category_service(state: StateDep, session: SessionDep) -> CategoryService:
    return CategoryService(session, CatalogCache(state.cache))


ReaderDep = Annotated[ProductReader, Depends(get_reader)]
ProductServiceDep = Annotated[ProductService, Depends(get_product_service)]
CategoryServiceDep = Annotated[CategoryService, Depends(get_category_service)]
