"""Access tokens: anything forged, altered, expired or of the wrong kind is a 401."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from storefront.core.security import TokenCodec
from tests.conftest import TEST_SECRET
from tests.helpers import Api, assert_error, bearer


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(api: Api, access_token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(access_token, options={"verify_signature": False})
    return claims


async def _assert_rejected(api: Api, token: str) -> None:
    response = await api.client.get("/api/v1/users/me", headers=bearer(token))
    assert_error(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_valid_token_works(api: Api) -> None:
    user, tokens = await api.user_tokens()
    response = await api.client.get("/api/v1/users/me", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.json()["id"] == user["id"]


async def test_missing_or_non_bearer_credentials_are_401(api: Api) -> None:
    assert_error(await api.client.get("/api/v1/users/me"), 401, "UNAUTHENTICATED")
    basic = await api.client.get("/api/v1/users/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_error(basic, 401, "UNAUTHENTICATED")
    await _assert_rejected(api, "not-a-jwt")


async def test_alg_none_is_rejected(api: Api) -> None:
    _, tokens = await api.user_tokens()
    claims = _claims(api, tokens["access_token"])
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    await _assert_rejected(api, unsigned)


async def test_another_algorithm_with_the_right_secret_is_rejected(api: Api) -> None:
    _, tokens = await api.user_tokens()
    claims = _claims(api, tokens["access_token"])
    await _assert_rejected(api, jwt.encode(claims, TEST_SECRET, algorithm="HS512"))


async def test_bad_signature_is_rejected(api: Api) -> None:
    _, tokens = await api.user_tokens()
    claims = _claims(api, tokens["access_token"])
    await _assert_rejected(api, jwt.encode(claims, "another-secret-" + "y" * 40, algorithm="HS256"))
    header, _payload, signature = tokens["access_token"].split(".")
    claims["sub"] = "1"
    await _assert_rejected(api, f"{header}.{_b64(claims)}.{signature}")


@pytest.mark.parametrize(
    ("claim", "value"),
    [("aud", "someone-else"), ("iss", "evil-issuer"), ("typ", "refresh"), ("jti", None), ("sid", None)],
)
async def test_wrong_or_missing_claims_are_rejected(api: Api, claim: str, value: object) -> None:
    _, tokens = await api.user_tokens()
    claims = _claims(api, tokens["access_token"])
    if value is None:
        del claims[claim]
    else:
        claims[claim] = value
    await _assert_rejected(api, jwt.encode(claims, TEST_SECRET, algorithm="HS256"))


async def test_expired_token_is_rejected(api: Api) -> None:
    user, _ = await api.user_tokens()
    codec: TokenCodec = api.state.tokens
    expired, _ = codec.issue(user["id"], "access", "f" * 32, now=datetime.now(UTC) - timedelta(hours=1))
    await _assert_rejected(api, expired)


async def test_refresh_token_is_not_an_access_token(api: Api) -> None:
    _, tokens = await api.user_tokens()
    await _assert_rejected(api, tokens["refresh_token"])


async def test_access_token_cannot_refresh(api: Api) -> None:
    _, tokens = await api.user_tokens()
    response = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["access_token"]})
    assert_error(response, 401, "UNAUTHENTICATED")


async def test_token_for_a_deleted_or_unknown_user_is_rejected(api: Api) -> None:
    codec: TokenCodec = api.state.tokens
    token, _ = codec.issue(2_000_000_000, "access", "a" * 32)
    await _assert_rejected(api, token)
