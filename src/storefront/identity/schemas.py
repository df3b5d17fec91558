"""Request and response bodies of the identity API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StrictBool

from storefront.core.schemas import Strict
from storefront.fields import NOT_BOOLEAN, one_line
from storefront.identity.models import Role


def _lower(value: str) -> str:
    return value.lower()


# email-validator refuses the special-use domains (RFC 6761: .test, .local...); the schema says so.
_SPECIAL_USE = "|".join("".join(f"[{c.upper()}{c}]" for c in name) for name in SPECIAL_USE_DOMAIN_NAMES)
Email = Annotated[
    EmailStr,
    AfterValidator(_lower),
    Field(json_schema_extra={"pattern": f"^(?!.*[.@](?:{_SPECIAL_USE})\\.?$)"}),
]
Password = Annotated[str, Field(min_length=8, max_length=128, description="8 to 128 characters.")]
Name = Annotated[str, one_line(100)]


class RegisterRequest(Strict):
    email: Email
    password: Password
    name: Name


class LoginRequest(Strict):
    email: Annotated[str, Field(max_length=320)]
    password: Annotated[str, Field(max_length=1024)]


class RefreshRequest(Strict):
    refresh_token: Annotated[str, Field(max_length=4096)]


class LogoutRequest(Strict):
    refresh_token: Annotated[str | None, Field(max_length=4096)] = None


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="Seconds until the access token expires.")


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    created_at: datetime


class UserAdminRead(UserRead):
    is_active: bool


class UserUpdateMe(Strict):
    name: Name | None = None
    new_password: Password | None = None
    current_password: Annotated[str | None, Field(max_length=1024)] = None


class UserAdminUpdate(Strict):
    role: Role | None = None
    is_active: StrictBool | None = None


class ApiTokenCreate(Strict):
    name: Name
    expires_in_days: Annotated[int | None, Field(ge=1, le=3650), NOT_BOOLEAN] = None


class ApiTokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    created_at: datetime
    expires_at: datetime | None


class ApiTokenCreated(BaseModel):
    id: int
    name: str
    token: str = Field(description="Shown once; store it now.")
    expires_at: datetime | None
