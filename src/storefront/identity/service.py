"""Identity use cases inside the caller's unit of work: registration, login, refresh
with rotation and reuse detection, logout, authentication; profile changes and the
administration of users; personal API tokens; the admin bootstrap."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from limits import RateLimitItem
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.config import Settings
from storefront.core.errors import Conflict, InvalidInput, Unauthenticated
from storefront.core.pagination import IdKeyset
from storefront.core.ratelimit import RateLimiter
from storefront.core.security import InvalidToken, PasswordHasher, TokenClaims, TokenCodec, digest
from storefront.identity.errors import (
    ApiTokenNotFound,
    EmailTaken,
    InvalidCredentials,
    RefreshTokenReused,
    UserNotFound,
)
from storefront.identity.models import ApiToken, Role, User
from storefront.identity.repository import ApiTokenRepository, RefreshTokenRepository, UserRepository
from storefront.identity.revocation import RevocationStore
from storefront.identity.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    RegisterRequest,
    TokenPair,
    UserAdminUpdate,
    UserUpdateMe,
)
from storefront.identity.sessions import LoginSessions

API_TOKEN_PREFIX = "sfp_"  # noqa: S105 - a marker, not a secret


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the user, and the credential they presented."""

    user: User
    claims: TokenClaims | None = None  # a JWT access token
    api_token_id: int | None = None  # or a personal API token


class LoginThrottle:
    """Failed logins, counted so that an attacker cannot lock the owner out (OWASP's
    advice; Saleor counts per address and per account+address too):

    - per account and address (``LOGIN_LIMIT_PER_ACCOUNT_ADDRESS``): guessing from one place;
    - per address (``LOGIN_LIMIT_PER_ADDRESS``): one place guessing many accounts;
    - per account, from addresses that never logged in to it (``LOGIN_LIMIT_PER_ACCOUNT``):
      guessing spread over many places. An address where the account logged in within
      the last 30 days is exempt, so the owner's usual places keep working during such
      an attack; a new place waits out the window.
    """

    def __init__(self, limiter: RateLimiter, settings: Settings) -> None:
        self.limiter = limiter
        self.per_pair: RateLimitItem = limiter.parse(settings.login_limit_per_account_address)
        self.per_address: RateLimitItem = limiter.parse(settings.login_limit_per_address)
        self.per_account: RateLimitItem = limiter.parse(settings.login_limit_per_account)
        # "Known address" kept in the limiter's own storage (Redis or memory), shared by every
        # process: one hit in a one-per-30-days window means "logged in from here lately".
        self.known: RateLimitItem = limiter.parse("1 per 30 days")

    async def check(self, account: str, address: str) -> None:
        message = "Too many failed login attempts; try again later"
        await self.limiter.check(self.per_pair, "login-pair", account, address, message=message)
        await self.limiter.check(self.per_address, "login-address", address, message=message)
        if not await self._known(account, address):
            await self.limiter.check(self.per_account, "login-account", account, message=message)

    async def _known(self, account: str, address: str) -> bool:
        return not await self.limiter.allows(self.known, "login-known", account, address)

    async def failed(self, account: str, address: str) -> None:
        await self.limiter.hit(self.per_pair, "login-pair", account, address)
        await self.limiter.hit(self.per_address, "login-address", address)
        await self.limiter.hit(self.per_account, "login-account", account)

    async def succeeded(self, account: str, address: str) -> None:
        # The account-wide count stays: the owner logging in must not hand a spread-out
        # attacker a fresh allowance.
        await self.limiter.clear(self.per_pair, "login-pair", account, address)
        if not await self._known(account, address):
            await self.limiter.hit(self.known, "login-known", account, address)


class AuthService:
    def __init__(
        self,
        session: AsyncSession,
        hasher: PasswordHasher,
        tokens: TokenCodec,
        revocations: RevocationStore,
        throttle: LoginThrottle,
    ) -> None:
        self.users = UserRepository(session)
        self.refresh_tokens = RefreshTokenRepository(session)
        self.api_tokens = ApiTokenRepository(session)
        self.hasher = hasher
        self.tokens = tokens
        self.revocations = revocations
        self.throttle = throttle
        self.sessions = LoginSessions(self.refresh_tokens, tokens, revocations)

    async def register(self, data: RegisterRequest) -> User:
        if await self.users.get_by_email(data.email) is not None:
            raise EmailTaken()
        user = User(email=data.email, name=data.name, password_hash=await self.hasher.hash(data.password))
        try:
            return await self.users.add(user)
        except IntegrityError as exc:  # the unique index settled a race between two registrations
            raise EmailTaken() from exc

    async def login(self, email: str, password: str, address: str) -> TokenPair:
        account = email.strip().lower()
        await self.throttle.check(account, address)
        # No account's email holds NUL (registration refuses it), and PostgreSQL refuses it in
        # a query (a 500 found by ./dev fuzz): such a login is simply an unknown account.
        user = None if "\x00" in account else await self.users.get_by_email(account)
        if user is None:
            await self.hasher.burn(password)
            valid, new_hash = False, None
        else:
            valid, new_hash = await self.hasher.verify(password, user.password_hash)
        # A disabled account answers like a wrong password: a distinct answer after a
        # right password would confirm the password to whoever guessed it.
        if user is None or not valid or not user.is_active:
            await self.throttle.failed(account, address)
            raise InvalidCredentials()
        if new_hash is not None:  # the cost settings changed since this hash was made
            user.password_hash = new_hash
        await self.throttle.succeeded(account, address)
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
        if principal.api_token_id is not None:
            # Logging out with a personal API token ends that token, as for an access token.
            token = await self.api_tokens.get_for(principal.user.id, principal.api_token_id)
            if token is not None:
                await self.api_tokens.delete(token)
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


class UserService:
    def __init__(
        self,
        session: AsyncSession,
        hasher: PasswordHasher,
        sessions: LoginSessions,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.api_tokens = ApiTokenRepository(session)
        self.hasher = hasher
        self.sessions = sessions
        self.throttle = throttle

    async def update_me(self, principal: Principal, data: UserUpdateMe, address: str) -> User:
        # The principal was loaded by authentication; change the row in this unit of work.
        user = await self.users.get(principal.user.id)
        if user is None:
            raise UserNotFound(principal.user.id)
        if data.new_password is not None:
            await self._check_current_password(user, data.current_password, address)
            user.password_hash = await self.hasher.hash(data.new_password)
            # A new password ends every other login and every other personal API token: the
            # old password may have leaked, and with it whatever it could mint.
            current = principal.claims.session_id if principal.claims else None
            await self.sessions.revoke_all(user.id, keep=current)
            await self.api_tokens.delete_all_for(user.id, keep=principal.api_token_id)
        elif data.current_password is not None:
            raise InvalidInput("current_password", "is only needed with new_password")
        if data.name is not None:
            user.name = data.name
        await self.session.flush()
        return user

    async def _check_current_password(self, user: User, current: str | None, address: str) -> None:
        if current is None:
            raise InvalidInput("current_password", "is required to change the password")
        # Guessing the current password with a stolen access token is a login attempt.
        if self.throttle is not None:
            await self.throttle.check(user.email, address)
        valid, _ = await self.hasher.verify(current, user.password_hash)
        if not valid:
            if self.throttle is not None:
                await self.throttle.failed(user.email, address)
            raise InvalidInput("current_password", "is incorrect")

    async def list_users(self, keyset: IdKeyset) -> Sequence[User]:
        return await self.users.list(keyset)

    async def admin_update(self, admin: User, user_id: int, data: UserAdminUpdate) -> User:
        user = await self.users.get(user_id)
        if user is None:
            raise UserNotFound(user_id)
        if user.id == admin.id and ((data.role is not None and data.role != Role.ADMIN) or data.is_active is False):
            # Otherwise the last admin can lock everyone out of administration.
            raise Conflict("You cannot remove your own admin role or deactivate yourself")
        if data.role is not None:
            user.role = data.role
        if data.is_active is not None:
            if not data.is_active and user.is_active:
                # Access tokens already stop at once (each request loads the user);
                # revoking the refresh tokens means reactivation does not revive old logins.
                await self.sessions.revoke_all(user.id)
            user.is_active = data.is_active
        await self.session.flush()
        return user


class ApiTokenService:
    """Personal API tokens for scripts and agents."""

    def __init__(self, session: AsyncSession) -> None:
        self.api_tokens = ApiTokenRepository(session)

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


async def bootstrap_admin(
    session: AsyncSession,
    hasher: PasswordHasher,
    email: str,
    password: str,
    name: str,
    *,
    reset_password: bool = False,
) -> tuple[User, bool]:
    """Create an admin, or promote the existing account (its password kept unless
    ``reset_password``). Returns (user, created)."""
    users = UserRepository(session)
    email = email.strip().lower()
    user = await users.get_by_email(email)
    if user is not None:
        user.role = Role.ADMIN
        user.is_active = True
        if reset_password:
            user.password_hash = await hasher.hash(password)
        await session.flush()
        return user, False
    user = User(email=email, name=name, role=Role.ADMIN, password_hash=await hasher.hash(password))
    return await users.add(user), True
