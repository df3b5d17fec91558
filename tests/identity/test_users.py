"""Profile, administration of users, API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from storefront.identity.models import ApiToken
from tests.helpers import Api, assert_error, bearer


async def test_read_and_rename_me(api: Api) -> None:
    user, tokens = await api.user_tokens()
    headers = bearer(tokens["access_token"])
    assert (await api.client.get("/api/v1/users/me", headers=headers)).json() == user
    renamed = await api.client.patch("/api/v1/users/me", json={"name": "  Grace  "}, headers=headers)
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Grace"
    assert (await api.client.get("/api/v1/users/me", headers=headers)).json()["name"] == "Grace"


@pytest.mark.parametrize("body", [{"role": "admin"}, {"id": 99}, {"is_active": False}, {"email": "x@example.com"}])
async def test_me_refuses_mass_assignment(api: Api, body: dict[str, object]) -> None:
    _, tokens = await api.user_tokens()
    response = await api.client.patch("/api/v1/users/me", json=body, headers=bearer(tokens["access_token"]))
    assert_error(response, 422, "VALIDATION_ERROR")
    me = (await api.client.get("/api/v1/users/me", headers=bearer(tokens["access_token"]))).json()
    assert me["role"] == "customer"


async def test_admin_routes_refuse_customers_and_anonymous(api: Api) -> None:
    user, tokens = await api.user_tokens()
    assert_error(await api.client.get("/api/v1/users"), 401, "UNAUTHENTICATED")
    assert_error(await api.client.get("/api/v1/users", headers=bearer(tokens["access_token"])), 403, "FORBIDDEN")
    response = await api.client.patch(
        f"/api/v1/users/{user['id']}", json={"role": "admin"}, headers=bearer(tokens["access_token"])
    )
    assert_error(response, 403, "FORBIDDEN")


async def test_admin_lists_users_with_cursor_pages(api: Api) -> None:
    admin = await api.admin_tokens()
    headers = bearer(admin["access_token"])
    created = [(await api.register())["id"] for _ in range(3)]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await api.client.get("/api/v1/users", params=params, headers=headers)).json()
        assert len(page["items"]) <= 2
        assert all("is_active" in item for item in page["items"])
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen)
    assert set(created) <= set(seen)


async def test_tampered_cursor_is_400_and_cursor_with_offset_is_422(api: Api) -> None:
    admin = await api.admin_tokens()
    headers = bearer(admin["access_token"])
    await api.register()
    await api.register()
    page = (await api.client.get("/api/v1/users", params={"limit": 1}, headers=headers)).json()
    body, signature = page["next_cursor"].split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + signature
    assert_error(await api.client.get("/api/v1/users", params={"cursor": forged}, headers=headers), 400, "BAD_REQUEST")
    assert_error(await api.client.get("/api/v1/users", params={"cursor": "!!!"}, headers=headers), 400, "BAD_REQUEST")
    both = await api.client.get("/api/v1/users", params={"cursor": page["next_cursor"], "offset": 1}, headers=headers)
    assert assert_error(both, 422, "VALIDATION_ERROR")["details"][0]["field"] == "offset"


async def test_admin_promotes_a_user_and_it_applies_at_once(api: Api) -> None:
    admin = await api.admin_tokens()
    user, tokens = await api.user_tokens()
    assert (await api.client.get("/api/v1/users", headers=bearer(tokens["access_token"]))).status_code == 403
    response = await api.client.patch(
        f"/api/v1/users/{user['id']}", json={"role": "admin"}, headers=bearer(admin["access_token"])
    )
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    assert (await api.client.get("/api/v1/users", headers=bearer(tokens["access_token"]))).status_code == 200


async def test_admin_cannot_lock_themselves_out(api: Api) -> None:
    admin = await api.admin_tokens()
    headers = bearer(admin["access_token"])
    me = (await api.client.get("/api/v1/users/me", headers=headers)).json()
    for body in ({"role": "customer"}, {"is_active": False}):
        assert_error(await api.client.patch(f"/api/v1/users/{me['id']}", json=body, headers=headers), 409, "CONFLICT")


async def test_admin_update_validation(api: Api) -> None:
    admin = await api.admin_tokens()
    headers = bearer(admin["access_token"])
    assert_error(
        await api.client.patch("/api/v1/users/2000000000", json={"role": "admin"}, headers=headers), 404, "NOT_FOUND"
    )
    huge = await api.client.patch(f"/api/v1/users/{2**40}", json={"role": "admin"}, headers=headers)
    assert_error(huge, 422, "VALIDATION_ERROR")
    user = await api.register()
    bad_role = await api.client.patch(f"/api/v1/users/{user['id']}", json={"role": "root"}, headers=headers)
    assert_error(bad_role, 422, "VALIDATION_ERROR")


async def test_api_token_lifecycle(api: Api) -> None:
    user, tokens = await api.user_tokens()
    headers = bearer(tokens["access_token"])
    created = await api.client.post(
        "/api/v1/auth/api-tokens", json={"name": "ci script", "expires_in_days": 30}, headers=headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["token"].startswith("sfp_")
    assert body["expires_at"] is not None

    me = await api.client.get("/api/v1/users/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]

    listed = (await api.client.get("/api/v1/auth/api-tokens", headers=headers)).json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert "token" not in listed["items"][0]

    deleted = await api.client.delete(f"/api/v1/auth/api-tokens/{body['id']}", headers=headers)
    assert deleted.status_code == 204
    assert_error(await api.client.get("/api/v1/users/me", headers=bearer(body["token"])), 401, "UNAUTHENTICATED")


async def test_api_tokens_are_private_and_expire(api: Api) -> None:
    _, owner = await api.user_tokens()
    _, other = await api.user_tokens()
    created = (
        await api.client.post("/api/v1/auth/api-tokens", json={"name": "agent"}, headers=bearer(owner["access_token"]))
    ).json()
    assert created["expires_at"] is None
    stolen = await api.client.delete(f"/api/v1/auth/api-tokens/{created['id']}", headers=bearer(other["access_token"]))
    assert_error(stolen, 404, "NOT_FOUND")
    assert (await api.client.get("/api/v1/users/me", headers=bearer(created["token"]))).status_code == 200

    async with api.state.db.session_scope() as session:
        await session.execute(
            update(ApiToken)
            .where(ApiToken.id == created["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert_error(await api.client.get("/api/v1/users/me", headers=bearer(created["token"])), 401, "UNAUTHENTICATED")
    forged = await api.client.get("/api/v1/users/me", headers=bearer("sfp_" + "x" * 43))
    assert_error(forged, 401, "UNAUTHENTICATED")


async def test_logging_out_with_an_api_token_ends_that_token_only(api: Api) -> None:
    _, tokens = await api.user_tokens()
    headers = bearer(tokens["access_token"])
    created = (await api.client.post("/api/v1/auth/api-tokens", json={"name": "script"}, headers=headers)).json()
    kept = (await api.client.post("/api/v1/auth/api-tokens", json={"name": "agent"}, headers=headers)).json()
    assert (await api.client.post("/api/v1/auth/logout", headers=bearer(created["token"]))).status_code == 204
    assert_error(await api.client.get("/api/v1/users/me", headers=bearer(created["token"])), 401, "UNAUTHENTICATED")
    assert (await api.client.get("/api/v1/users/me", headers=bearer(kept["token"]))).status_code == 200
    assert (await api.client.get("/api/v1/users/me", headers=headers)).status_code == 200
