"""Login families: issuing token pairs and revoking whole logins."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from storefront.core.security import TokenCodec
from storefront.identity.models import RefreshToken, User
from storefront.identity.repository import RefreshTokenRepository
from storefront.identity.revocation import RevocationStore
from storefront.identity.schemas import TokenPair


class LoginSessions:
    def __init__(
        self, refresh_tokens: RefreshTokenRepository, tokens: TokenCodec, revocations: RevocationStore
    ) -> None:
        self.refresh_tokens = refresh_tokens
        self.tokens = tokens
        self.revocations = revocations

    async def start(self, user: User) -> TokenPair:
        return await self.issue(user, family_id=uuid.uuid4().hex)

    async def issue(self, user: User, family_id: str) -> TokenPair:
        now = datetime.now(UTC)
        refresh, refresh_claims = self.tokens.issue(user.id, "refresh", family_id, now=now)
        access, _ = self.tokens.issue(user.id, "access", family_id, now=now)
        await self.refresh_tokens.add(
            RefreshToken(
                jti=refresh_claims.jti,
                family_id=family_id,
                user_id=user.id,
                issued_at=refresh_claims.issued_at,
                expires_at=refresh_claims.expires_at,
            )
        )
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            expires_in=int(self.tokens.access_ttl.total_seconds()),
        )

    async def revoke(self, family_ids: Sequence[str]) -> None:
        """End logins: their refresh tokens stop refreshing, their access tokens stop working."""
        now = datetime.now(UTC)
        await self.refresh_tokens.revoke_families(family_ids, now)
        # An access token lives at most access_ttl, so the denylist entry need not outlive it.
        for family_id in family_ids:
            await self.revocations.revoke(f"sid:{family_id}", now + self.tokens.access_ttl)

    async def revoke_all(self, user_id: int, *, keep: str | None = None) -> None:
        families = await self.refresh_tokens.live_families(user_id, datetime.now(UTC))
        await self.revoke([family for family in families if family != keep])
