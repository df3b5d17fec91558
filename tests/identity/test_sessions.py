"""Refresh rotation, reuse detection, logout, deactivation and password changes."""

from __future__ import annotations

from tests.helpers import PASSWORD, Api, assert_error, bearer


async def _refresh(api: Api, refresh_token: str) -> dict[str, object]:
    response = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def _me_status(api: Api, access_token: str) -> int:
    return (await api.client.get("/api/v1/users/me", headers=bearer(access_token))).status_code


async def test_refresh_rotates_the_pair(api: Api) -> None:
    _, first = await api.user_tokens()
    second = await _refresh(api, first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert await _me_status(api, str(second["access_token"])) == 200
    third = await _refresh(api, str(second["refresh_token"]))
    assert await _me_status(api, str(third["access_token"])) == 200


async def test_reusing_a_spent_refresh_token_revokes_the_whole_login(api: Api) -> None:
    _, first = await api.user_tokens()
    second = await _refresh(api, first["refresh_token"])

    reuse = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_error(reuse, 401, "UNAUTHENTICATED")

    # Every token of that login is now dead: the rotated refresh token and both access tokens.
    after = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert_error(after, 401, "UNAUTHENTICATED")
    assert await _me_status(api, str(second["access_token"])) == 401
    assert await _me_status(api, first["access_token"]) == 401


async def test_reuse_revokes_only_that_login(api: Api) -> None:
    user, login_a = await api.user_tokens()
    login_b = await api.login(user["email"])
    await _refresh(api, login_a["refresh_token"])
    await api.client.post("/api/v1/auth/refresh", json={"refresh_token": login_a["refresh_token"]})
    assert await _me_status(api, login_b["access_token"]) == 200
    await _refresh(api, login_b["refresh_token"])


async def test_garbage_refresh_token_is_401(api: Api) -> None:
    response = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": "garbage"})
    assert_error(response, 401, "UNAUTHENTICATED")


async def test_logout_revokes_the_access_token_and_its_login(api: Api) -> None:
    user, tokens = await api.user_tokens()
    other_login = await api.login(user["email"])
    response = await api.client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
    assert response.status_code == 204
    assert await _me_status(api, tokens["access_token"]) == 401
    refresh = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_error(refresh, 401, "UNAUTHENTICATED")
    # Logging out one device leaves the others signed in.
    assert await _me_status(api, other_login["access_token"]) == 200


async def test_logout_with_a_refresh_token_of_another_login_ends_that_one_too(api: Api) -> None:
    user, phone = await api.user_tokens()
    laptop = await api.login(user["email"])
    response = await api.client.post(
        "/api/v1/auth/logout", headers=bearer(phone["access_token"]), json={"refresh_token": laptop["refresh_token"]}
    )
    assert response.status_code == 204
    assert await _me_status(api, laptop["access_token"]) == 401


async def test_logout_refuses_someone_elses_refresh_token_and_changes_nothing(api: Api) -> None:
    _, mine = await api.user_tokens()
    _, theirs = await api.user_tokens()
    response = await api.client.post(
        "/api/v1/auth/logout", headers=bearer(mine["access_token"]), json={"refresh_token": theirs["refresh_token"]}
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    assert await _me_status(api, mine["access_token"]) == 200
    assert await _me_status(api, theirs["access_token"]) == 200


async def test_deactivated_users_tokens_stop_working_at_once(api: Api) -> None:
    admin = await api.admin_tokens()
    user, tokens = await api.user_tokens()
    response = await api.client.patch(
        f"/api/v1/users/{user['id']}", json={"is_active": False}, headers=bearer(admin["access_token"])
    )
    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert await _me_status(api, tokens["access_token"]) == 401
    refresh = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_error(refresh, 401, "UNAUTHENTICATED")
    # The right password gets the same answer as a wrong one: nothing confirms it.
    right = await api.client.post("/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD})
    wrong = await api.client.post("/api/v1/auth/login", json={"email": user["email"], "password": "not it at all"})
    assert_error(right, 401, "UNAUTHENTICATED")
    assert right.json()["error"]["message"] == assert_error(wrong, 401, "UNAUTHENTICATED")["message"]
    # Reactivation does not revive the old login.
    await api.client.patch(
        f"/api/v1/users/{user['id']}", json={"is_active": True}, headers=bearer(admin["access_token"])
    )
    refresh = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_error(refresh, 401, "UNAUTHENTICATED")
    await api.login(user["email"])


async def test_password_change_needs_the_current_password(api: Api) -> None:
    user, tokens = await api.user_tokens()
    headers = bearer(tokens["access_token"])
    missing = await api.client.patch("/api/v1/users/me", json={"new_password": "a brand new one"}, headers=headers)
    assert assert_error(missing, 422, "VALIDATION_ERROR")["details"][0]["field"] == "current_password"
    wrong = await api.client.patch(
        "/api/v1/users/me", json={"new_password": "a brand new one", "current_password": "not it"}, headers=headers
    )
    assert assert_error(wrong, 422, "VALIDATION_ERROR")["details"][0]["field"] == "current_password"
    await api.login(user["email"], PASSWORD)


async def test_password_change_signs_out_other_logins_only(api: Api) -> None:
    user, here = await api.user_tokens()
    elsewhere = await api.login(user["email"])
    minted = await api.client.post("/api/v1/auth/api-tokens", json={"name": "ci"}, headers=bearer(here["access_token"]))
    api_token = minted.json()["token"]
    assert await _me_status(api, api_token) == 200
    response = await api.client.patch(
        "/api/v1/users/me",
        json={"new_password": "a brand new one", "current_password": PASSWORD},
        headers=bearer(here["access_token"]),
    )
    assert response.status_code == 200, response.text
    assert await _me_status(api, here["access_token"]) == 200
    assert await _me_status(api, elsewhere["access_token"]) == 401
    assert await _me_status(api, api_token) == 401  # personal API tokens end too
    old = await api.client.post("/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert_error(old, 401, "UNAUTHENTICATED")
    await api.login(user["email"], "a brand new one")
