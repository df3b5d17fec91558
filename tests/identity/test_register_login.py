"""Registration and login: validation, mass assignment, hashing, generic failures, throttling."""

from __future__ import annotations

import statistics
import time

import httpx
import pytest
from sqlalchemy import select

from storefront.identity.models import User
from tests.conftest import AppFactory
from tests.helpers import PASSWORD, Api, assert_error, unique_email


async def test_register_returns_the_user_without_secrets(api: Api) -> None:
    email = unique_email().upper()
    user = await api.register(email, name="  Ada Lovelace ")
    assert set(user) == {"id", "email", "name", "role", "created_at"}
    assert user["email"] == email.lower()
    assert user["name"] == "Ada Lovelace"
    assert user["role"] == "customer"
    assert user["created_at"].endswith("Z") or "+00:00" in user["created_at"]


async def test_password_is_stored_as_argon2id(api: Api) -> None:
    user = await api.register()
    async with api.state.db.session_scope() as session:
        stored = await session.scalar(select(User.password_hash).where(User.id == user["id"]))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


async def test_duplicate_email_is_409_whatever_the_case(api: Api) -> None:
    email = unique_email()
    await api.register(email)
    response = await api.client.post(
        "/api/v1/auth/register", json={"email": email.upper(), "password": PASSWORD, "name": "Again"}
    )
    assert_error(response, 409, "CONFLICT")


@pytest.mark.parametrize("field", [("role", "admin"), ("id", 1), ("is_active", False), ("created_at", "2020-01-01")])
async def test_register_refuses_mass_assignment(client: httpx.AsyncClient, field: tuple[str, object]) -> None:
    body = {"email": unique_email(), "password": PASSWORD, "name": "Mallory", field[0]: field[1]}
    error = assert_error(await client.post("/api/v1/auth/register", json=body), 422, "VALIDATION_ERROR")
    assert error["details"] == [{"field": field[0], "message": "Extra inputs are not permitted"}]


async def test_login_with_json_and_with_oauth2_form(api: Api) -> None:
    user = await api.register()
    tokens = await api.login(user["email"].upper())
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900
    assert tokens["access_token"] != tokens["refresh_token"]
    form = await api.client.post("/api/v1/auth/token", data={"username": user["email"], "password": PASSWORD})
    assert form.status_code == 200, form.text
    assert form.json()["token_type"] == "bearer"


async def test_unknown_email_and_wrong_password_look_the_same(api: Api) -> None:
    user = await api.register()
    wrong = await api.client.post("/api/v1/auth/login", json={"email": user["email"], "password": "wrong password"})
    unknown = await api.client.post("/api/v1/auth/login", json={"email": unique_email(), "password": "wrong password"})
    wrong_error = assert_error(wrong, 401, "UNAUTHENTICATED")
    unknown_error = assert_error(unknown, 401, "UNAUTHENTICATED")
    assert wrong_error["message"] == unknown_error["message"]
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"] == "Bearer"
    # NUL in the email (PostgreSQL refuses it in a query: it was a 500) is an unknown account too.
    nul = await api.client.post("/api/v1/auth/login", json={"email": "a\x00b@example.com", "password": "x"})
    assert assert_error(nul, 401, "UNAUTHENTICATED")["message"] == wrong_error["message"]
    form = await api.client.post("/api/v1/auth/token", data={"username": "\x00n", "password": "x"})
    assert_error(form, 401, "UNAUTHENTICATED")


async def test_unknown_email_costs_a_hash_like_a_wrong_password(make_api: AppFactory) -> None:
    # A costlier hash makes the signal clear: without the dummy verification an
    # unknown email would answer many times faster than a wrong password.
    api = await make_api(
        password_hash_memory_kib=65536,
        password_hash_time_cost=2,
        login_limit_per_account="1000 per minute",
        login_limit_per_address="1000 per minute",
    )
    user = await api.register()

    async def median_seconds(email: str) -> float:
        samples = []
        for _ in range(7):
            started = time.perf_counter()
            response = await api.client.post("/api/v1/auth/login", json={"email": email, "password": "nope nope"})
            samples.append(time.perf_counter() - started)
            assert response.status_code == 401
        return statistics.median(samples)

    wrong_password = await median_seconds(user["email"])
    unknown_email = await median_seconds(unique_email())
    assert unknown_email > 0.5 * wrong_password, (unknown_email, wrong_password)


async def test_disabled_account_cannot_log_in(api: Api) -> None:
    user = await api.register()
    async with api.state.db.session_scope() as session:
        stored = await session.get(User, user["id"])
        assert stored is not None
        stored.is_active = False
    response = await api.client.post("/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD})
    # Not 403 "disabled": that would confirm the password to whoever guessed it.
    assert_error(response, 401, "UNAUTHENTICATED")


async def test_failed_logins_are_throttled_per_account_without_blocking_others(make_api: AppFactory) -> None:
    api = await make_api(login_limit_per_account="3 per 15 minutes")
    victim = await api.register()
    bystander = await api.register()
    for _ in range(3):
        response = await api.client.post("/api/v1/auth/login", json={"email": victim["email"], "password": "guess"})
        assert response.status_code == 401
    throttled = await api.client.post("/api/v1/auth/login", json={"email": victim["email"], "password": PASSWORD})
    assert_error(throttled, 429, "RATE_LIMITED")
    assert 0 < int(throttled.headers["retry-after"]) <= 15 * 60
    # Another account from the same address still logs in.
    await api.login(bystander["email"])


async def test_failed_logins_are_throttled_per_address(make_api: AppFactory) -> None:
    api = await make_api(login_limit_per_address="4 per 15 minutes")
    for _ in range(4):
        response = await api.client.post("/api/v1/auth/login", json={"email": unique_email(), "password": "guess"})
        assert response.status_code == 401
    blocked = await api.client.post("/api/v1/auth/login", json={"email": unique_email(), "password": "guess"})
    assert_error(blocked, 429, "RATE_LIMITED")
    assert int(blocked.headers["retry-after"]) >= 1


async def test_a_successful_login_resets_the_account_window(make_api: AppFactory) -> None:
    api = await make_api(login_limit_per_account="3 per 15 minutes")
    user = await api.register()
    for _ in range(2):
        await api.client.post("/api/v1/auth/login", json={"email": user["email"], "password": "guess"})
    await api.login(user["email"])
    for _ in range(2):
        response = await api.client.post("/api/v1/auth/login", json={"email": user["email"], "password": "guess"})
        assert response.status_code == 401


async def test_throttling_sees_the_client_behind_a_trusted_proxy(make_api: AppFactory) -> None:
    # The test client connects from 127.0.0.1, the default trusted proxy address.
    api = await make_api(login_limit_per_address="2 per 15 minutes")

    async def attempt(client_ip: str) -> int:
        response = await api.client.post(
            "/api/v1/auth/login",
            json={"email": unique_email(), "password": "guess"},
            headers={"X-Forwarded-For": client_ip},
        )
        return response.status_code

    assert [await attempt("203.0.113.7") for _ in range(2)] == [401, 401]
    assert await attempt("203.0.113.7") == 429
    assert await attempt("198.51.100.9") == 401  # another client behind the same proxy


async def test_forwarded_headers_from_untrusted_peers_are_ignored(make_api: AppFactory) -> None:
    api = await make_api(login_limit_per_address="2 per 15 minutes", forwarded_allow_ips=["192.0.2.1"])
    statuses = []
    for spoofed in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        response = await api.client.post(
            "/api/v1/auth/login",
            json={"email": unique_email(), "password": "guess"},
            headers={"X-Forwarded-For": spoofed},
        )
        statuses.append(response.status_code)
    assert statuses == [401, 401, 429]  # a client cannot dodge the limit by inventing addresses


async def test_an_attacker_cannot_lock_the_owner_out(make_api: AppFactory) -> None:
    api = await make_api(login_limit_per_account_address="3 per 15 minutes", login_limit_per_account="6 per 1 hour")
    owner = await api.register()

    async def login(address: str, password: str) -> int:
        body = {"email": owner["email"], "password": password}
        response = await api.client.post("/api/v1/auth/login", json=body, headers={"X-Forwarded-For": address})
        return response.status_code

    home = "198.51.100.10"
    assert await login(home, PASSWORD) == 200  # the owner's usual place
    # One attacker: throttled after 3 guesses, from that address only.
    assert [await login("203.0.113.1", "guess") for _ in range(4)] == [401, 401, 401, 429]
    assert await login("203.0.113.1", PASSWORD) == 429
    assert await login(home, PASSWORD) == 200
    # Guesses spread over many addresses reach the account's ceiling (6, counted from above):
    # new places wait, the owner's known place does not.
    assert [await login(f"203.0.113.{n}", "guess") for n in (2, 3, 4)] == [401, 401, 401]
    assert await login("203.0.113.5", "guess") == 429
    assert await login("192.0.2.77", PASSWORD) == 429
    assert await login(home, PASSWORD) == 200
