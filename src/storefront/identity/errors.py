"""Identity's own errors."""

from __future__ import annotations

from storefront.core.errors import Conflict, NotFound, Unauthenticated


class InvalidCredentials(Unauthenticated):
    def __init__(self) -> None:
        # One message for an unknown email and a wrong password alike.
        super().__init__("Incorrect email or password")


class RefreshTokenReused(Unauthenticated):
    # The revocation of the family is the point of this error: keep it.
    keep_changes = True

    def __init__(self) -> None:
        super().__init__("This refresh token was already used; every token of its login is now revoked")


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("An account with this email already exists")


class UserNotFound(NotFound):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"User {user_id} not found")


class ApiTokenNotFound(NotFound):
    def __init__(self, token_id: int) -> None:
        super().__init__(f"API token {token_id} not found")
