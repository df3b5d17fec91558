"""Profile changes, administration of users, and the admin bootstrap."""

from __future__ import annotations

from collections.abc import Sequence

from storefront.core.errors import Conflict, InvalidInput
from storefront.core.security import PasswordHasher
from storefront.identity.auth import LoginThrottle, Principal
from storefront.identity.errors import UserNotFound
from storefront.identity.models import Role, User
from storefront.identity.repository import UserRepository
from storefront.identity.schemas import UserAdminUpdate, UserUpdateMe
from storefront.identity.sessions import LoginSessions


class UserService:
    def __init__(
        self,
        users: UserRepository,
        hasher: PasswordHasher,
        sessions: LoginSessions,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self.users = users
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
            # A new password ends every other login: the old one may have leaked.
            current = principal.claims.session_id if principal.claims else None
            await self.sessions.revoke_all(user.id, keep=current)
        elif data.current_password is not None:
            raise InvalidInput("current_password", "is only needed with new_password")
        if data.name is not None:
            user.name = data.name
        await self.users.session.flush()
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

    async def list_users(self, after_id: int | None, limit: int, offset: int | None) -> Sequence[User]:
        return await self.users.list_after(after_id, limit, offset)

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
        await self.users.session.flush()
        return user


async def bootstrap_admin(
    users: UserRepository, hasher: PasswordHasher, email: str, password: str, name: str
) -> tuple[User, bool]:
    """Create an admin, or promote the existing account. Returns (user, created)."""
    email = email.strip().lower()
    user = await users.get_by_email(email)
    if user is not None:
        user.role = Role.ADMIN
        user.is_active = True
        await users.session.flush()
        return user, False
    user = User(email=email, name=name, role=Role.ADMIN, password_hash=await hasher.hash(password))
    return await users.add(user), True
