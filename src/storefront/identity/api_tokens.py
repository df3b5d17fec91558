"""Personal API tokens for scripts and agents."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from storefront.core.security import digest
from storefront.identity.auth import API_TOKEN_PREFIX
from storefront.identity.errors import ApiTokenNotFound
from storefront.identity.models import ApiToken, User
from storefront.identity.repository import ApiTokenRepository
from storefront.identity.schemas import ApiTokenCreate, ApiTokenCreated


class ApiTokenService:
    def __init__(self, api_tokens: ApiTokenRepository) -> None:
        self.api_tokens = api_tokens

    async def create(self, user: User, data: ApiTokenCreate) -> ApiTokenCreated:
        token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires_at = datetime.now(UTC) + timedelta(days=data.expires_in_days) if data.expires_in_days else None
        row = await self.api_tokens.add(
            ApiToken(user_id=user.id, name=data.name, token_hash=digest(token), expires_at=expires_at)
        )
        return ApiTokenCreated(id=row.id, name=row.name, token=token, expires_at=row.expires_at)

    async def list(self, user: User) -> Sequence[ApiToken]:
        return await self.api_tokens.list_for(user.id)

    async def delete(self, user: User, token_id: int) -> None:
        token = await self.api_tokens.get_for(user.id, token_id)
        if token is None:
            raise ApiTokenNotFound(token_id)
        await self.api_tokens.delete(token)
