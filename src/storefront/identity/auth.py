"""Registration, login, refresh with rotation and reuse detection, logout, authentication."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from limits import RateLimitItem

from storefront.config import Settings
from storefront.core.errors import InvalidInput, Unauthenticated
from storefront.core.ratelimit import RateLimiter
from storefront.core.security import InvalidToken, PasswordHasher, TokenClaims, TokenCodec, digest
from storefront.identity.errors import AccountDisabled, EmailTaken, InvalidCredentials, RefreshTokenReused
from storefront.identity.models import User
from storefront.identity.repository import ApiTokenRepository, RefreshTokenRepository, UserRepository
from storefront.identity.revocation import RevocationStore
from storefront.identity.schemas import RegisterRequest, TokenPair
from storefront.identity.sessions import LoginSessions

API_TOKEN_PREFIX = "sfp_"  # noqa: S105 - a marker, not a secret


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the user, and the credential they presented."""

    user: User
    claims: TokenClaims | None = None  # a JWT access token
    api_token_id: int | None = None  # or a personal API token


class LoginThrottle:
    """Failed logins per account and per client address, in separate windows,
    so an attacker hammering one account does not lock out everyone behind a NAT."""

    def __init__(self, limiter: RateLimiter, settings: Settings) -> None:
        self.limiter = limiter
        self.per_account: RateLimitItem = limiter.parse(settings.login_limit_per_account)
        self.per_address: RateLimitItem = limiter.parse(settings.login_limit_per_address)

    async def check(self, account: str, address: str) -> None:
        message = "Too many failed login attempts; try again later"
        await self.limiter.check(self.per_account, "login-account", account, message=message)
        await self.limiter.check(self.per_address, "login-address", address, message=message)

    async def failed(self, account: str, address: str) -> None:
        await self.limiter.hit(self.per_account, "login-account", account)
        await self.limiter.hit(self.per_address, "login-address", address)

    async def succeeded(self, account: str) -> None:
        await self.limiter.clear(self.per_account, "login-account", account)


class AuthService:
    def __init__(
        self,
        users: UserRepository,
        refresh_tokens: RefreshTokenRepository,
        api_tokens: ApiTokenRepository,
        hasher: PasswordHasher,
        tokens: TokenCodec,
        revocations: RevocationStore,
        throttle: LoginThrottle,
    ) -> None:
        self.users = users
        self.refresh_tokens = refresh_tokens
        self.api_tokens = api_tokens
        self.hasher = hasher
        self.tokens = tokens
        self.revocations = revocations
        self.throttle = throttle
        self.sessions = LoginSessions(refresh_tokens, tokens, revocations)

    async def register(self, data: RegisterRequest) -> User:
        if await self.users.get_by_email(data.email) is not None:
            raise EmailTaken()
        user = User(email=data.email, name=data.name, password_hash=await self.hasher.hash(data.password))
        # The unique index settles a race between two registrations of one email.
        return await self.users.add(user)

    async def login(self, email: str, password: str, address: str) -> TokenPair:
        account = email.strip().lower()
        await self.throttle.check(account, address)
        user = await self.users.get_by_email(account)
        if user is None:
            await self.hasher.burn(password)
            valid, new_hash = False, None
        else:
            valid, new_hash = await self.hasher.verify(password, user.password_hash)
        if user is None or not valid:
            await self.throttle.failed(account, address)
            raise InvalidCredentials()
        if not user.is_active:
            raise AccountDisabled()
        if new_hash is not None:  # the cost settings changed since this hash was made
            user.password_hash = new_hash
        await self.throttle.succeeded(account)
        return await self.sessions.start(user)

    async def refresh(self, refresh_token: str) -> TokenPair:
        try:
            claims = self.tokens.decode(refresh_token, "refresh")
        except InvalidToken as exc:
            raise Unauthenticated("Invalid or expired refresh token") from exc
        now = datetime.now(UTC)
        if not await self.refresh_tokens.spend(claims.jti, now):
            stored = await self.refresh_tokens.get(claims.jti)
            if stored is not None and stored.used_at is not None:
                # A spent token presented again: it was stolen, or the client is
                # confused. Either way this login can no longer be trusted.
                await self.sessions.revoke([stored.family_id])
                raise RefreshTokenReused()
            raise Unauthenticated("Invalid or expired refresh token")
        user = await self.users.get(claims.subject)
        if user is None or not user.is_active:
            raise Unauthenticated("Invalid or expired refresh token")
        return await self.sessions.issue(user, claims.session_id)

    async def logout(self, principal: Principal, refresh_token: str | None) -> None:
        families: list[str] = []
        if refresh_token is not None:
            try:
                claims = self.tokens.decode(refresh_token, "refresh")
            except InvalidToken as exc:
                raise InvalidInput("refresh_token", "is not a valid refresh token") from exc
            if claims.subject != principal.user.id:
                raise InvalidInput("refresh_token", "belongs to another account")
            families.append(claims.session_id)
        if principal.claims is not None:
            access = principal.claims
            await self.revocations.revoke(f"jti:{access.jti}", access.expires_at)
            families.append(access.session_id)
        await self.sessions.revoke(sorted(set(families)))

    async def authenticate(self, token: str) -> Principal:
        if token.startswith(API_TOKEN_PREFIX):
            return await self._authenticate_api_token(token)
        try:
            claims = self.tokens.decode(token, "access")
        except InvalidToken as exc:
            raise Unauthenticated("Invalid or expired token") from exc
        if await self.revocations.any_revoked([f"jti:{claims.jti}", f"sid:{claims.session_id}"]):
            raise Unauthenticated("This token has been revoked")
        user = await self.users.get(claims.subject)
        if user is None or not user.is_active:
            raise Unauthenticated("Invalid or expired token")
        return Principal(user=user, claims=claims)

    async def _authenticate_api_token(self, token: str) -> Principal:
        found = await self.api_tokens.get_with_owner(digest(token))
        if found is None:
            raise Unauthenticated("Invalid or expired token")
        api_token, user = found
        if api_token.expires_at is not None and api_token.expires_at <= datetime.now(UTC):
            raise Unauthenticated("Invalid or expired token")
        if not user.is_active:
            raise Unauthenticated("Invalid or expired token")
        return Principal(user=user, api_token_id=api_token.id)
