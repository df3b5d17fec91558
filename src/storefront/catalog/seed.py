"""Deterministic demo catalog: realistic titles, descriptions, prices and stock,
bulk-loaded fast enough for a million products (COPY on PostgreSQL, batched
executemany on SQLite)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.models import Category, Product

CATEGORIES = [
    "Kitchen", "Garden", "Office", "Outdoor", "Bath", "Lighting", "Furniture", "Toys", "Books", "Music",
    "Sports", "Travel", "Pets", "Tools", "Audio", "Photography", "Crafts", "Bedding", "Storage", "Cleaning",
]  # fmt: skip
ADJECTIVES = [
    "Sturdy", "Compact", "Classic", "Rustic", "Modern", "Handmade", "Portable", "Deluxe", "Vintage", "Minimal",
    "Heavy-Duty", "Lightweight", "Foldable", "Ergonomic", "Waterproof", "Organic", "Recycled", "Premium",
]  # fmt: skip
MATERIALS = [
    "Enamel", "Bamboo", "Oak", "Steel", "Copper", "Linen", "Ceramic", "Glass", "Walnut", "Wool", "Cotton",
    "Leather", "Brass", "Cast Iron", "Stoneware", "Aluminium", "Cork", "Marble",
]  # fmt: skip
NOUNS = {
    "Kitchen": ["Mug", "Teapot", "Skillet", "Cutting Board", "Colander", "Whisk", "Ladle", "Kettle"],
    "Garden": ["Watering Can", "Trowel", "Planter", "Hose Reel", "Pruner", "Bird Feeder"],
    "Office": ["Desk Organiser", "Notebook", "Pen Holder", "Monitor Stand", "Letter Tray"],
    "Outdoor": ["Camping Chair", "Lantern", "Picnic Blanket", "Cooler", "Hammock"],
    "Bath": ["Towel Rack", "Soap Dish", "Bath Mat", "Toothbrush Holder", "Shower Caddy"],
    "Lighting": ["Desk Lamp", "Pendant Light", "Floor Lamp", "String Lights", "Candle Holder"],
    "Furniture": ["Side Table", "Bookshelf", "Stool", "Bench", "Coat Rack"],
    "Toys": ["Puzzle", "Building Blocks", "Spinning Top", "Toy Train", "Kite"],
    "Books": ["Journal", "Sketchbook", "Recipe Book", "Photo Album", "Planner"],
    "Music": ["Ukulele", "Harmonica", "Music Stand", "Drum Pad", "Metronome"],
    "Sports": ["Yoga Mat", "Water Bottle", "Jump Rope", "Kettlebell", "Gym Bag"],
    "Travel": ["Backpack", "Packing Cube", "Luggage Tag", "Travel Pillow", "Toiletry Bag"],
    "Pets": ["Dog Bowl", "Cat Bed", "Leash", "Pet Brush", "Feeder"],
    "Tools": ["Hammer", "Screwdriver Set", "Tape Measure", "Spirit Level", "Toolbox"],
    "Audio": ["Speaker", "Headphone Stand", "Cable Organiser", "Record Crate", "Radio"],
    "Photography": ["Tripod", "Camera Strap", "Lens Pouch", "Reflector", "Photo Frame"],
    "Crafts": ["Knitting Needles", "Sewing Box", "Paint Palette", "Easel", "Embroidery Hoop"],
    "Bedding": ["Pillow", "Duvet Cover", "Throw Blanket", "Sheet Set", "Quilt"],
    "Storage": ["Basket", "Storage Box", "Jar", "Shelf Bin", "Hook Rail"],
    "Cleaning": ["Broom", "Scrub Brush", "Dustpan", "Spray Bottle", "Laundry Basket"],
}
USES = ["everyday use", "gifting", "small spaces", "the weekend", "busy mornings", "long trips", "beginners"]
FEATURES = [
    "built to last for years", "easy to clean", "finished by hand", "sized to fit most shelves",
    "tested for daily wear", "packed without plastic", "backed by a two-year warranty",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class SeedProduct:
    slug: str
    title: str
    description: str
    category: str
    price_cents: int
    stock: int
    low_stock_threshold: int
    seo_keywords: list[str]
    created_at: datetime


def _slugify_ascii(text: str) -> str:
    # The generated titles are ASCII words and digits: a cheap slug is exact here.
    return "-".join(text.lower().replace("-", " ").split())


def generate(count: int, seed: int, start: int = 0) -> Iterator[SeedProduct]:
    """``count`` products numbered from ``start``; the same arguments give the same products."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    epoch = datetime(2025, 1, 1, tzinfo=UTC)
    for number in range(start, start + count):
        category = CATEGORIES[rng.randrange(len(CATEGORIES))]
        noun = rng.choice(NOUNS[category])
        adjective, material = rng.choice(ADJECTIVES), rng.choice(MATERIALS)
        title = f"{adjective} {material} {noun} {number + 1:07d}"
        description = (
            f"A {adjective.lower()} {noun.lower()} in {material.lower()}, made for {rng.choice(USES)}. "
            f"It is {rng.choice(FEATURES)} and {rng.choice(FEATURES)}."
        )
        stock = 0 if rng.random() < 0.08 else rng.randrange(1, 500)
        yield SeedProduct(
            slug=_slugify_ascii(title),
            title=title,
            description=description,
            category=category,
            price_cents=rng.randrange(199, 49999),
            stock=stock,
            low_stock_threshold=5,
            seo_keywords=[noun.lower(), material.lower(), category.lower()],
            created_at=epoch + timedelta(seconds=number * 37 + rng.randrange(37)),
        )


async def ensure_categories(session: AsyncSession) -> dict[str, int]:
    existing = {name: id_ for id_, name in (await session.execute(select(Category.id, Category.name))).all()}
    for name in CATEGORIES:
        if name not in existing:
            category = Category(name=name, slug=_slugify_ascii(name))
            session.add(category)
            await session.flush()
            existing[name] = category.id
    return existing


def _row(product: SeedProduct, category_ids: dict[str, int]) -> dict[str, Any]:
    return {
        "slug": product.slug,
        "title": product.title,
        "description": product.description,
        "category_id": category_ids[product.category],
        "price": Decimal(product.price_cents).scaleb(-2),
        "stock": product.stock,
        "low_stock_threshold": product.low_stock_threshold,
        "seo_keywords": product.seo_keywords,
        "version": 1,
        "created_at": product.created_at,
        "updated_at": product.created_at,
    }


COPY_COLUMNS = [
    "slug", "title", "description", "category_id", "price_cents", "stock", "low_stock_threshold",
    "seo_keywords", "version", "created_at", "updated_at",
]  # fmt: skip


def _record(p: SeedProduct, category_ids: dict[str, int]) -> tuple[Any, ...]:
    keywords = json.dumps(p.seo_keywords)
    category_id = category_ids[p.category]
    return (
        p.slug,
        p.title,
        p.description,
        category_id,
        p.price_cents,
        p.stock,
        p.low_stock_threshold,
        keywords,
        1,
        p.created_at,
        p.created_at,
    )


async def _copy_batch(session: AsyncSession, batch: list[SeedProduct], category_ids: dict[str, int]) -> None:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    records = [_record(product, category_ids) for product in batch]
    await driver.copy_records_to_table("products", records=records, columns=COPY_COLUMNS)


async def _insert_batch(session: AsyncSession, batch: list[SeedProduct], category_ids: dict[str, int]) -> None:
    await session.execute(insert(Product), [_row(product, category_ids) for product in batch])


async def seed_products(
    session: AsyncSession, count: int, seed: int, progress: Callable[[int], None], batch_size: int = 10_000
) -> int:
    """Add ``count`` products after the ones already there. Returns how many were added."""
    category_ids = await ensure_categories(session)
    start = await session.scalar(select(func.count()).select_from(Product)) or 0
    load = _copy_batch if session.get_bind().dialect.name == "postgresql" else _insert_batch
    batch: list[SeedProduct] = []
    for product in generate(count, seed, start):
        batch.append(product)
        if len(batch) == batch_size:
            await load(session, batch, category_ids)
            progress(len(batch))
            batch = []
    if batch:
        await load(session, batch, category_ids)
        progress(len(batch))
    return count
