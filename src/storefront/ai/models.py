"""Generated content kept by a hash of its input: the same product is never paid for twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from storefront.core.models import Base, UTCDateTime, utcnow


class GeneratedContentRecord(Base):
    __tablename__ = "ai_generations"

    input_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    seo_keywords: Mapped[list[str]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
