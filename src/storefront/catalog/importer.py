"""CSV import of products: every row validated like an API request; good rows land,
bad rows are reported with their line number and reason.

Rows are committed in batches, each its own unit of work: on the embedded SQLite
a running server's writers wait at most one batch for the write lock (one
transaction for a 20,000-row file held it for over a minute, and every write of
the server failed meanwhile)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import IO

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.cache import CatalogCache
from storefront.catalog.errors import UnknownCategory
from storefront.catalog.schemas import CategoryCreate, ProductCreate
from storefront.catalog.service import CategoryService, ProductService
from storefront.core.db import Database
from storefront.core.errors import AppError

# Rows per transaction: small enough that a server's writers barely wait, large
# enough that commits are not the cost.
BATCH_ROWS = 200

REQUIRED = {"title", "category", "price", "stock"}
OPTIONAL = {"slug", "description", "low_stock_threshold", "seo_keywords"}


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    categories_created: list[str] = field(default_factory=list)


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


def _batches(rows: Iterator[tuple[int, dict[str, str]]], size: int) -> Iterator[list[tuple[int, dict[str, str]]]]:
    while batch := list(islice(rows, size)):
        yield batch


def count_rows(stream: IO[str]) -> int | None:
    """Data rows in a file that can be read twice (for a progress total); None for a pipe."""
    if not stream.seekable():
        return None
    start = stream.tell()
    rows = sum(1 for _ in csv.reader(stream)) - 1
    stream.seek(start)
    return max(rows, 0)


def _message(error: ErrorDetails) -> str:
    if error["type"] == "string_pattern_mismatch" and error["loc"] in (("category",), ("slug",)):
        return "must be a slug: lowercase letters and digits, single hyphens between (e.g. kitchen-tools)"
    return error["msg"]


def _describe(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {_message(e)}" for e in error.errors())


def _category_name(slug: str) -> str:
    return slug.replace("-", " ").capitalize()


async def _import_row(
    session: AsyncSession, cache: CatalogCache, data: ProductCreate, report: ImportReport, create_categories: bool
) -> None:
    # A savepoint per row: a failing row is undone alone.
    async with session.begin_nested():
        try:
            await ProductService(session, cache).create(data)
        except UnknownCategory:
            if not create_categories:
                raise
            await CategoryService(session, cache).create(
                CategoryCreate(name=_category_name(data.category), slug=data.category)
            )
            report.categories_created.append(data.category)
            await ProductService(session, cache).create(data)


async def import_products(
    db: Database,
    cache: CatalogCache,
    stream: IO[str],
    progress: Callable[[int], None],
    *,
    create_categories: bool = False,
    batch_rows: int = BATCH_ROWS,
) -> ImportReport:
    report = ImportReport()
    for batch in _batches(_rows(stream), batch_rows):
        async with db.session_scope() as session:
            for line, row in batch:
                try:
                    await _import_row(session, cache, _to_create(row), report, create_categories)
                    report.imported += 1
                except ValidationError as exc:
                    report.errors.append((line, _describe(exc)))
                except UnknownCategory as exc:
                    report.errors.append((line, f"{exc.message} (create it first, or import with --create-categories)"))
                except AppError as exc:
                    report.errors.append((line, exc.message))
        progress(len(batch))
    return report
