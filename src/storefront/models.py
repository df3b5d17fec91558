"""Every table, gathered in one metadata for Alembic and the tests."""

from storefront.catalog import models as catalog_models
from storefront.core.models import Base
from storefront.identity import models as identity_models

metadata = Base.metadata

__all__ = ["catalog_models", "identity_models", "metadata"]
