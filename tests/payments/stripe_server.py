"""A local server speaking the part of the Stripe HTTP API the shop uses, over real HTTP.

The official SDK is pointed at it with ``STRIPE_API_BASE``: form-encoded requests in,
Stripe-shaped JSON out, ``Idempotency-Key`` honoured as Stripe does (the same key
answers the first object again). Webhooks are signed here as Stripe signs them.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.helpers import serve

WEBHOOK_SECRET = "whsec_test_storefront"
_ids = itertools.count(1)


@dataclass
class FakeStripe:
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str], str | None]] = field(default_factory=list)  # path, form, idempotency key
    failing: bool = False  # answer 500 to every call (the SDK retries, then gives up)
    refund_status: str = "succeeded"  # what a new refund answers ("failed": the bank refused it)
    _by_key: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def _form(self, request: Request) -> tuple[dict[str, str], str | None]:
        form = {key: str(value) for key, value in (await request.form()).items()}
        key = request.headers.get("idempotency-key")
        self.requests.append((request.url.path, form, key))
        return form, key

    def _error(self) -> Response:
        return JSONResponse({"error": {"type": "api_error", "message": "Stripe is having a bad day"}}, status_code=500)

    async def create_intent(self, request: Request) -> Response:
        form, key = await self._form(request)
        if self.failing:
            return self._error()
        if key and key in self._by_key:
            return JSONResponse(self._by_key[key])
        intent_id = f"pi_test_{next(_ids)}"
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(form["amount"]),
            "currency": form["currency"],
            "metadata": {"order_id": form.get("metadata[order_id]")},
            "client_secret": f"{intent_id}_secret_{next(_ids)}",
            "status": "requires_payment_method",
        }
        self.intents[intent_id] = intent
        if key:
            self._by_key[key] = intent
        return JSONResponse(intent)

    async def create_refund(self, request: Request) -> Response:
        form, key = await self._form(request)
        if self.failing:
            return self._error()
        if key and key in self._by_key:
            return JSONResponse(self._by_key[key])
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None:
            return JSONResponse({"error": {"type": "invalid_request_error", "message": "No such intent"}}, 404)
        refund = {
            "id": f"re_test_{next(_ids)}",
            "object": "refund",
            "amount": int(form["amount"]),
            "payment_intent": intent["id"],
            "status": self.refund_status,
        }
        self.refunds.append(refund)
        if key:
            self._by_key[key] = refund
        return JSONResponse(refund)

    def event(self, kind: str, intent_id: str, *, amount: int | None = None, currency: str | None = None) -> bytes:
        intent = self.intents.get(intent_id, {"id": intent_id, "amount": amount or 100, "currency": "usd"})
        obj = {**intent, "status": "succeeded" if kind.endswith("succeeded") else "requires_payment_method"}
        if amount is not None:
            obj["amount"] = obj["amount_received"] = amount
        elif kind.endswith("succeeded"):
            obj["amount_received"] = obj["amount"]
        if currency is not None:
            obj["currency"] = currency
        payload = {"id": f"evt_test_{next(_ids)}", "object": "event", "type": kind, "data": {"object": obj}}
        return json.dumps(payload).encode()


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe sends: ``t=<unix time>,v1=<HMAC-SHA256 of "t.payload">``."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


@asynccontextmanager
async def fake_stripe() -> AsyncIterator[tuple[FakeStripe, str]]:
    state = FakeStripe()
    app = Starlette(
        routes=[
            Route("/v1/payment_intents", state.create_intent, methods=["POST"]),
            Route("/v1/refunds", state.create_refund, methods=["POST"]),
        ]
    )
    async with serve(app) as url:  # type: ignore[arg-type]  # any ASGI app serves
        yield state, url
