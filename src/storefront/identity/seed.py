"""Demo customers for `storefront seed --users N`."""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.config import Settings
from storefront.core.security import PasswordHasher
from storefront.identity.models import Role, User

DEMO_PASSWORD = "storefront-demo"  # noqa: S105 - printed to the operator; demo accounts only


async def seed_users(session: AsyncSession, count: int, seed: int, settings: Settings) -> str:
    """Add ``count`` customers sharing one demo password (hashed once). Returns the password."""
    start = await session.scalar(select(func.count()).select_from(User)) or 0
    password_hash = await PasswordHasher(settings).hash(DEMO_PASSWORD)
    rows = [
        {
            "email": f"customer-{seed}-{number}@example.com",
            "name": f"Customer {number}",
            "password_hash": password_hash,
            "role": Role.CUSTOMER.value,
            "is_active": True,
        }
        for number in range(start + 1, start + count + 1)
    ]
    for offset in range(0, len(rows), 5000):
        await session.execute(insert(User), rows[offset : offset + 5000])
    return DEMO_PASSWORD
