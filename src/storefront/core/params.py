"""Reusable request parameter types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from storefront.core.errors import InvalidInput

# Primary keys are 32-bit INTEGER columns; a larger id can match nothing, and
# PostgreSQL would refuse the comparison (a 500), so it is a 422 at the edge.
MAX_ID = 2**31 - 1

ResourceId = Annotated[int, Path(ge=1, le=MAX_ID, description="The resource's id.")]


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return names


def _declared_query(route: APIRoute) -> frozenset[str]:
    # Kept on the route (built once per app; APIRoute is not hashable for a dict key).
    names: frozenset[str] | None = getattr(route, "_storefront_query_names", None)
    if names is None:
        names = frozenset(_query_names(route.dependant))
        setattr(route, "_storefront_query_names", names)  # noqa: B010 - not a declared attribute
    return names


async def single_valued_query(request: Request) -> None:
    """Every query parameter of the API takes one value; given twice, which one counts would
    be a guess (Starlette keeps the last), so it is a 422 naming it (found by ./dev fuzz)."""
    if not request.scope["query_string"]:  # not request.url: building a URL costs more than this check
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    declared = _declared_query(route)
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name in seen and name in declared:
            raise InvalidInput(name, "given more than once")
        seen.add(name)
