"""Every table, gathered in one metadata for Alembic and the tests."""

from storefront.ai import models as ai_models
from storefront.analytics import models as analytics_models
from storefront.cart import models as cart_models
from storefront.catalog import models as catalog_models
from storefront.core import idempotency as idempotency_models
from storefront.core import jobs as job_models
from storefront.core.models import Base
from storefront.identity import models as identity_models
from storefront.notifications import models as notification_models
from storefront.orders import models as order_models
from storefront.payments import models as payment_models
from storefront.shipping import models as shipping_models
from storefront.taxes import models as tax_models
from storefront.todos import models as todo_models

metadata = Base.metadata

__all__ = [
    "ai_models",
    "analytics_models",
    "cart_models",
    "catalog_models",
    "idempotency_models",
    "identity_models",
    "job_models",
    "metadata",
    "notification_models",
    "order_models",
    "payment_models",
    "shipping_models",
    "tax_models",
    "todo_models",
]
