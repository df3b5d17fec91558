"""Identity queries. Repositories use the session they are given and never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import CursorResult, bindparam, delete, select, update

from storefront.core.pagination import IdKeyset
from storefront.core.repository import Repository, run_prebuilt, table_of
from storefront.core.sqltypes import AnyRow
from storefront.identity.models import ApiToken, RefreshToken, User

# Who an email goes to, built once (a confirmation email per order: issue 16 row 5).
_USERS = table_of(User).c
_CONTACT = select(_USERS.name, _USERS.email).where(_USERS.id == bindparam("user_id"))


class UserRepository(Repository):
    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def contact(self, user_id: int) -> AnyRow | None:
        """The user's ``name`` and ``email``; None if the user is gone."""
        return (await run_prebuilt(self.session, _CONTACT, {"user_id": user_id})).first()

    async def get_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email))

    async def active_admin_ids(self) -> Sequence[int]:
        """Who hears about the shop's stock (low-stock and sold-out notifications)."""
        return (await self.session.scalars(select(User.id).where(User.role == "admin", User.is_active.is_(True)))).all()

    async def list(self, keyset: IdKeyset) -> Sequence[User]:
        """Oldest first."""
        return (await self.session.scalars(keyset.apply(select(User), User.id, newest_first=False))).all()


class RefreshTokenRepository(Repository):
    async def get(self, jti: str) -> RefreshToken | None:
        return await self.session.get(RefreshToken, jti)

    async def spend(self, jti: str, now: datetime) -> bool:
        """Mark the token used, if it still can be; atomic under concurrent refreshes."""
        result: CursorResult[tuple[()]] = await self.session.execute(  # type: ignore[assignment]
            update(RefreshToken)
            .where(
                RefreshToken.jti == jti,
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    async def live_families(self, user_id: int, now: datetime) -> Sequence[str]:
        query = (
            select(RefreshToken.family_id)
            .where(
                RefreshToken.user_id == user_id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .distinct()
        )
        return (await self.session.scalars(query)).all()

    async def revoke_families(self, family_ids: Sequence[str], now: datetime) -> None:
        if not family_ids:
            return
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id.in_(family_ids), RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )


# Every request with a personal token runs it: built once, the hash a bound parameter.
_TOKEN_WITH_OWNER = (
    select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == bindparam("token_hash"))
)


class ApiTokenRepository(Repository):
    async def get_with_owner(self, token_hash: str) -> tuple[ApiToken, User] | None:
        row = (await self.session.execute(_TOKEN_WITH_OWNER, {"token_hash": token_hash})).first()
        return (row[0], row[1]) if row is not None else None

    async def list_for(self, user_id: int) -> Sequence[ApiToken]:
        query = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
        return (await self.session.scalars(query)).all()

    async def get_for(self, user_id: int, token_id: int) -> ApiToken | None:
        return await self.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id))

    async def delete(self, token: ApiToken) -> None:
        await self.session.delete(token)
        await self.session.flush()

    async def delete_all_for(self, user_id: int, keep: int | None = None) -> None:
        statement = delete(ApiToken).where(ApiToken.user_id == user_id)
        if keep is not None:
            statement = statement.where(ApiToken.id != keep)
        await self.session.execute(statement)
