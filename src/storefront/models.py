"""Every table, gathered in one metadata for Alembic and the tests."""

from storefront.core.models import Base
from storefront.identity import models as identity_models

metadata = Base.metadata

__all__ = ["identity_models", "metadata"]
