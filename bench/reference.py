"""Reference handlers measured beside Storefront in the same run, on the same data.

- R0: a raw ASGI hello-world: the server's ceiling.
- F1: FastAPI reading the row with raw asyncpg into a Pydantic model: the
  framework's floor for a database read; and the listing's first page (20 newest
  live products, one statement) the same way.
- S: the tutorial pattern: an ORM session per request through ``Depends``,
  ``ILIKE '%q%'`` search and ``OFFSET`` pages.

Each is an app factory for ``uvicorn --factory``; the database comes from
``STOREFRONT_DATABASE_URL`` (PostgreSQL).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, ForeignKey, String, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload

Scope = dict[str, Any]


def _database_url() -> str:
    url = os.environ["STOREFRONT_DATABASE_URL"]
    return url.replace("postgresql+asyncpg://", "postgresql://")


# R0 ----------------------------------------------------------------------------------------

HELLO = b'{"status":"healthy"}'


async def _hello(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": HELLO})


def r0() -> Any:
    return _hello


# The response both F1 and S produce: the same fields as Storefront's product.


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    slug: str


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    slug: str
    title: str
    description: str
    category: CategoryOut
    price: str
    stock: int
    low_stock_threshold: int
    seo_keywords: list[str]
    created_at: datetime
    updated_at: datetime


# F1 ----------------------------------------------------------------------------------------

F1_QUERY = """
SELECT p.id, p.slug, p.title, p.description, p.price_cents, p.stock, p.low_stock_threshold,
       p.seo_keywords::text AS seo_keywords, p.created_at, p.updated_at,
       c.id AS category_id, c.name AS category_name, c.slug AS category_slug
FROM products p JOIN categories c ON c.id = p.category_id WHERE p.id = $1
"""


# The first page of the default listing (newest live products), one statement: the
# partial index on created_at of live products drives it, as it drives Storefront's.
F1_LISTING = """
SELECT p.id, p.slug, p.title, p.description, p.price_cents, p.stock, p.low_stock_threshold,
       p.seo_keywords::text AS seo_keywords, p.created_at, p.updated_at,
       c.id AS category_id, c.name AS category_name, c.slug AS category_slug
FROM products p JOIN categories c ON c.id = p.category_id
WHERE p.archived_at IS NULL ORDER BY p.created_at DESC, p.id DESC LIMIT $1
"""


class PageOut(BaseModel):
    items: list[ProductOut]
    next_cursor: str | None


def _product_out(row: Any) -> ProductOut:
    import json

    return ProductOut(
        id=row["id"],
        slug=row["slug"],
        title=row["title"],
        description=row["description"],
        category=CategoryOut(id=row["category_id"], name=row["category_name"], slug=row["category_slug"]),
        price=f"{row['price_cents'] / 100:.2f}",
        stock=row["stock"],
        low_stock_threshold=row["low_stock_threshold"],
        seo_keywords=json.loads(row["seo_keywords"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def f1() -> FastAPI:
    pool: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool["db"] = await asyncpg.create_pool(_database_url(), min_size=10, max_size=10)
        yield
        await pool["db"].close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "healthy"}

    @app.get("/products/{product_id}", response_model=ProductOut)
    async def product(product_id: int) -> ProductOut:
        row = await pool["db"].fetchrow(F1_QUERY, product_id)
        if row is None:
            raise HTTPException(404)
        return _product_out(row)

    @app.get("/products", response_model=PageOut)
    async def listing(limit: int = 20) -> PageOut:
        # One row more than the page tells whether there is a next one, as Storefront does;
        # the cursor is the last row's position, unsigned (Storefront signs its own).
        rows = await pool["db"].fetch(F1_LISTING, limit + 1)
        items = [_product_out(row) for row in rows[:limit]]
        last = rows[limit - 1] if len(rows) > limit else None
        return PageOut(items=items, next_cursor=f"{last['created_at'].isoformat()}|{last['id']}" if last else None)

    return app


# S -----------------------------------------------------------------------------------------


class Base(DeclarativeBase):
    pass


class CategoryRow(Base):
    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(120))


class ProductRow(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str]
    title: Mapped[str]
    description: Mapped[str]
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    price_cents: Mapped[int]
    stock: Mapped[int]
    low_stock_threshold: Mapped[int]
    seo_keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    category: Mapped[CategoryRow] = relationship()

    @property
    def price(self) -> str:
        return f"{self.price_cents / 100:.2f}"


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """The tutorial dependency: one ORM session per request."""
    async with request.app.state.sessions() as session:
        yield session


Db = Annotated[AsyncSession, Depends(get_db)]


def s() -> FastAPI:
    url = _database_url().replace("postgresql://", "postgresql+asyncpg://")
    engine = create_async_engine(url, pool_size=10, max_overflow=0)
    app = FastAPI()
    app.state.sessions = async_sessionmaker(engine, expire_on_commit=False)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "healthy"}

    @app.get("/products/search", response_model=list[ProductOut])
    async def search(q: str, db: Db, skip: int = 0, limit: int = 20) -> Any:
        pattern = f"%{q}%"
        query = (
            select(ProductRow)
            .options(selectinload(ProductRow.category))
            .where(or_(ProductRow.title.ilike(pattern), ProductRow.description.ilike(pattern)))
            .offset(skip)
            .limit(limit)
        )
        return (await db.scalars(query)).all()

    @app.get("/products", response_model=list[ProductOut])
    async def listing(db: Db, skip: int = 0, limit: int = 20) -> Any:
        query = (
            select(ProductRow)
            .options(selectinload(ProductRow.category))
            .order_by(ProductRow.created_at.desc())
            .offset(skip)
            .limit(limit)
        )
        return (await db.scalars(query)).all()

    @app.get("/products/{product_id}", response_model=ProductOut)
    async def product(product_id: int, db: Db) -> Any:
        row = await db.get(ProductRow, product_id, options=[selectinload(ProductRow.category)])
        if row is None:
            raise HTTPException(404)
        return row

    return app
