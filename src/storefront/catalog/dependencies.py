"""Catalog services per request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from storefront.catalog.cache import CatalogCache
from storefront.catalog.categories import CategoryService
from storefront.catalog.products import ProductService
from storefront.catalog.reads import ProductReader
from storefront.core.deps import SessionDep, StateDep


async def get_reader(state: StateDep) -> ProductReader:
    return ProductReader.for_state(state)


async def get_product_service(state: StateDep, session: SessionDep) -> ProductService:
    return ProductService(session, CatalogCache(state.cache), state.jobs.queue)


async def get_category_service(state: StateDep, session: SessionDep) -> CategoryService:
    return CategoryService(session, CatalogCache(state.cache))


ReaderDep = Annotated[ProductReader, Depends(get_reader)]
ProductServiceDep = Annotated[ProductService, Depends(get_product_service)]
CategoryServiceDep = Annotated[CategoryService, Depends(get_category_service)]
