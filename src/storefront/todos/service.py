"""Todo use cases inside the caller's unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.pagination import IdKeyset
from storefront.todos.errors import TodoNotFound
from storefront.todos.models import Todo
from storefront.todos.repository import TodoRepository
from storefront.todos.schemas import TodoCounts, TodoCreate, TodoFilters, TodoUpdate

# Null in an update means "leave it" for these: they cannot be empty.
_NOT_NULLABLE = frozenset({"title", "priority", "completed", "description"})


def _today() -> date:
    return datetime.now(UTC).date()


class TodoService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.todos = TodoRepository(session)

    async def get(self, owner_id: int, todo_id: int) -> Todo:
        todo = await self.todos.owned(owner_id, todo_id)
        if todo is None:
            raise TodoNotFound(todo_id)
        return todo

    async def create(self, owner_id: int, data: TodoCreate) -> Todo:
        todo = Todo(owner_id=owner_id, **data.model_dump())
        if todo.completed:
            todo.completed_at = datetime.now(UTC)
        return await self.todos.add(todo)

    async def update(self, owner_id: int, todo_id: int, data: TodoUpdate) -> Todo:
        todo = await self.get(owner_id, todo_id)
        changes = data.model_dump(exclude_unset=True)
        if changes.get("completed") is not None and changes["completed"] != todo.completed:
            # completed_at follows completed: set when it becomes true, cleared when false.
            todo.completed_at = datetime.now(UTC) if changes["completed"] else None
        for field, value in changes.items():
            if value is None and field in _NOT_NULLABLE:
                continue
            setattr(todo, field, value)
        await self.session.flush()
        return todo

    async def delete(self, owner_id: int, todo_id: int) -> None:
        await self.todos.delete(await self.get(owner_id, todo_id))

    async def list(self, owner_id: int, filters: TodoFilters, keyset: IdKeyset) -> Sequence[Todo]:
        return await self.todos.list(
            owner_id,
            keyset,
            today=_today(),
            completed=filters.completed,
            priority=filters.priority,
            text=filters.q,
            overdue=filters.overdue,
        )

    async def counts(self, owner_id: int) -> TodoCounts:
        open_, overdue, completed = await self.todos.counts(owner_id, _today())
        return TodoCounts(open=open_, overdue=overdue, completed=completed)
