"""HTTP routes of identity: parse, authorise, call one service method, shape the response."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from storefront.core.dependencies import API_PREFIX, StateDep
from storefront.core.pagination import Page, PageParamsDep
from storefront.core.params import ResourceId
from storefront.identity.dependencies import (
    AdminUser,
    ApiTokenServiceDep,
    AuthServiceDep,
    ClientAddress,
    CurrentPrincipal,
    CurrentUser,
    UserServiceDep,
)
from storefront.identity.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenRead,
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    UserAdminRead,
    UserAdminUpdate,
    UserRead,
    UserUpdateMe,
)

# Full paths on the routers themselves: the route template that logs and metrics
# report is the path the router was declared with.
auth_router = APIRouter(prefix=f"{API_PREFIX}/auth", tags=["auth"])
users_router = APIRouter(prefix=f"{API_PREFIX}/users", tags=["users"])


# Errors a route answers beyond those its shape implies (storefront/openapi.py adds the envelope).
WRONG_CREDENTIALS: dict[int | str, dict[str, Any]] = {401: {"description": "Wrong email or password"}}


@auth_router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses={409: {"description": "An account with this email exists"}},
)
async def register(body: RegisterRequest, auth: AuthServiceDep) -> object:
    return await auth.register(body)


@auth_router.post("/login", response_model=TokenPair, responses=WRONG_CREDENTIALS)
async def login(body: LoginRequest, auth: AuthServiceDep, address: ClientAddress) -> TokenPair:
    return await auth.login(body.email, body.password, address)


@auth_router.post(
    "/token", response_model=TokenPair, summary="Login with the OAuth2 password form", responses=WRONG_CREDENTIALS
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], auth: AuthServiceDep, address: ClientAddress
) -> TokenPair:
    return await auth.login(form.username, form.password, address)


@auth_router.post(
    "/refresh", response_model=TokenPair, responses={401: {"description": "Invalid, expired or reused refresh token"}}
)
async def refresh(body: RefreshRequest, auth: AuthServiceDep) -> TokenPair:
    return await auth.refresh(body.refresh_token)


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(principal: CurrentPrincipal, auth: AuthServiceDep, body: LogoutRequest | None = None) -> Response:
    await auth.logout(principal, body.refresh_token if body else None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.post("/api-tokens", status_code=status.HTTP_201_CREATED, response_model=ApiTokenCreated)
async def create_api_token(body: ApiTokenCreate, user: CurrentUser, service: ApiTokenServiceDep) -> ApiTokenCreated:
    return await service.create(user, body)


@auth_router.get("/api-tokens", response_model=Page[ApiTokenRead])
async def list_api_tokens(user: CurrentUser, service: ApiTokenServiceDep) -> Page[ApiTokenRead]:
    tokens = await service.list(user)
    return Page(items=[ApiTokenRead.model_validate(token) for token in tokens], next_cursor=None)


@auth_router.delete("/api-tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_api_token(token_id: ResourceId, user: CurrentUser, service: ApiTokenServiceDep) -> Response:
    await service.delete(user, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@users_router.get("/me", response_model=UserRead)
async def read_me(user: CurrentUser) -> object:
    return user


@users_router.patch("/me", response_model=UserRead)
async def update_me(
    body: UserUpdateMe, principal: CurrentPrincipal, service: UserServiceDep, address: ClientAddress
) -> object:
    return await service.update_me(principal, body, address)


@users_router.get("", response_model=Page[UserAdminRead], summary="List users (admin)")
async def list_users(_: AdminUser, service: UserServiceDep, page: PageParamsDep, state: StateDep) -> object:
    keyset = state.cursors.keyset("users", page)
    rows = await service.list_users(keyset)
    return state.cursors.id_page("users", rows, keyset, UserAdminRead.model_validate)


@users_router.patch(
    "/{user_id}",
    response_model=UserAdminRead,
    summary="Change a user's role or status (admin)",
    responses={409: {"description": "An administrator cannot demote or deactivate themselves"}},
)
async def admin_update_user(
    user_id: ResourceId, body: UserAdminUpdate, admin: AdminUser, service: UserServiceDep
) -> object:
    return await service.admin_update(admin, user_id, body)
