"""Identity at the HTTP edge: services per request, the caller, role checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.dependencies import SessionDep, StateDep
from storefront.core.errors import Forbidden, Unauthenticated
from storefront.core.state import AppState
from storefront.identity.models import Role, User
from storefront.identity.repository import RefreshTokenRepository
from storefront.identity.revocation import revocation_store
from storefront.identity.service import ApiTokenService, AuthService, LoginThrottle, Principal, UserService
from storefront.identity.sessions import LoginSessions

# auto_error=False: a missing token becomes our 401 envelope, not FastAPI's.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def client_address(request: Request) -> str:
    # Behind a trusted proxy, ProxyHeadersMiddleware (app.py, trusting the addresses in
    # STOREFRONT_FORWARDED_ALLOW_IPS) has already put the real client here.
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]


def auth_service(state: AppState, session: AsyncSession) -> AuthService:
    return AuthService(
        session,
        hasher=state.hasher,
        tokens=state.tokens,
        revocations=revocation_store(session),
        throttle=LoginThrottle(state.limiter, state.settings),
    )


async def get_auth_service(state: StateDep, session: SessionDep) -> AuthService:
    return auth_service(state, session)


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


async def get_user_service(state: StateDep, session: SessionDep) -> UserService:
    sessions = LoginSessions(RefreshTokenRepository(session), state.tokens, revocation_store(session))
    return UserService(session, state.hasher, sessions, LoginThrottle(state.limiter, state.settings))


UserServiceDep = Annotated[UserService, Depends(get_user_service)]


async def get_api_token_service(session: SessionDep) -> ApiTokenService:
    return ApiTokenService(session)


ApiTokenServiceDep = Annotated[ApiTokenService, Depends(get_api_token_service)]


async def get_principal(token: Annotated[str | None, Depends(oauth2_scheme)], state: StateDep) -> Principal:
    if not token:
        raise Unauthenticated()
    # A read-only session of its own: the endpoint's unit of work (if any) is separate
    # and no transaction is held open while the endpoint runs.
    async with state.db.read_sessionmaker() as session:
        return await auth_service(state, session).authenticate(token)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_current_user(principal: CurrentPrincipal) -> User:
    return principal.user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_admin_user(user: CurrentUser) -> User:
    if user.role != Role.ADMIN:
        raise Forbidden("This action needs the admin role")
    return user


AdminUser = Annotated[User, Depends(get_admin_user)]
