"""Todo bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from storefront.core.schemas import Strict
from storefront.fields import FREE_TEXT, ONE_LINE

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE]
Description = Annotated[str, StringConstraints(max_length=1000), FREE_TEXT]
Priority = Annotated[int, Field(ge=1, le=5)]


class TodoCreate(Strict):
    title: Title
    description: Description = ""
    priority: Priority = 3
    due_date: date | None = None
    completed: StrictBool = False  # JSON true/false only, as the schema says (not "yes", not 1)


class TodoUpdate(Strict):
    title: Title | None = None
    description: Description | None = None
    priority: Priority | None = None
    due_date: date | None = None
    completed: StrictBool | None = None


class TodoRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    priority: int
    due_date: date | None
    completed: bool
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class TodoFilters(BaseModel):
    completed: bool | None = None
    priority: int | None = None
    q: str | None = None
    overdue: bool | None = None


class TodoCounts(BaseModel):
    """The dashboard's todo section."""

    open: int
    overdue: int
    completed: int
