"""The cart checkout scenario: buyers who each put a product in their cart and check it
out (``PUT /cart/items/{id}`` then ``POST /cart/checkout`` with a fresh Idempotency-Key),
all at once, on the server the direct-order scenario (``POST /orders`` under wrk) used
just before, whose rate is this scenario's baseline.

The driver is Python (httpx, one task per buyer) because every buyer has a cart of
their own and two requests in order, which wrk's scripts cannot keep per connection.
It costs the shared cores more than wrk does, so the ratio to the direct orders is
conservative.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.asgi_servers import HOST, BenchError
from bench.checkout import HOT_PRODUCTS, request_json

MAX_BUYERS = 64
SMOKE_BUYERS = 4
COUNTRY = "NL"  # the bench shop's one shipping zone and tax rate
RATE_NAME = "Standard"
SHIPPING_PRICE, SHIPPING_CENTS = "4.90", 490
TAX_RATE, TAX_BASIS_POINTS = "0.21", 2100
HOT_STOCK = 1_000_000  # per hot product: a run can never sell one out
ADDRESS = {"name": "Bench Buyer", "line1": "Damrak 1", "city": "Amsterdam", "postal_code": "1012", "country": COUNTRY}
ADMIN_EMAIL, ADMIN_PASSWORD = "bench-admin@example.com", "bench-admin-password"
BUYER_PASSWORD = "bench-password-1"  # noqa: S105 - throw-away accounts on the benchmark database
TIMEOUT = 30.0  # seconds; a slower request is an error, not a result

Cli = Callable[[list[str], dict[str, str], Path], None]
Psql = Callable[[str, str], str]


@dataclass(frozen=True)
class CartSetup:
    prefix: str  # this run's buyers' emails start with it
    tokens: list[str]
    low: int
    high: int
    stock_before: int


def buyers_for(connections: int, smoke: bool) -> int:
    return SMOKE_BUYERS if smoke else max(1, min(connections, MAX_BUYERS))


# --- the shop ---------------------------------------------------------------------------------


def _admin_token(port: int, cli: Cli, env: dict[str, str], workdir: Path) -> str:
    # `create-admin` creates the account on the first run and only promotes it afterwards.
    cli(["create-admin", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD], env, workdir)
    body = json.dumps({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).encode()
    return str(request_json(port, "POST", "/api/v1/auth/login", body)["access_token"])


def _shop(port: int, admin: str) -> int:
    """The bench shop on the reused database: one zone for COUNTRY with one rate, and its
    tax rate, created on the first run and put back to these values on later ones.
    Returns the rate's id."""
    rate = {"name": RATE_NAME, "price": SHIPPING_PRICE, "free_over": None, "min_days": 1, "max_days": 3}
    zones = request_json(port, "GET", "/api/v1/admin/shipping-zones?limit=100", token=admin)["items"]
    zone = next((found for found in zones if COUNTRY in found["countries"]), None)
    if zone is None:
        body = {"name": "Bench zone", "countries": [COUNTRY], "rates": [rate]}
        zone = request_json(port, "POST", "/api/v1/admin/shipping-zones", json.dumps(body).encode(), token=admin)
    else:
        kept = [found for found in zone["rates"] if found["name"] == RATE_NAME]
        if len(zone["rates"]) != 1 or not kept or any(str(kept[0][key]) != str(rate[key]) for key in rate):
            body = {"rates": [{**rate, **({"id": kept[0]["id"]} if kept else {})}]}
            path = f"/api/v1/admin/shipping-zones/{zone['id']}"
            zone = request_json(port, "PATCH", path, json.dumps(body).encode(), token=admin)
    body_tax = json.dumps({"rate": TAX_RATE}).encode()
    request_json(port, "PUT", f"/api/v1/admin/tax-rates/{COUNTRY}", body_tax, token=admin)
    return int(zone["rates"][0]["id"])


async def _call(client: httpx.AsyncClient, method: str, path: str, body: Any, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = await client.request(method, path, json=body, headers=headers)
    if not answer.is_success:
        raise BenchError(f"cart checkout set-up: {method} {path} → {answer.status_code} {answer.text[:300]}")
    return answer.json()


async def _buyer(client: httpx.AsyncClient, email: str, rate_id: int) -> str:
    """Register, log in, set the cart's address and shipping option; the buyer's bearer token."""
    await _call(client, "POST", "/api/v1/auth/register", {"email": email, "password": BUYER_PASSWORD, "name": "Bench"})
    login = await _call(client, "POST", "/api/v1/auth/login", {"email": email, "password": BUYER_PASSWORD})
    token = str(login["access_token"])
    await _call(client, "PUT", "/api/v1/cart/shipping-address", ADDRESS, token)
    cart = await _call(client, "PUT", "/api/v1/cart/shipping-option", {"id": rate_id}, token)
    if cart["items"] or not cart["shipping_option"]:
        raise BenchError(f"cart checkout set-up: unexpected cart for {email}: {cart}")
    return token


async def _buyers(port: int, prefix: str, count: int, rate_id: int) -> list[str]:
    gate = asyncio.Semaphore(4)  # registration and login hash passwords: a few at a time

    async def one(client: httpx.AsyncClient, number: int) -> str:
        async with gate:
            return await _buyer(client, f"{prefix}-{number}@example.com", rate_id)

    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=TIMEOUT) as client:
        return list(await asyncio.gather(*(one(client, number) for number in range(count))))


def prepare(
    port: int, psql: Psql, database: str, low: int, buyers: int, cli: Cli, env: dict[str, str], workdir: Path
) -> CartSetup:
    """The shop, `buyers` new buyers ready to check out, and a well-stocked hot set."""
    rate_id = _shop(port, _admin_token(port, cli, env, workdir))
    prefix = f"bench-cart-{uuid.uuid4().hex[:8]}"
    tokens = asyncio.run(_buyers(port, prefix, buyers, rate_id))
    high = low + HOT_PRODUCTS - 1
    psql(database, f"UPDATE products SET stock = {HOT_STOCK}, archived_at = NULL WHERE id BETWEEN {low} AND {high}")
    stock = int(psql(database, f"SELECT sum(stock) FROM products WHERE id BETWEEN {low} AND {high}"))
    return CartSetup(prefix, tokens, low, high, stock)


# --- the load ---------------------------------------------------------------------------------


@dataclass
class _Tally:
    checkout_ms: list[float] = field(default_factory=list)  # each 201 checkout's own request
    flow_ms: list[float] = field(default_factory=list)  # PUT + checkout, for completed flows
    requests: int = 0
    errors: int = 0
    out_of_stock: int = 0
    first_errors: list[str] = field(default_factory=list)

    def error(self, what: str) -> None:
        self.errors += 1
        if "OUT_OF_STOCK" in what:
            self.out_of_stock += 1
        if len(self.first_errors) < 3:
            self.first_errors.append(what)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else 0.0


async def _shop_until(client: httpx.AsyncClient, setup: CartSetup, token: str, deadline: float, tally: _Tally) -> None:
    """One buyer: put a random hot product in the cart, check out, again until the deadline."""
    rng = random.Random(token)
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < deadline:
        product = rng.randint(setup.low, setup.high)
        began = time.perf_counter()
        try:
            tally.requests += 1
            put = await client.put(f"/api/v1/cart/items/{product}", json={"quantity": 1}, headers=headers)
            if put.status_code != 200:
                tally.error(f"PUT cart item → {put.status_code} {put.text[:200]}")
                continue
            tally.requests += 1
            sent = time.perf_counter()
            done = await client.post(
                "/api/v1/cart/checkout", headers={**headers, "Idempotency-Key": f"{setup.prefix}-{uuid.uuid4().hex}"}
            )
            ended = time.perf_counter()
        except httpx.HTTPError as exc:
            tally.error(f"{type(exc).__name__}: {exc}")
            continue
        if done.status_code != 201 or done.headers.get("idempotent-replayed"):
            tally.error(f"POST checkout → {done.status_code} {done.text[:200]}")
            continue
        tally.checkout_ms.append((ended - sent) * 1000)
        tally.flow_ms.append((ended - began) * 1000)


async def _drive(port: int, setup: CartSetup, seconds: float) -> dict[str, Any]:
    tally = _Tally()
    pool = httpx.Limits(max_connections=len(setup.tokens), max_keepalive_connections=len(setup.tokens))
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", limits=pool, timeout=TIMEOUT) as client:
        began = time.monotonic()
        deadline = began + seconds
        await asyncio.gather(*(_shop_until(client, setup, token, deadline, tally) for token in setup.tokens))
        elapsed = time.monotonic() - began  # the last flows finish after the deadline: counted in the wall time
    return {
        "checkouts": len(tally.checkout_ms),
        "checkouts_per_second": round(len(tally.checkout_ms) / elapsed, 1),
        "p50_ms": round(percentile(tally.checkout_ms, 0.50), 2),
        "p99_ms": round(percentile(tally.checkout_ms, 0.99), 2),
        "flow_requests_per_second": round(tally.requests / elapsed, 1),
        "flow_p50_ms": round(percentile(tally.flow_ms, 0.50), 2),
        "errors": tally.errors,
        "out_of_stock": tally.out_of_stock,
        "first_errors": tally.first_errors,
    }


def measure(port: int, setup: CartSetup, seconds: float) -> dict[str, Any]:
    """Every buyer shops for `seconds`; checkouts/s over the wall time, latency of the checkout request."""
    return asyncio.run(_drive(port, setup, seconds))


# --- the check --------------------------------------------------------------------------------


def check_consistency(setup: CartSetup, psql: Psql, database: str, answered: int | None) -> dict[str, int]:
    """In one statement, so one snapshot: stock taken from the hot set equals the units in
    this run's buyers' orders, no stock below zero, and every such order waits for its
    payment with shipping, tax (half up, to the cent) and total = lines + shipping + tax.
    `answered`: the 201 checkouts the buyers saw (None when some requests failed, as a
    timed-out checkout may still have committed); there must be exactly that many orders."""
    # sum() of bigint is numeric: cast back, so that / below is integer division (half up, to the cent).
    mine = f"JOIN users u ON u.id = o.user_id WHERE u.email LIKE '{setup.prefix}-%'"
    row = psql(
        database,
        f"""WITH mine AS (
                SELECT o.*, (SELECT coalesce(sum(l.line_total_cents), 0)::bigint FROM order_lines l
                    WHERE l.order_id = o.id)
                    AS lines_cents FROM orders o {mine})
            SELECT
            (SELECT sum(stock) FROM products WHERE id BETWEEN {setup.low} AND {setup.high}),
            (SELECT coalesce(sum(l.quantity), 0) FROM order_lines l JOIN mine ON mine.id = l.order_id),
            (SELECT count(*) FROM mine),
            (SELECT count(*) FROM products WHERE stock < 0),
            (SELECT count(*) FROM mine WHERE status <> 'pending_payment' OR lines_cents = 0
                OR shipping_total_cents <> {SHIPPING_CENTS}
                OR tax_total_cents <> ((lines_cents + {SHIPPING_CENTS}) * {TAX_BASIS_POINTS} + 5000) / 10000
                OR total_cents <> lines_cents + shipping_total_cents + tax_total_cents)""",
    )
    stock_after, units, orders, negative, wrong = (int(value) for value in row.split("|"))
    taken = setup.stock_before - stock_after
    check = {
        "orders": orders,
        "units_ordered": units,
        "stock_taken": taken,
        "negative_stock_rows": negative,
        "orders_not_adding_up": wrong,
    }
    if negative or wrong or taken != units or (answered is not None and orders != answered):
        raise BenchError(f"cart checkout check failed: {check}, 201 answers {answered}")
    return check
