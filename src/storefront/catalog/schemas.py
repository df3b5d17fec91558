"""Request and response bodies of the catalog."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from storefront.catalog.models import Category, Product
from storefront.core.schemas import MoneyIn, MoneyOut, Slug, Strict
from storefront.fields import NOT_BOOLEAN, free_text, one_line

Name = Annotated[str, one_line(100)]
Title = Annotated[str, one_line(200)]
Description = Annotated[str, free_text(5000)]
Keyword = Annotated[str, one_line(60)]
Keywords = Annotated[list[Keyword], Field(max_length=20)]
Stock = Annotated[int, Field(ge=0, le=1_000_000_000), NOT_BOOLEAN]
Threshold = Annotated[int, Field(ge=0, le=1_000_000), NOT_BOOLEAN]
ProductSort = Literal["created_at", "-created_at", "price", "-price", "title", "-title"]


# A category's slug fits its column (120; a product's is 200): PostgreSQL refused a longer
# one with a 500 (found by ./dev fuzz), SQLite silently stored it.
CategorySlug = Annotated[Slug, Field(max_length=120)]


class CategoryCreate(Strict):
    name: Name
    slug: CategorySlug | None = Field(None, description="Derived from the name when absent.")


class CategoryUpdate(Strict):
    name: Name | None = None
    slug: CategorySlug | None = None


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    slug: str


class ProductCreate(Strict):
    title: Title
    slug: Slug | None = Field(None, description="Derived from the title when absent.")
    description: Description = ""
    category: Slug = Field(description="The category's slug.")
    price: MoneyIn
    stock: Stock
    low_stock_threshold: Threshold = 5
    seo_keywords: Keywords = Field(default_factory=list)
    generate_content: StrictBool = Field(False, description="Fill missing content in a background job.")


class ProductReplace(Strict):
    """PUT: every field; the slug changes only when one is given."""

    title: Title
    slug: Slug | None = None
    description: Description = ""
    category: Slug
    price: MoneyIn
    stock: Stock
    low_stock_threshold: Threshold = 5
    seo_keywords: Keywords = Field(default_factory=list)


class ProductPatch(Strict):
    title: Title | None = None
    slug: Slug | None = None
    description: Description | None = None
    category: Slug | None = None
    price: MoneyIn | None = None
    stock: Stock | None = None
    low_stock_threshold: Threshold | None = None
    seo_keywords: Keywords | None = None


class ProductRead(BaseModel):
    id: int
    slug: str
    title: str
    description: str
    category: CategoryRead
    price: MoneyOut
    stock: int
    low_stock_threshold: int
    seo_keywords: list[str]
    created_at: datetime
    updated_at: datetime


class ProductFilters(BaseModel):
    # Frozen, so hashable: the listing's statements are cached by which filters are set.
    model_config = ConfigDict(frozen=True)

    category: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None

    @model_validator(mode="after")
    def _range(self) -> ProductFilters:
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise ValueError("min_price must not exceed max_price")
        return self

    def cache_key(self) -> str:
        return f"{self.category}|{self.min_price}|{self.max_price}|{self.in_stock}"


def _product_read(source: Any, category: CategoryRead) -> ProductRead:
    """From a Core row or an ORM product: both expose the product's fields by name."""
    return ProductRead(
        id=source.id,
        slug=source.slug,
        title=source.title,
        description=source.description,
        category=category,
        price=source.price,
        stock=source.stock,
        low_stock_threshold=source.low_stock_threshold,
        seo_keywords=source.seo_keywords,
        created_at=source.created_at,
        updated_at=source.updated_at,
    )


def product_read(product: Product, category: Category) -> ProductRead:
    """An ORM product and its category, as the API shows them."""
    return _product_read(product, CategoryRead.model_validate(category))


def product_json(row: Any) -> dict[str, Any]:
    """A product row of the read paths (``repository.product_columns``) as ``ProductRead``'s
    JSON, for ``encode_json``: the uncached reads' one conversion from row to response.

    Not through the model: every value already has its column's type (money a Decimal,
    times aware datetimes, keywords a list of strings), and building then dumping twenty
    models cost about twice this (docs/performance.md, issue 16). A test holds it equal to
    ``ProductRead``'s own JSON on both backends, awkward text included.
    """
    return {
        "id": row.id,
        "slug": row.slug,
        "title": row.title,
        "description": row.description,
        "category": {"id": row.category_id, "name": row.category_name, "slug": row.category_slug},
        "price": f"{row.price:.2f}",  # as MoneyOut writes it
        "stock": row.stock,
        "low_stock_threshold": row.low_stock_threshold,
        "seo_keywords": row.seo_keywords,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def encode_json(value: Any) -> bytes:
    """JSON as Pydantic writes it: UTC as ``Z``, text unescaped UTF-8, no spaces."""
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)
