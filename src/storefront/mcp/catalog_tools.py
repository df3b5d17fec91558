"""Catalog tools: search, browse and read products; categories; an admin stock tool."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

from storefront.catalog.cache import CatalogCache
from storefront.catalog.dependencies import product_reader
from storefront.catalog.schemas import CategoryRead, ProductFilters, ProductPatch, ProductRead, ProductSort, Stock
from storefront.catalog.service import CategoryService, ProductService
from storefront.core.errors import InvalidInput
from storefront.core.pagination import Page
from storefront.core.schemas import MoneyIn, Slug
from storefront.mcp.identity import caller, require_admin
from storefront.mcp.params import Cursor, Id, Limit, page
from storefront.runtime import Runtime

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
Query = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description='Words to find in titles and descriptions. Web-search syntax: "exact phrase", -excluded, or.',
    ),
]
CategorySlug = Annotated[Slug | None, Field(description="Only this category (its slug, see list_categories).")]
MinPrice = Annotated[MoneyIn | None, Field(description='Lowest price, e.g. "10.00".')]
MaxPrice = Annotated[MoneyIn | None, Field(description='Highest price, e.g. "25.00".')]
InStock = Annotated[bool | None, Field(description="true: only products in stock; false: only sold out.")]


def register_catalog_tools(server: MCPServer[Any], state: Runtime) -> None:
    @server.tool(annotations=READ)
    async def search_products(
        query: Query,
        category: CategorySlug = None,
        min_price: MinPrice = None,
        max_price: MaxPrice = None,
        in_stock: InStock = None,
        limit: Limit = 10,
        cursor: Cursor = None,
    ) -> Page[ProductRead]:
        """Full-text search of the catalog, best match first (a title match ranks above a
        description match); the last word also matches as a prefix. Prices are decimal strings."""
        filters = ProductFilters(category=category, min_price=min_price, max_price=max_price, in_stock=in_stock)
        body = await product_reader(state, state.expander).search(query, filters, page(limit, cursor))
        return Page[ProductRead].model_validate_json(body)

    @server.tool(annotations=READ)
    async def list_products(
        category: CategorySlug = None,
        min_price: MinPrice = None,
        max_price: MaxPrice = None,
        in_stock: InStock = None,
        sort: Annotated[ProductSort, Field(description="Order; a leading - means descending.")] = "-created_at",
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> Page[ProductRead]:
        """Browse the catalog with filters, newest first unless `sort` says otherwise."""
        filters = ProductFilters(category=category, min_price=min_price, max_price=max_price, in_stock=in_stock)
        body = await product_reader(state, state.expander).listing(filters, sort, page(limit, cursor))
        return Page[ProductRead].model_validate_json(body)

    @server.tool(annotations=READ)
    async def get_product(
        product_id: Annotated[Id | None, Field(description="The product's id.")] = None,
        slug: Annotated[Slug | None, Field(description="Or the product's slug.")] = None,
    ) -> ProductRead:
        """One product, by id or by slug (give exactly one): price, stock, category, description."""
        if (product_id is None) == (slug is None):
            raise InvalidInput("product_id", "give either product_id or slug")
        reader = product_reader(state, state.expander)
        _, body = await (reader.product(product_id) if product_id is not None else reader.product_by_slug(str(slug)))
        return ProductRead.model_validate_json(body)

    @server.tool(annotations=READ)
    async def list_categories(limit: Limit = 100, cursor: Cursor = None) -> Page[CategoryRead]:
        """The catalog's categories; filter products by a category's slug."""
        params = page(limit, cursor)
        async with state.db.session_scope(immediate=False) as session:
            keyset = state.cursors.keyset("categories", params)
            rows = await CategoryService(session, CatalogCache(state.cache)).list(keyset)
            return state.cursors.id_page("categories", rows, keyset, CategoryRead.model_validate)

    @server.tool(annotations=ToolAnnotations(idempotent_hint=True, open_world_hint=False))
    async def set_product_stock(
        product_id: Annotated[Id, Field(description="The product's id.")],
        stock: Annotated[Stock, Field(description="Units on hand from now on.")],
    ) -> ProductRead:
        """Admin only: set how many units of a product are in stock."""
        require_admin(caller().user)
        async with state.db.session_scope() as session:
            saved = await ProductService(session, CatalogCache(state.cache)).patch(
                product_id, ProductPatch(stock=stock), None
            )
        return saved.read
