"""Todo bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from storefront.core.schemas import Strict
from storefront.fields import NOT_BOOLEAN, IsoDate, free_text, one_line

Title = Annotated[str, one_line(200)]
Description = Annotated[str, free_text(1000, strip=False)]
Priority = Annotated[int, Field(ge=1, le=5), NOT_BOOLEAN]


class TodoCreate(Strict):
    title: Title
    description: Description = ""
    priority: Priority = 3
    due_date: IsoDate | None = None
    completed: StrictBool = False  # JSON true/false only, as the schema says (not "yes", not 1)


class TodoUpdate(Strict):
    title: Title | None = None
    description: Description | None = None
    priority: Priority | None = None
    due_date: IsoDate | None = None
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
