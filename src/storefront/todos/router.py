"""Todo routes: each user sees only their own."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from storefront.core.dependencies import API_PREFIX, StateDep
from storefront.core.pagination import Page, PageParamsDep
from storefront.core.params import ResourceId
from storefront.identity.dependencies import CurrentUser
from storefront.todos.dependencies import TodoFiltersDep, TodoServiceDep
from storefront.todos.schemas import TodoCreate, TodoRead, TodoUpdate

router = APIRouter(prefix=f"{API_PREFIX}/todos", tags=["todos"])


@router.get("", response_model=Page[TodoRead])
async def list_todos(
    user: CurrentUser, service: TodoServiceDep, filters: TodoFiltersDep, page: PageParamsDep, state: StateDep
) -> object:
    keyset = state.cursors.keyset("todos", page)
    rows = await service.list(user.id, filters, keyset)
    return state.cursors.id_page("todos", rows, keyset, TodoRead.model_validate)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TodoRead)
async def create_todo(body: TodoCreate, user: CurrentUser, service: TodoServiceDep, response: Response) -> object:
    todo = await service.create(user.id, body)
    response.headers["Location"] = f"{API_PREFIX}/todos/{todo.id}"
    return todo


@router.get("/{todo_id}", response_model=TodoRead)
async def read_todo(todo_id: ResourceId, user: CurrentUser, service: TodoServiceDep) -> object:
    return await service.get(user.id, todo_id)


@router.patch("/{todo_id}", response_model=TodoRead)
async def update_todo(todo_id: ResourceId, body: TodoUpdate, user: CurrentUser, service: TodoServiceDep) -> object:
    return await service.update(user.id, todo_id, body)


@router.delete("/{todo_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_todo(todo_id: ResourceId, user: CurrentUser, service: TodoServiceDep) -> Response:
    await service.delete(user.id, todo_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
