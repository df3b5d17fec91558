"""Todo tools: the caller's own todos only; another user's todo does not exist (NOT_FOUND)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from storefront.core.pagination import Page
from storefront.mcp.identity import caller
from storefront.mcp.params import Cursor, Id, Limit, page
from storefront.runtime import Runtime
from storefront.todos.schemas import Description, Priority, Title, TodoCreate, TodoFilters, TodoRead, TodoUpdate
from storefront.todos.service import TodoService

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(open_world_hint=False)
TodoId = Annotated[Id, Field(description="The todo's id (from list_todos or create_todo).")]
PriorityArg = Annotated[Priority, Field(description="1 (lowest) to 5 (highest).")]


class Deleted(BaseModel):
    id: int
    deleted: bool = True


def register_todo_tools(server: MCPServer[Any], state: Runtime) -> None:
    @server.tool(annotations=READ)
    async def list_todos(
        completed: Annotated[bool | None, Field(description="true: done only; false: open only.")] = None,
        priority: Annotated[Priority | None, Field(description="Only this priority (1 to 5).")] = None,
        q: Annotated[
            str | None, Field(min_length=1, max_length=200, description="Text in title or description.")
        ] = None,
        overdue: Annotated[bool | None, Field(description="true: due before today and not completed.")] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> Page[TodoRead]:
        """Your todos, newest first, with optional filters."""
        user = caller().user
        keyset = state.cursors.keyset("todos", page(limit, cursor))
        filters = TodoFilters(completed=completed, priority=priority, q=q, overdue=overdue)
        async with state.db.session_scope(immediate=False) as session:
            rows = await TodoService(session).list(user.id, filters, keyset)
            return state.cursors.id_page("todos", rows, keyset, TodoRead.model_validate)

    @server.tool(annotations=READ)
    async def get_todo(todo_id: TodoId) -> TodoRead:
        """One of your todos."""
        user = caller().user
        async with state.db.session_scope(immediate=False) as session:
            return TodoRead.model_validate(await TodoService(session).get(user.id, todo_id))

    @server.tool(annotations=WRITE)
    async def create_todo(
        title: Annotated[Title, Field(description="1 to 200 characters.")],
        description: Annotated[Description, Field(description="Up to 1000 characters.")] = "",
        priority: PriorityArg = 3,
        due_date: Annotated[date | None, Field(description="A date, e.g. 2026-12-24.")] = None,
    ) -> TodoRead:
        """Add a todo to your list."""
        user = caller().user
        data = TodoCreate(title=title, description=description, priority=priority, due_date=due_date)
        async with state.db.session_scope() as session:
            return TodoRead.model_validate(await TodoService(session).create(user.id, data))

    @server.tool(annotations=ToolAnnotations(idempotent_hint=True, open_world_hint=False))
    async def update_todo(
        todo_id: TodoId,
        changes: Annotated[
            TodoUpdate,
            Field(description="Only the fields to change; due_date null clears it. completed true marks it done."),
        ],
    ) -> TodoRead:
        """Change one of your todos (title, description, priority, due date, completed)."""
        user = caller().user
        async with state.db.session_scope() as session:
            return TodoRead.model_validate(await TodoService(session).update(user.id, todo_id, changes))

    @server.tool(annotations=ToolAnnotations(idempotent_hint=True, open_world_hint=False))
    async def complete_todo(todo_id: TodoId) -> TodoRead:
        """Mark one of your todos as done."""
        user = caller().user
        async with state.db.session_scope() as session:
            todo = await TodoService(session).update(user.id, todo_id, TodoUpdate(completed=True))
            return TodoRead.model_validate(todo)

    @server.tool(annotations=ToolAnnotations(destructive_hint=True, idempotent_hint=False, open_world_hint=False))
    async def delete_todo(todo_id: TodoId) -> Deleted:
        """Delete one of your todos for good."""
        user = caller().user
        async with state.db.session_scope() as session:
            await TodoService(session).delete(user.id, todo_id)
        return Deleted(id=todo_id)
