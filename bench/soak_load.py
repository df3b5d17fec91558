"""The soak's load: paced mixed traffic plus held-open SSE clients, tallied per period.

One asyncio driver in the bench process, with httpx like bench/cart_checkout.py, since
wrk's scripts cannot keep carts, idempotency keys to replay, cursors to follow, or
streams open. A pacer starts requests at a fixed rate (a soak, not a throughput test),
each a weighted pick from ``MIX``; when ``max_in_flight`` are still outstanding, the
tick is skipped and counted, so a server that falls behind shows as a lower rate and
``skipped`` ticks instead of an ever-growing queue in the driver. Latency is measured
from send to the whole answer read (not from the tick: skipped ticks are the record of
the rest).

SSE clients each hold a notification stream for a random while, close it (as a browser
tab that goes away) and reconnect, so the subscribe and release paths run thousands of
times; the server never ends a stream while it runs, so a stream ended by the server is
an error.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.asgi_servers import HOST
from bench.cart_checkout import percentile

# Answers that are part of normal traffic, counted apart from errors: 409 (out of stock,
# an idempotency key still in progress) and 429 (a limit doing its job).
EXPECTED = frozenset({409, 429})
TIMEOUT = 30.0  # seconds; a slower answer is a transport error
RECONNECT_SECONDS = 1.0  # the stream's `retry:` hint (notifications/router.py RECONNECT_AFTER_MS)
STREAM = "/api/v1/notifications/stream"
# The server bounds requests in progress per client address (MAX_REQUESTS_PER_CLIENT, 64).
# Every client here is on loopback, so the streams come from a second loopback address
# (Linux routes all of 127/8 to lo): held streams do not eat the traffic's 64 slots, as
# they would not for real browsers on their own addresses.
TRAFFIC_ADDRESS = "127.0.0.1"
SSE_ADDRESS = "127.0.0.2"
MIX = (
    ("product", 35),  # GET one product by id, anywhere in the catalog
    ("listing", 10),  # a first page, with a filter or a sort
    ("next_page", 5),  # the page after one seen before (a cursor)
    ("search", 15),
    ("order", 15),  # POST /orders with an Idempotency-Key; 1 in 20 replays an earlier one
    ("cart", 8),  # PUT a cart item, then POST /cart/checkout with an Idempotency-Key (2 requests)
    ("account", 12),  # a buyer's notifications, dashboard, profile or orders
)
REPLAY_SHARE = 0.05
TERMS = (
    "walnut", "ukulele", "oak", "lantern", "kettle", "bamboo", "linen", "mug", "tripod", "quilt",
    "copper kettle", "walnut bench", "steel", "-walnut oak", '"desk lamp"', "marble or cork",
)  # fmt: skip
MATERIALS = ("enamel", "bamboo", "oak", "steel", "copper", "linen", "ceramic", "glass", "wool", "brass")
NOUNS = ("mug", "teapot", "planter", "lantern", "stool", "kite", "journal", "speaker", "basket", "broom")


@dataclass(frozen=True)
class Plan:
    port: int
    rate: float  # requests started per second
    seconds: float
    period: float  # seconds per reported row
    max_in_flight: int
    sse_clients: int
    sse_hold: tuple[float, float]  # a client closes its stream after a random hold in this range
    tokens: list[str]  # the buyers' bearer tokens
    low: int  # product ids: the whole catalog
    high: int
    hot_low: int  # product ids that orders and carts use (well stocked)
    hot_high: int
    categories: list[str]  # slugs
    seed: int = 1


@dataclass
class Period:
    requests: int = 0
    errors: int = 0
    expected: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    sse_connects: int = 0
    sse_events: int = 0
    skipped: int = 0  # pacer ticks dropped: max_in_flight answers were still outstanding

    def row(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "expected_409": self.expected[409],
            "expected_429": self.expected[429],
            "p50_ms": round(percentile(self.latencies_ms, 0.50), 1),
            "p99_ms": round(percentile(self.latencies_ms, 0.99), 1),
            "sse_connects": self.sse_connects,
            "sse_events": self.sse_events,
            "skipped": self.skipped,
            "kinds": dict(self.kinds),
        }


class Tally:
    """Every answer, counted in the period it arrived in."""

    def __init__(self, started: float, period: float, periods: int) -> None:
        self.started = started
        self.period = period
        self.periods = [Period() for _ in range(periods)]
        self.first_errors: list[str] = []
        self.by_kind: dict[str, list[float]] = {}  # latencies over the whole run, per kind

    def by_kind_summary(self) -> dict[str, dict[str, float]]:
        return {
            kind: {"count": len(ms), "p50_ms": round(percentile(ms, 0.5), 1), "p99_ms": round(percentile(ms, 0.99), 1)}
            for kind, ms in sorted(self.by_kind.items())
        }

    def now(self) -> Period:
        index = int((time.monotonic() - self.started) / self.period)
        return self.periods[max(0, min(index, len(self.periods) - 1))]

    def answered(self, kind: str, response: httpx.Response, began: float) -> None:
        period = self.now()
        period.requests += 1
        period.kinds[kind] += 1
        elapsed = (time.perf_counter() - began) * 1000
        period.latencies_ms.append(elapsed)
        self.by_kind.setdefault(kind, []).append(elapsed)
        status = response.status_code
        if status in EXPECTED:
            period.expected[status] += 1
        elif not 200 <= status < 300:
            self.error(f"{kind} {response.request.method} {response.request.url.path} → {status} {_text(response)}")

    def failed(self, kind: str, exc: BaseException) -> None:
        period = self.now()
        period.requests += 1
        period.kinds[kind] += 1
        self.error(f"{kind}: {type(exc).__name__}: {exc}")

    def error(self, what: str) -> None:
        self.now().errors += 1
        if len(self.first_errors) < 10:
            self.first_errors.append(f"t={time.monotonic() - self.started:.0f}s {what}")


def _text(response: httpx.Response) -> str:
    try:
        return response.text[:200]
    except httpx.ResponseNotRead:
        return ""


class Shop:
    """The traffic: one weighted pick per pacer tick."""

    def __init__(self, plan: Plan, client: httpx.AsyncClient, tally: Tally) -> None:
        self.plan = plan
        self.client = client
        self.tally = tally
        self.rng = random.Random(plan.seed)
        self.kinds = [kind for kind, _ in MIX]
        self.weights = [weight for _, weight in MIX]
        self.idle_buyers = list(range(len(plan.tokens)))  # buyers without a cart flow in progress
        self.pages: deque[tuple[str, dict[str, str]]] = deque(maxlen=64)  # listings with a next cursor
        self.orders: deque[tuple[str, str, dict[str, Any]]] = deque(maxlen=64)  # token, key, body

    async def call(
        self, kind: str, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response | None:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        began = time.perf_counter()
        try:
            response = await self.client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            self.tally.failed(kind, exc)
            return None
        self.tally.answered(kind, response, began)
        return response

    async def one(self) -> None:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        try:
            await getattr(self, f"_{kind}")()
        except Exception as exc:  # a harness bug must show, not end the run quietly
            self.tally.failed(kind, exc)

    def _token(self) -> str:
        return self.rng.choice(self.plan.tokens)

    async def _product(self) -> None:
        await self.call("product", "GET", f"/api/v1/products/{self.rng.randint(self.plan.low, self.plan.high)}")

    async def _listing(self) -> None:
        params = self.rng.choice(
            [
                {"limit": "20"},
                {"limit": "20", "category": self.rng.choice(self.plan.categories)},
                {"limit": "20", "sort": "price"},
                {"limit": "20", "sort": "-price", "in_stock": "true"},
            ]
        )
        response = await self.call("listing", "GET", "/api/v1/products", params=params)
        if response is not None and response.status_code == 200:
            cursor = response.json().get("next_cursor")
            if cursor:
                self.pages.append(("/api/v1/products", {**params, "cursor": cursor}))

    async def _next_page(self) -> None:
        if not self.pages:
            await self._listing()
            return
        path, params = self.pages.popleft()
        response = await self.call("next_page", "GET", path, params=params)
        if response is not None and response.status_code == 200:
            cursor = response.json().get("next_cursor")
            if cursor and self.rng.random() < 0.5:  # go deeper now and then
                self.pages.append((path, {**params, "cursor": cursor}))

    async def _search(self) -> None:
        # Half fixed terms (cache hits once warm), half combinations (mostly misses).
        term = (
            self.rng.choice(TERMS)
            if self.rng.random() < 0.5
            else f"{self.rng.choice(MATERIALS)} {self.rng.choice(NOUNS)}"
        )
        await self.call("search", "GET", "/api/v1/products/search", params={"q": term, "limit": "20"})

    async def _order(self) -> None:
        if self.orders and self.rng.random() < REPLAY_SHARE:
            # The same key and body again: 201 with Idempotent-Replayed, or 409 while the first is in progress.
            token, key, body = self.rng.choice(self.orders)
            response = await self.call("order_replay", "POST", "/api/v1/orders", token, json=body, headers={
                "Idempotency-Key": key})  # fmt: skip
            if response is not None and response.status_code == 201 and not response.headers.get("idempotent-replayed"):
                self.tally.error("order_replay: a replayed key placed a second order")
            return
        token, key = self._token(), uuid.uuid4().hex
        lines = self.rng.sample(range(self.plan.hot_low, self.plan.hot_high + 1), self.rng.randint(1, 3))
        body = {"items": [{"product_id": product, "quantity": self.rng.randint(1, 2)} for product in lines]}
        response = await self.call("order", "POST", "/api/v1/orders", token, json=body, headers={
            "Idempotency-Key": key})  # fmt: skip
        if response is not None and response.status_code == 201:
            self.orders.append((token, key, body))

    async def _cart(self) -> None:
        if not self.idle_buyers:  # every cart is mid-flow: one cart, one flow at a time
            await self._product()
            return
        buyer = self.idle_buyers.pop(self.rng.randrange(len(self.idle_buyers)))
        try:
            token = self.plan.tokens[buyer]
            product = self.rng.randint(self.plan.hot_low, self.plan.hot_high)
            put = await self.call("cart_item", "PUT", f"/api/v1/cart/items/{product}", token, json={"quantity": 1})
            if put is not None and put.status_code == 200:
                await self.call("checkout", "POST", "/api/v1/cart/checkout", token, headers={
                    "Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
        finally:
            self.idle_buyers.append(buyer)

    async def _account(self) -> None:
        path = self.rng.choice(
            ["/api/v1/notifications?limit=20", "/api/v1/dashboard", "/api/v1/users/me", "/api/v1/orders?limit=10"]
        )
        await self.call("account", "GET", path, self._token())


async def _pace(shop: Shop, plan: Plan, tally: Tally, deadline: float) -> None:
    interval = 1 / plan.rate
    tick = time.monotonic()
    running: set[asyncio.Task[None]] = set()
    while tick < deadline:
        wait = tick - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        tick += interval
        if len(running) >= plan.max_in_flight:
            tally.now().skipped += 1
            continue
        task = asyncio.create_task(shop.one())
        running.add(task)
        task.add_done_callback(running.discard)
    if running:
        await asyncio.wait(running)


async def _hold_stream(client: httpx.AsyncClient, token: str, hold: float, tally: Tally) -> None:
    """Open one stream, read it until `hold` seconds have passed, then close it."""
    began = time.perf_counter()
    connected = False
    try:
        async with (
            asyncio.timeout(hold),
            client.stream("GET", STREAM, headers={"Authorization": f"Bearer {token}"}) as response,
        ):
            tally.answered("sse", response, began)
            if response.status_code != 200:
                return
            connected = True
            tally.now().sse_connects += 1
            async for line in response.aiter_lines():
                if line.startswith("event: notification"):
                    tally.now().sse_events += 1
            # Only a shutdown ends a stream from the server's side, and none happens during the run.
            tally.error("sse: the server ended a stream")
    except TimeoutError:
        if not connected:
            tally.error(f"sse: no answer within {hold:.0f} s")
    except httpx.HTTPError as exc:
        tally.failed("sse", exc)


async def _sse_client(client: httpx.AsyncClient, token: str, plan: Plan, tally: Tally, deadline: float) -> None:
    rng = random.Random(token)
    # Spread the first connects so the clients do not all reconnect in step.
    await asyncio.sleep(rng.uniform(0, min(plan.sse_hold[0], 2.0)))
    while (left := deadline - time.monotonic()) > RECONNECT_SECONDS:
        await _hold_stream(client, token, min(rng.uniform(*plan.sse_hold), left), tally)
        await asyncio.sleep(RECONNECT_SECONDS)


async def drive(plan: Plan, tally: Tally) -> None:
    """Run the traffic and the SSE clients until `plan.seconds` have passed."""
    deadline = tally.started + plan.seconds
    traffic = httpx.AsyncClient(
        base_url=f"http://{HOST}:{plan.port}",
        timeout=TIMEOUT,
        limits=httpx.Limits(max_connections=plan.max_in_flight, max_keepalive_connections=plan.max_in_flight),
        transport=httpx.AsyncHTTPTransport(local_address=TRAFFIC_ADDRESS),
    )
    streams = httpx.AsyncClient(
        base_url=f"http://{HOST}:{plan.port}",
        timeout=TIMEOUT,  # also the read timeout: the server pings every 15 s
        limits=httpx.Limits(max_connections=plan.sse_clients + 1),
        transport=httpx.AsyncHTTPTransport(local_address=SSE_ADDRESS),
    )
    async with traffic, streams:
        shop = Shop(plan, traffic, tally)
        holders = [
            _sse_client(streams, plan.tokens[number % len(plan.tokens)], plan, tally, deadline)
            for number in range(plan.sse_clients)
        ]
        await asyncio.gather(_pace(shop, plan, tally, deadline), *holders)
