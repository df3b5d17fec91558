"""Demo data and CSV import."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

from sqlalchemy import func, select

from storefront.catalog.cache import CatalogCache
from storefront.catalog.importer import import_products
from storefront.catalog.models import Product
from storefront.catalog.schemas import CategoryCreate
from storefront.catalog.seed import generate, seed_products
from storefront.catalog.service import CategoryService
from storefront.core import migrate
from storefront.core.cache import Cache
from storefront.core.db import Database, create_engine
from tests.conftest import make_settings
from tests.helpers import Api, storefront


def test_generation_is_deterministic_and_unique() -> None:
    first = list(generate(500, seed=7))
    assert first == list(generate(500, seed=7))
    assert first != list(generate(500, seed=8))
    assert len({product.slug for product in first}) == 500
    assert all(product.slug.isascii() and " " not in product.slug for product in first)
    assert all(199 <= product.price_cents < 49999 and product.stock >= 0 for product in first)


async def test_seeded_products_are_searchable_and_listed(api: Api) -> None:
    advanced: list[int] = []
    async with api.state.db.session_scope() as session:
        before = await session.scalar(select(func.count()).select_from(Product))
        await seed_products(session, 120, seed=3, progress=advanced.append, batch_size=50)
        assert await session.scalar(select(func.count()).select_from(Product)) == (before or 0) + 120
    assert advanced == [50, 50, 20]
    sample = next(generate(1, seed=3, start=before or 0))
    found = (await api.client.get("/api/v1/products/search", params={"q": f'"{sample.title}"'})).json()
    assert [item["slug"] for item in found["items"]] == [sample.slug]
    by_slug = (await api.client.get(f"/api/v1/products/by-slug/{sample.slug}")).json()
    assert by_slug["price"] == f"{sample.price_cents / 100:.2f}"


CSV = """title,category,price,stock,description,seo_keywords
"Mug, large",kitchen,12.50,4,"Holds ""a lot""
of tea",mug;large
Crème Brûlée Torch,kitchen,30,1,Caramelises sugar,
,kitchen,1.00,1,no title,
Bad Price,kitchen,1.999,1,,
Unknown Category,nowhere,1.00,1,,
"Mug, large",kitchen,9.00,1,same slug as line 2,
Negative Stock,kitchen,1.00,-3,,
"""


async def test_import_lands_good_rows_and_reports_bad_ones(api: Api) -> None:
    await api.category("Kitchen")
    report = await import_products(api.state.db, CatalogCache(api.state.cache), io.StringIO(CSV), lambda _: None)
    assert report.imported == 2
    assert [line for line, _ in report.errors] == [5, 6, 7, 8, 9]
    messages = dict(report.errors)
    assert "title" in messages[5]
    assert "price" in messages[6]
    assert "nowhere" in messages[7]
    assert "already exists" in messages[8]
    assert "stock" in messages[9]
    mug = (await api.client.get("/api/v1/products/by-slug/mug-large")).json()
    assert mug["description"] == 'Holds "a lot"\nof tea'
    assert mug["seo_keywords"] == ["mug", "large"]
    assert (await api.client.get("/api/v1/products/by-slug/creme-brulee-torch")).status_code == 200


def test_cli_seed_and_import(tmp_path: Path) -> None:
    seeded = storefront(tmp_path, "seed", "--products", "300", "--users", "2")
    assert seeded.returncode == 0, seeded.stderr
    assert "storefront-demo" in seeded.stdout
    csv_path = tmp_path / "products.csv"
    csv_path.write_text("title,category,price,stock\nGood One,kitchen,5.00,3\nBad One,kitchen,free,3\n")
    imported = storefront(tmp_path, "import", str(csv_path))
    assert imported.returncode == 1
    assert "imported 1 products, 1 rows rejected" in imported.stdout
    assert "line 3" in imported.stderr
    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("name,cost\nx,1\n")
    refused = storefront(tmp_path, "import", str(bad_header))
    assert refused.returncode == 2
    assert "missing columns" in refused.stderr
    assert "Traceback" not in refused.stderr


async def test_import_can_create_missing_categories(api: Api) -> None:
    rows = "title,category,price,stock\nTorch,garden-tools,9.50,4\nRake,garden-tools,12.00,2\nSpade,Bad Slug,3.00,1\n"
    refused = await import_products(api.state.db, CatalogCache(api.state.cache), io.StringIO(rows), lambda _: None)
    assert refused.imported == 0
    assert "--create-categories" in dict(refused.errors)[2]
    assert "must be a slug" in dict(refused.errors)[4]
    report = await import_products(
        api.state.db, CatalogCache(api.state.cache), io.StringIO(rows), lambda _: None, create_categories=True
    )
    assert (report.imported, report.categories_created) == (2, ["garden-tools"])
    category = (await api.client.get("/api/v1/products/by-slug/torch")).json()["category"]
    assert (category["slug"], category["name"]) == ("garden-tools", "Garden tools")


async def test_import_commits_batch_by_batch_and_never_holds_the_write_lock_between(tmp_path: Path) -> None:
    # The embedded default: a SQLite file that a running server writes to at the same time.
    settings = make_settings(tmp_path, redis_url=None)
    db = Database(create_engine(settings))
    await migrate.upgrade(db.engine)
    async with db.session_scope() as session:
        await CategoryService(session, CatalogCache(Cache(settings))).create(CategoryCreate(name="Kitchen"))
    rows = "title,category,price,stock\n" + "".join(f"Pan {n},kitchen,1.00,1\n" for n in range(5))
    seen: list[int] = []

    def between_batches(_: int) -> None:
        # Another writer gets the lock at once (timeout 0), and sees every batch so far.
        with sqlite3.connect(settings.data_dir / "storefront.db", timeout=0, isolation_level=None) as other:
            other.execute("BEGIN IMMEDIATE")
            seen.append(other.execute("SELECT count(*) FROM products").fetchone()[0])
            other.execute("ROLLBACK")

    try:
        report = await import_products(
            db, CatalogCache(Cache(settings)), io.StringIO(rows), between_batches, batch_rows=2
        )
    finally:
        await db.dispose()
    assert report.imported == 5
    assert seen == [2, 4, 5]


def test_cli_import_summarises_many_bad_rows(tmp_path: Path) -> None:
    assert storefront(tmp_path, "db", "upgrade").returncode == 0
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text("title,category,price,stock\n" + "".join(f"Pan {n},nowhere,1.00,1\n" for n in range(25)))
    result = storefront(tmp_path, "import", str(csv_path))
    assert result.returncode == 1
    assert result.stderr.count("line ") == 20
    assert "... and 5 more rows rejected, most often: 5 x category: no category has the slug 'nowhere'" in result.stderr
    assert "imported 0 products, 25 rows rejected" in result.stdout
