"""Todos at the HTTP edge: the service per unit of work, and the list filters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from storefront.core.dependencies import SessionDep
from storefront.fields import free_text
from storefront.todos.schemas import TodoFilters
from storefront.todos.service import TodoService


async def get_todo_service(session: SessionDep) -> TodoService:
    return TodoService(session)


async def get_filters(
    completed: bool | None = None,
    priority: Annotated[int | None, Query(ge=1, le=5)] = None,
    q: Annotated[
        str | None, Query(description="Text in title or description."), free_text(200, min_length=1, strip=False)
    ] = None,
    overdue: Annotated[bool | None, Query(description="Due before today and not completed.")] = None,
) -> TodoFilters:
    return TodoFilters(completed=completed, priority=priority, q=q, overdue=overdue)


TodoServiceDep = Annotated[TodoService, Depends(get_todo_service)]
TodoFiltersDep = Annotated[TodoFilters, Depends(get_filters)]
