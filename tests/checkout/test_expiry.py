"""An unpaid checkout order is cancelled by the job system at its deadline, and its
stock comes back exactly once; a paid one is left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from storefront.core.jobs import Job, JobStatus
from storefront.orders.models import Order
from storefront.orders.service import EXPIRE_UNPAID
from tests.checkout.helpers import CHECKOUT, fill_cart
from tests.helpers import Api


async def _stock(api: Api, product: dict[str, Any]) -> int:
    stock: int = (await api.client.get(f"/api/v1/products/{product['id']}")).json()["stock"]
    return stock


async def _expiry_job(api: Api, order_id: int) -> Job:
    async with api.state.db.session_scope() as session:
        jobs = (await session.scalars(select(Job).where(Job.name == EXPIRE_UNPAID))).all()
        (job,) = [job for job in jobs if job.payload == {"order_id": order_id}]
        return job


async def _travel_past_deadline(api: Api, order_id: int, job_id: int) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    async with api.state.db.session_scope() as session:
        await session.execute(update(Order).where(Order.id == order_id).values(expires_at=past))
        await session.execute(update(Job).where(Job.id == job_id).values(available_at=past))


async def test_the_deadline_is_the_ttl_and_the_job_waits_for_it(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    await fill_cart(api, buyer, shop["standard"], (shop["mug"]["id"], 2))
    before = datetime.now(UTC)
    order = (await api.client.post(CHECKOUT, headers=buyer)).json()["order"]
    job = await _expiry_job(api, order["id"])
    ttl = timedelta(minutes=api.state.settings.checkout_ttl_minutes)
    assert before + ttl <= job.available_at <= datetime.now(UTC) + ttl
    # Not due yet: running it now does nothing.
    await api.state.jobs.runner.run(job.id)
    assert (await api.client.get(f"/api/v1/orders/{order['id']}", headers=buyer)).json()["status"] == "pending_payment"
    assert await _stock(api, shop["mug"]) == 8


async def test_an_expired_order_is_cancelled_and_its_stock_returns_once(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    await fill_cart(api, buyer, shop["standard"], (shop["mug"]["id"], 2), (shop["pot"]["id"], 3))
    order = (await api.client.post(CHECKOUT, headers=buyer)).json()["order"]
    assert (await _stock(api, shop["mug"]), await _stock(api, shop["pot"])) == (8, 0)
    job = await _expiry_job(api, order["id"])
    await _travel_past_deadline(api, order["id"], job.id)

    runner = api.state.jobs.runner
    await runner.run(job.id)
    await runner.run(job.id)  # a second delivery of the same job
    expired = (await api.client.get(f"/api/v1/orders/{order['id']}", headers=buyer)).json()
    assert (expired["status"], expired["payment_status"]) == ("cancelled", "expired")
    assert (await _stock(api, shop["mug"]), await _stock(api, shop["pot"])) == (10, 3)
    assert (await _expiry_job(api, order["id"])).status == JobStatus.DONE

    # Paying it now is refused: the stock is gone back to the shelf.
    capture = f"/api/v1/orders/{order['id']}/payments/capture"
    response = await api.client.post(capture, headers=await api.admin_headers())
    assert response.status_code == 409, response.text


async def test_a_paid_order_does_not_expire(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    await fill_cart(api, buyer, shop["standard"], (shop["mug"]["id"], 1))
    order = (await api.client.post(CHECKOUT, headers=buyer)).json()["order"]
    captured = await api.client.post(
        f"/api/v1/orders/{order['id']}/payments/capture", headers=await api.admin_headers()
    )
    assert captured.status_code == 200, captured.text
    job = await _expiry_job(api, order["id"])
    await _travel_past_deadline(api, order["id"], job.id)
    await api.state.jobs.runner.run(job.id)
    assert (await api.client.get(f"/api/v1/orders/{order['id']}", headers=buyer)).json()["status"] == "placed"
    assert await _stock(api, shop["mug"]) == 9
