"""The cart checkout scenario: buyers who each put a product in their cart and check it
out (``PUT /cart/items/{id}`` then ``POST /cart/checkout`` with a fresh Idempotency-Key),
as many at once as there are buyers, on the server the direct-order scenario used.

The driver is Python (httpx, one task per buyer) because every buyer has a cart of
their own and two requests in order, which wrk's scripts cannot keep per connection.
It costs the machine more than wrk, so the ratio to the direct orders measured just
before (with wrk) is conservative.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.asgi_servers import HOST, BenchError
from bench.checkout import HOT_PRODUCTS, request_json

COUNTRY = "NL"  # the bench shop's one shipping zone
ADDRESS = {"name": "Bench Buyer", "line1": "Damrak 1", "city": "Amsterdam", "postal_code": "1012", "country": COUNTRY}


@dataclass(frozen=True)
class CartSetup:
    prefix: str  # this run's buyers' emails start with it
    tokens: list[str]
    low: int
    high: int
    stock_before: int


def _admin_token(port: int, cli: Any, env: dict[str, str], workdir: Path) -> str:
    email, password = "bench-admin@example.com", "bench-admin-password"
    cli(["create-admin", "--email", email, "--password", password], env, workdir)
    login = request_json(
        port, "POST", "/api/v1/auth/login", json.dumps({"email": email, "password": password}).encode()
    )
    return str(login["access_token"])


def _zone(port: int, admin: str) -> int:
    """The id of the bench shop's shipping rate, creating its zone on the first run."""
    zones = request_json(port, "GET", "/api/v1/admin/shipping-zones?limit=100", token=admin)
    for zone in zones["items"]:
        if COUNTRY in zone["countries"]:
            return int(zone["rates"][0]["id"])
    body = {
        "name": "Bench zone",
        "countries": [COUNTRY],
        "rates": [{"name": "Standard", "price": "4.90", "free_over": None, "min_days": 1, "max_days": 3}],
    }
    created = request_json(port, "POST", "/api/v1/admin/shipping-zones", json.dumps(body).encode(), token=admin)
    request_json(port, "PUT", f"/api/v1/admin/tax-rates/{COUNTRY}", json.dumps({"rate": "0.21"}).encode(), token=admin)
    return int(created["rates"][0]["id"])


def prepare(
    port: int, psql: Any, database: str, low: int, buyers: int, cli: Any, env: dict[str, str], workdir: Path
) -> CartSetup:
    """Buyers with their address and shipping option set, and a well-stocked hot set."""
    rate_id = _zone(port, _admin_token(port, cli, env, workdir))
    prefix = f"bench-cart-{uuid.uuid4().hex[:8]}"
    tokens = []
    for number in range(buyers):
        email, password = f"{prefix}-{number}@example.com", "bench-password-1"
        request_json(
            port,
            "POST",
            "/api/v1/auth/register",
            json.dumps({"email": email, "password": password, "name": "Bench"}).encode(),
        )
        login = request_json(
            port, "POST", "/api/v1/auth/login", json.dumps({"email": email, "password": password}).encode()
        )
        token = str(login["access_token"])
        request_json(port, "PUT", "/api/v1/cart/shipping-address", json.dumps(ADDRESS).encode(), token=token)
        request_json(port, "PUT", "/api/v1/cart/shipping-option", json.dumps({"id": rate_id}).encode(), token=token)
        tokens.append(token)
    high = low + HOT_PRODUCTS - 1
    psql(database, f"UPDATE products SET stock = 1000000, archived_at = NULL WHERE id BETWEEN {low} AND {high}")
    stock = int(psql(database, f"SELECT sum(stock) FROM products WHERE id BETWEEN {low} AND {high}"))
    return CartSetup(prefix, tokens, low, high, stock)


async def _drive(port: int, setup: CartSetup, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=len(setup.tokens), max_keepalive_connections=len(setup.tokens))
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", limits=limits, timeout=30) as client:

        async def buyer(number: int, token: str) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            deadline = time.monotonic() + seconds
            turn = 0
            while time.monotonic() < deadline:
                turn += 1
                product = setup.low + (number * 7919 + turn * 104729) % (setup.high - setup.low + 1)
                put = await client.put(f"/api/v1/cart/items/{product}", json={"quantity": 1}, headers=headers)
                if put.status_code != 200:
                    errors.append(f"cart {put.status_code}: {put.text[:200]}")
                    continue
                started = time.perf_counter()
                done = await client.post(
                    "/api/v1/cart/checkout", headers={**headers, "Idempotency-Key": f"{setup.prefix}-{number}-{turn}"}
                )
                if done.status_code == 201:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors.append(f"checkout {done.status_code}: {done.text[:200]}")

        began = time.monotonic()
        await asyncio.gather(*(buyer(number, token) for number, token in enumerate(setup.tokens)))
        elapsed = time.monotonic() - began
    latencies.sort()
    return {
        "checkouts_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 2) if latencies else 0.0,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2) if latencies else 0.0,
        "checkouts": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }


def measure(port: int, setup: CartSetup, seconds: float) -> dict[str, Any]:
    return asyncio.run(_drive(port, setup, seconds))


def check_consistency(setup: CartSetup, psql: Any, database: str) -> dict[str, int]:
    """In one snapshot: stock taken equals the units in this run's checkout orders, none
    below zero, and every such order waits for its payment with total = lines + shipping + tax."""
    row = psql(
        database,
        f"""SELECT
            (SELECT sum(stock) FROM products WHERE id BETWEEN {setup.low} AND {setup.high}),
            (SELECT coalesce(sum(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id
                JOIN users u ON u.id = o.user_id WHERE u.email LIKE '{setup.prefix}-%'),
            (SELECT count(*) FROM products WHERE stock < 0),
            (SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id WHERE u.email LIKE '{setup.prefix}-%'
                AND (o.status <> 'pending_payment' OR o.total_cents <> o.shipping_total_cents + o.tax_total_cents
                     + (SELECT sum(l.line_total_cents) FROM order_lines l WHERE l.order_id = o.id)))""",
    )
    stock_after, ordered, negative, inconsistent = (int(value) for value in row.split("|"))
    taken = setup.stock_before - stock_after
    if negative or inconsistent or taken != ordered:
        raise BenchError(
            f"cart checkout check failed: taken {taken}, ordered {ordered}, negative stock rows {negative}, "
            f"orders not adding up {inconsistent}"
        )
    return {"units_ordered": ordered, "stock_taken": taken, "negative_stock_rows": negative}
