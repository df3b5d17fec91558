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

import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, FastAPI, Header, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict
from redis.asyncio import Redis
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


# C1: checkout -------------------------------------------------------------------------------
#
# The floor for `POST /api/v1/orders` with an Idempotency-Key: the same request (bearer API
# token, JSON body, key header), the same statements Storefront runs for it, all in ONE asyncpg
# transaction: the token's owner (read, outside the transaction, as Storefront does), then the
# key claimed, stock checked and taken, the order and its lines written, the two outbox jobs
# written, the response stored against the key. No job hand-out to Redis after the commit (SQL
# only): Storefront's hand-out is part of what it pays above this floor.

C1_USER = """
SELECT u.id FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = $1 AND u.is_active AND (t.expires_at IS NULL OR t.expires_at > now())
"""
C1_CLAIM = """
INSERT INTO idempotency_keys (user_id, key, request_hash, locked_until, created_at, expires_at)
VALUES ($1, $2, $3, now() + interval '60 seconds', now(), now() + interval '24 hours')
ON CONFLICT (user_id, key) DO NOTHING RETURNING id
"""
C1_TAKE = """
UPDATE products SET stock = stock - $2, version = version + 1, updated_at = now()
WHERE id = $1 AND archived_at IS NULL AND stock >= $2
RETURNING title, price_cents, stock, low_stock_threshold
"""
C1_ORDER = """
INSERT INTO orders (user_id, status, total_cents, created_at, updated_at)
VALUES ($1, 'placed', $2, now(), now()) RETURNING id, created_at, updated_at
"""
C1_LINE = """
INSERT INTO order_lines (order_id, product_id, title, unit_price_cents, quantity, line_total_cents)
VALUES ($1, $2, $3, $4, $5, $6)
"""
C1_JOBS = """
INSERT INTO jobs (name, payload, status, attempts, max_attempts, available_at, created_at)
VALUES ('orders.confirmation_email', $1::json, 'pending', 0, 8, now(), now()),
       ('orders.notify_placed', $1::json, 'pending', 0, 8, now(), now())
RETURNING id
"""
C1_QUEUE = "storefront:jobs"  # the stream `storefront worker` reads (core/taskqueue.py)


def _job_message(job_id: int) -> bytes:
    """A job's hand-out as taskiq writes it to the stream, so that a worker runs C1's jobs too."""
    return json.dumps(
        {
            "task_id": uuid.uuid4().hex,
            "task_name": "storefront.run_job",
            "labels": {},
            "labels_types": {},
            "args": [job_id],
            "kwargs": {},
        }
    ).encode()


C1_STORE = """
UPDATE idempotency_keys SET response_status = 201, response_body = $3, locked_until = NULL
WHERE user_id = $1 AND key = $2
"""


class OrderItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: int
    quantity: int


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[OrderItemIn]


class OrderLineOut(BaseModel):
    product_id: int
    title: str
    unit_price: str
    quantity: int
    line_total: str


class OrderOut(BaseModel):
    id: int
    status: str
    items: list[OrderLineOut]
    total: str
    created_at: datetime
    updated_at: datetime


def checkout() -> FastAPI:
    pool: dict[str, asyncpg.Pool] = {}
    brokers: dict[str, Redis] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool["db"] = await asyncpg.create_pool(_database_url(), min_size=10, max_size=10)
        brokers["redis"] = Redis.from_url(os.environ["STOREFRONT_REDIS_URL"])
        yield
        await brokers["redis"].aclose()
        await pool["db"].close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "healthy"}

    @app.post("/api/v1/orders", status_code=201)
    async def place(
        body: OrderIn,
        authorization: Annotated[str, Header()],
        idempotency_key: Annotated[str, Header(alias="Idempotency-Key")],
    ) -> Response:
        token = authorization.removeprefix("Bearer ")
        db = pool["db"]
        user_id = await db.fetchval(C1_USER, hashlib.sha256(token.encode()).hexdigest())
        if user_id is None:
            raise HTTPException(401)
        wanted: dict[int, int] = {}
        for item in body.items:
            wanted[item.product_id] = wanted.get(item.product_id, 0) + item.quantity
        fingerprint = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        async with db.acquire() as connection, connection.transaction():
            if await connection.fetchval(C1_CLAIM, user_id, idempotency_key, fingerprint) is None:
                raise HTTPException(409)  # the bench sends fresh keys only
            lines = []
            for product_id in sorted(wanted):
                row = await connection.fetchrow(C1_TAKE, product_id, wanted[product_id])
                if row is None:
                    raise HTTPException(409)
                quantity = wanted[product_id]
                lines.append((product_id, row["title"], row["price_cents"], quantity, row["price_cents"] * quantity))
            total = sum(line[4] for line in lines)
            order = await connection.fetchrow(C1_ORDER, user_id, total)
            await connection.executemany(C1_LINE, [(order["id"], *line) for line in lines])
            job_ids = [row["id"] for row in await connection.fetch(C1_JOBS, json.dumps({"order_id": order["id"]}))]
            out = OrderOut(
                id=order["id"],
                status="placed",
                items=[
                    OrderLineOut(
                        product_id=product_id,
                        title=title,
                        unit_price=f"{price / 100:.2f}",
                        quantity=quantity,
                        line_total=f"{line_total / 100:.2f}",
                    )
                    for product_id, title, price, quantity, line_total in lines
                ],
                total=f"{total / 100:.2f}",
                created_at=order["created_at"],
                updated_at=order["updated_at"],
            )
            encoded = out.model_dump_json()
            await connection.execute(C1_STORE, user_id, idempotency_key, encoded)
        # After the commit, like the app: the jobs handed to the worker's stream in one round trip.
        async with brokers["redis"].pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.xadd(C1_QUEUE, {b"data": _job_message(job_id)})
            await pipe.execute()
        return Response(encoded, status_code=201, media_type="application/json")

    return app
