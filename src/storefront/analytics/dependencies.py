"""Analytics at the HTTP edge."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from storefront.analytics.service import Analytics
from storefront.core.dependencies import SessionDep


async def get_analytics(session: SessionDep) -> Analytics:
    return Analytics(session)


AnalyticsDep = Annotated[Analytics, Depends(get_analytics)]
