"""Todo queries through the unit of work's session. No commits.

Every query is scoped to the owner: another user's todo does not exist."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, and_, func, or_, select

from storefront.core.pagination import IdKeyset
from storefront.core.repository import Repository
from storefront.todos.models import Todo


def _escape_like(text: str) -> str:
    # LIKE wildcards typed by the user are literal characters.
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _overdue(today: date) -> ColumnElement[bool]:
    return and_(Todo.due_date.is_not(None), Todo.due_date < today, Todo.completed.is_(False))


class TodoRepository(Repository):
    async def owned(self, owner_id: int, todo_id: int) -> Todo | None:
        return await self.session.scalar(select(Todo).where(Todo.id == todo_id, Todo.owner_id == owner_id))

    async def delete(self, todo: Todo) -> None:
        await self.session.delete(todo)
        await self.session.flush()

    async def list(
        self,
        owner_id: int,
        keyset: IdKeyset,
        *,
        today: date,
        completed: bool | None = None,
        priority: int | None = None,
        text: str | None = None,
        overdue: bool | None = None,
    ) -> Sequence[Todo]:
        """Newest first. ``text`` matches title or description, ignoring case;
        ``overdue`` is judged against ``today``."""
        query = select(Todo).where(Todo.owner_id == owner_id)
        if completed is not None:
            query = query.where(Todo.completed.is_(completed))
        if priority is not None:
            query = query.where(Todo.priority == priority)
        if text:
            pattern = f"%{_escape_like(text.lower())}%"
            query = query.where(
                or_(
                    func.lower(Todo.title).like(pattern, escape="\\"),
                    func.lower(Todo.description).like(pattern, escape="\\"),
                )
            )
        if overdue is not None:
            query = query.where(_overdue(today) if overdue else ~_overdue(today))
        return (await self.session.scalars(keyset.apply(query, Todo.id))).all()

    async def counts(self, owner_id: int, today: date) -> tuple[int, int, int]:
        """How many of the owner's todos are open, overdue and completed, in one pass."""
        row = (
            await self.session.execute(
                select(
                    func.count().filter(Todo.completed.is_(False)),
                    func.count().filter(_overdue(today)),
                    func.count().filter(Todo.completed.is_(True)),
                ).where(Todo.owner_id == owner_id)
            )
        ).one()
        return row[0], row[1], row[2]
