"""Reusable request parameter types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

# Primary keys are 32-bit INTEGER columns; a larger id can match nothing, and
# PostgreSQL would refuse the comparison (a 500), so it is a 422 at the edge.
MAX_ID = 2**31 - 1

ResourceId = Annotated[int, Path(ge=1, le=MAX_ID, description="The resource's id.")]
