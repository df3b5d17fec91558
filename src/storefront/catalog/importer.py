"""CSV import of products: every row validated like an API request; good rows land,
bad rows are reported with their line number and reason."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.cache import CatalogCache
from storefront.catalog.schemas import ProductCreate
from storefront.catalog.service import ProductService
from storefront.core.errors import AppError

REQUIRED = {"title", "category", "price", "stock"}
OPTIONAL = {"slug", "description", "low_stock_threshold", "seo_keywords"}


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


class BadHeader(Exception):
    pass


def _rows(stream: IO[str]) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(stream)
    header = set(reader.fieldnames or [])
    missing = REQUIRED - header
    if missing:
        raise BadHeader(f"missing columns: {', '.join(sorted(missing))}")
    unknown = header - REQUIRED - OPTIONAL
    if unknown:
        raise BadHeader(f"unknown columns: {', '.join(sorted(unknown))}")
    for row in reader:
        yield reader.line_num, row


def _to_create(row: dict[str, str]) -> ProductCreate:
    values: dict[str, object] = {key: value for key, value in row.items() if value not in (None, "")}
    if "seo_keywords" in values:
        values["seo_keywords"] = [word.strip() for word in str(values["seo_keywords"]).split(";") if word.strip()]
    return ProductCreate.model_validate(values)


def _describe(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in error.errors())


async def import_products(
    session: AsyncSession, cache: CatalogCache, stream: IO[str], progress: Callable[[int], None]
) -> ImportReport:
    service = ProductService(session, cache)
    report = ImportReport()
    for line, row in _rows(stream):
        try:
            data = _to_create(row)
            # A savepoint per row: a failing row is undone alone.
            async with session.begin_nested():
                await service.create(data)
            report.imported += 1
        except ValidationError as exc:
            report.errors.append((line, _describe(exc)))
        except AppError as exc:
            report.errors.append((line, exc.message))
        progress(1)
    return report
