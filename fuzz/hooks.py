"""schemathesis hooks (fuzz/schemathesis.toml loads this module): rules that span several
parameters, which OpenAPI cannot express. Each request is made to keep them just before it
is sent (schemathesis then re-checks whether the case is still valid or invalid data); each
rule has its own tests in the suite.

- `offset` and `cursor` are each valid alone and refused together (the contract: 422);
  tests/catalog/test_listing.py.
- A date range's `to` is not before its `from`, and analytics spans at most 366 days;
  tests/dashboard. Likewise `min_price` is not above `max_price` (tests/catalog), and a
  shipping rate's `max_days` is not below its `min_days` (tests/shipping).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import schemathesis

MAX_RANGE_DAYS = 366  # storefront.analytics.service.MAX_RANGE_DAYS


def _date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def _ordered(values: dict[str, Any], low: str, high: str) -> None:
    """Swap two numbers of ``values`` when the low one is above the high one."""
    first, second = values.get(low), values.get(high)
    try:
        swap = first is not None and second is not None and float(first) > float(second)
    except (TypeError, ValueError):  # not numbers: the case tests something else
        return
    if swap:
        values[low], values[high] = second, first


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("rates"), list):
        for rate in body["rates"]:
            if isinstance(rate, dict):
                _ordered(rate, "min_days", "max_days")
    query = case.query
    if not isinstance(query, dict):
        return
    _ordered(query, "min_price", "max_price")
    if query.get("cursor") is not None and query.get("offset") is not None:
        del query["offset"]
    start, end = _date(query.get("from")), _date(query.get("to"))
    if start is not None and end is not None:
        start, end = min(start, end), max(start, end)
        end = min(end, start + dt.timedelta(days=MAX_RANGE_DAYS - 1))
        query["from"], query["to"] = start.isoformat(), end.isoformat()
