"""Read-only context an agent can attach: the category list, and a product by slug."""

from __future__ import annotations

import json
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from storefront.catalog.cache import CatalogCache
from storefront.catalog.dependencies import product_reader
from storefront.catalog.schemas import CategoryRead
from storefront.catalog.service import CategoryService
from storefront.core.errors import AppError, NotFound
from storefront.core.pagination import IdKeyset
from storefront.runtime import Runtime

JSON = "application/json"
# Enough for any real catalog's category list in one read; list_categories pages.
MAX_CATEGORIES = 1000


def register_resources(server: MCPServer[Any], state: Runtime) -> None:
    @server.resource("storefront://categories", name="categories", mime_type=JSON)
    async def categories() -> str:
        """Every category of the catalog: id, name, slug (JSON)."""
        async with state.db.session_scope(immediate=False) as session:
            rows = await CategoryService(session, CatalogCache(state.cache)).list(IdKeyset(None, MAX_CATEGORIES))
            items = [CategoryRead.model_validate(row).model_dump(mode="json") for row in rows[:MAX_CATEGORIES]]
        return json.dumps(items)

    @server.resource("storefront://products/{slug}", name="product", mime_type=JSON)
    async def product(slug: str) -> str:
        """One product by its slug, as the API returns it (JSON)."""
        try:
            _, body = await product_reader(state, state.expander).product_by_slug(slug)
        except NotFound as exc:
            raise ResourceNotFoundError(f"{exc.code}: {exc.message}") from exc
        except AppError as exc:
            raise ResourceError(f"{exc.code}: {exc.message}") from exc
        return body.decode()
