"""Todo use cases. Every query is scoped to the owner: another user's todo does not exist."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.errors import NotFound
from storefront.todos.models import Todo
from storefront.todos.schemas import TodoCreate, TodoFilters, TodoUpdate


class TodoNotFound(NotFound):
    def __init__(self, todo_id: int) -> None:
        super().__init__(f"Todo {todo_id} not found")


def _escape_like(text: str) -> str:
    # LIKE wildcards typed by the user are literal characters.
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def overdue_condition(today: object) -> ColumnElement[bool]:
    return and_(Todo.due_date.is_not(None), Todo.due_date < today, Todo.completed.is_(False))


class TodoService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _owned(self, owner_id: int, todo_id: int) -> Todo:
        todo = await self.session.scalar(select(Todo).where(Todo.id == todo_id, Todo.owner_id == owner_id))
        if todo is None:
            raise TodoNotFound(todo_id)
        return todo

    async def create(self, owner_id: int, data: TodoCreate) -> Todo:
        todo = Todo(owner_id=owner_id, **data.model_dump())
        if todo.completed:
            todo.completed_at = datetime.now(UTC)
        self.session.add(todo)
        await self.session.flush()
        return todo

    async def get(self, owner_id: int, todo_id: int) -> Todo:
        return await self._owned(owner_id, todo_id)

    async def update(self, owner_id: int, todo_id: int, data: TodoUpdate) -> Todo:
        todo = await self._owned(owner_id, todo_id)
        changes = data.model_dump(exclude_unset=True)
        if changes.get("completed") is not None and changes["completed"] != todo.completed:
            # completed_at follows completed: set when it becomes true, cleared when false.
            todo.completed_at = datetime.now(UTC) if changes["completed"] else None
        for field, value in changes.items():
            if value is None and field in {"title", "priority", "completed", "description"}:
                continue  # null means "leave it": these fields cannot be empty
            setattr(todo, field, value)
        await self.session.flush()
        return todo

    async def delete(self, owner_id: int, todo_id: int) -> None:
        await self.session.delete(await self._owned(owner_id, todo_id))
        await self.session.flush()

    async def list(
        self, owner_id: int, filters: TodoFilters, before_id: int | None, limit: int, offset: int | None
    ) -> Sequence[Todo]:
        query = select(Todo).where(Todo.owner_id == owner_id).order_by(Todo.id.desc()).limit(limit)
        if filters.completed is not None:
            query = query.where(Todo.completed.is_(filters.completed))
        if filters.priority is not None:
            query = query.where(Todo.priority == filters.priority)
        if filters.q:
            pattern = f"%{_escape_like(filters.q.lower())}%"
            query = query.where(
                or_(
                    func.lower(Todo.title).like(pattern, escape="\\"),
                    func.lower(Todo.description).like(pattern, escape="\\"),
                )
            )
        if filters.overdue is not None:
            today = datetime.now(UTC).date()
            condition = overdue_condition(today)
            query = query.where(condition if filters.overdue else ~condition)
        if before_id is not None:
            query = query.where(Todo.id < before_id)
        if offset:
            query = query.offset(offset)
        return (await self.session.scalars(query)).all()
