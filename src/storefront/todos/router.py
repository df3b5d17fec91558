"""Todo routes: each user sees only their own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from storefront.core.dependencies import API_PREFIX, SessionDep, StateDep
from storefront.core.pagination import Page, PageParamsDep
from storefront.core.params import ResourceId
from storefront.identity.dependencies import CurrentUser
from storefront.todos.schemas import TodoCreate, TodoFilters, TodoRead, TodoUpdate
from storefront.todos.service import TodoService

router = APIRouter(prefix=f"{API_PREFIX}/todos", tags=["todos"])


async def get_service(session: SessionDep) -> TodoService:
    return TodoService(session)


async def get_filters(
    completed: bool | None = None,
    priority: Annotated[int | None, Query(ge=1, le=5)] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="Text in title or description.")] = None,
    overdue: Annotated[bool | None, Query(description="Due before today and not completed.")] = None,
) -> TodoFilters:
    return TodoFilters(completed=completed, priority=priority, q=q, overdue=overdue)


ServiceDep = Annotated[TodoService, Depends(get_service)]
FiltersDep = Annotated[TodoFilters, Depends(get_filters)]


@router.get("", response_model=Page[TodoRead])
async def list_todos(
    user: CurrentUser, service: ServiceDep, filters: FiltersDep, page: PageParamsDep, state: StateDep
) -> object:
    before = state.cursors.after_id("todos", page)
    rows = await service.list(user.id, filters, before, page.limit + 1, page.offset)
    return state.cursors.id_page("todos", rows, page, TodoRead.model_validate)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TodoRead)
async def create_todo(body: TodoCreate, user: CurrentUser, service: ServiceDep, response: Response) -> object:
    todo = await service.create(user.id, body)
    response.headers["Location"] = f"{API_PREFIX}/todos/{todo.id}"
    return todo


@router.get("/{todo_id}", response_model=TodoRead)
async def read_todo(todo_id: ResourceId, user: CurrentUser, service: ServiceDep) -> object:
    return await service.get(user.id, todo_id)


@router.patch("/{todo_id}", response_model=TodoRead)
async def update_todo(todo_id: ResourceId, body: TodoUpdate, user: CurrentUser, service: ServiceDep) -> object:
    return await service.update(user.id, todo_id, body)


@router.delete("/{todo_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_todo(todo_id: ResourceId, user: CurrentUser, service: ServiceDep) -> Response:
    await service.delete(user.id, todo_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
