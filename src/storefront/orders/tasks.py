"""What follows an order, as idempotent jobs: once placed, the email, the
notification, low-stock and sold-out alerts to admins; unpaid past its deadline,
the expiry that gives its stock back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.repository import CatalogRepository
from storefront.core.events import EventBus
from storefront.core.jobs import Handler, JobContext, RetryLater
from storefront.core.mail import Mailer, certainly_not_sent
from storefront.identity.repository import UserRepository
from storefront.notifications.service import NotificationService
from storefront.orders.emails import order_confirmation
from storefront.orders.repository import EmailClaim, OrderRepository
from storefront.orders.schemas import order_read
from storefront.orders.service import (
    CONFIRMATION_EMAIL,
    EXPIRE_UNPAID,
    LOW_STOCK,
    ORDER_NOTIFICATION,
    SOLD_OUT,
    OrderService,
)

log = structlog.get_logger("storefront.orders.tasks")


def _placed_handlers(mailer: Mailer, events: EventBus, sender: str, claim_lease: float) -> dict[str, Handler]:
    lease = timedelta(seconds=claim_lease)

    async def confirmation_email(ctx: JobContext, payload: dict[str, Any]) -> None:
        order_id = int(payload["order_id"])
        key = f"order-confirmation:{order_id}"
        now = datetime.now(UTC)
        # No transaction: reads that need no common snapshot, then the claim, one atomic
        # statement (docs/performance.md, issue 16 row 5). The message is built before the
        # claim, so that nothing can fail between claiming and sending.
        async with ctx.db.autocommit_scope() as session:
            orders = OrderRepository(session)
            order = await orders.snapshot(order_id)
            if order is None:
                return
            to = await UserRepository(session).contact(order.user_id)
            if to is None:
                return
            message = order_confirmation(order_read(order), to.name, to.email, sender)
            claim = await orders.claim_email(key, now, stale_before=now - lease)
        if claim is EmailClaim.SENT:
            return  # a previous run sent it
        if claim is EmailClaim.HELD:
            raise RetryLater("another attempt holds this email's claim")
        try:
            await mailer.send(message)
        except (asyncio.CancelledError, Exception) as exc:
            # Cut short by a worker's shutdown (the job goes back to the queue at once), or the
            # server was down or said no: give the claim back, or the next attempts would wait
            # out the claim's lease as RetryLater and spend the job's attempts doing nothing
            # (an SMTP outage of a few seconds used 5 of 8). An uncertain failure keeps it.
            if isinstance(exc, asyncio.CancelledError) or certainly_not_sent(exc):
                async with ctx.db.autocommit_scope() as session:
                    await OrderRepository(session).release_email_claim(key, now)
            raise
        # Sent; the job is marked done after, with others (``JobRunner``). A crash between
        # the two runs the job again, and that run finds the email sent.
        async with ctx.db.autocommit_scope() as session:
            await OrderRepository(session).mark_email_sent(key, datetime.now(UTC))
        log.info("email_sent", key=key)

    async def notify_placed(ctx: JobContext, payload: dict[str, Any]) -> None:
        order_id = int(payload["order_id"])
        # The notification; the job is marked done after, with others (``JobRunner``). A run
        # again after a crash between the two adds nothing (the dedupe key).
        async with ctx.db.autocommit_scope() as session:
            if "units" in payload:  # what the order was at placement, carried by the job
                user_id, units, total = int(payload["user_id"]), int(payload["units"]), Decimal(payload["total"])
            else:  # a job enqueued before the payload carried it
                order = await OrderRepository(session).placed_summary(order_id)
                if order is None:
                    return
                user_id, units, total = order.user_id, order.units, order.total
            await NotificationService(session, events).notify(
                user_id,
                kind="order_placed",
                title=f"Order #{order_id} placed",
                body=f"{units} {'item' if units == 1 else 'items'}, total {total:.2f}",
                data={"order_id": order_id, "total": f"{total:.2f}"},
                dedupe_key=f"order_placed:{order_id}",
            )

    return {CONFIRMATION_EMAIL: confirmation_email, ORDER_NOTIFICATION: notify_placed}


def _stock_handlers(events: EventBus) -> dict[str, Handler]:
    async def stock_alert(ctx: JobContext, kind: str, payload: dict[str, Any]) -> None:
        product_id, order_id = int(payload["product_id"]), int(payload["order_id"])
        async with ctx.db.session_scope() as session:
            product = await CatalogRepository(session).product(product_id)
            if product is None:
                return
            if kind == "sold_out":
                title, body = f"Sold out: {product.title}", "No units left: it shows as out of stock"
            else:
                title = f"Low stock: {product.title}"
                body = f"{product.stock} left, below the threshold of {product.low_stock_threshold}"
            notifications = NotificationService(session, events)
            for admin_id in await UserRepository(session).active_admin_ids():
                await notifications.notify(
                    admin_id,
                    kind=kind,
                    title=title,
                    body=body,
                    data={"product_id": product.id, "stock": product.stock, "threshold": product.low_stock_threshold},
                    dedupe_key=f"{kind}:{product.id}:{order_id}",
                )
            await ctx.finish_in(session)

    async def low_stock(ctx: JobContext, payload: dict[str, Any]) -> None:
        await stock_alert(ctx, "low_stock", payload)

    async def sold_out(ctx: JobContext, payload: dict[str, Any]) -> None:
        await stock_alert(ctx, "sold_out", payload)

    return {LOW_STOCK: low_stock, SOLD_OUT: sold_out}


def order_handlers(
    mailer: Mailer,
    events: EventBus,
    sender: str,
    claim_lease: float,
    services: Callable[[AsyncSession], OrderService],
) -> dict[str, Handler]:
    async def expire_unpaid(ctx: JobContext, payload: dict[str, Any]) -> None:
        order_id = int(payload["order_id"])
        async with ctx.db.session_scope() as session:
            expired = await services(session).expire(order_id, datetime.now(UTC))
            await ctx.finish_in(session)
        if expired:
            log.info("order_expired", order_id=order_id)

    return {
        **_placed_handlers(mailer, events, sender, claim_lease),
        **_stock_handlers(events),
        EXPIRE_UNPAID: expire_unpaid,
    }
