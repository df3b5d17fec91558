"""What follows a placed order, as idempotent jobs: the email, the notification,
and low-stock alerts to admins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError

from storefront.catalog.repository import CatalogRepository
from storefront.core.events import EventBus
from storefront.core.jobs import Handler, JobContext, RetryLater
from storefront.core.mail import Mailer
from storefront.identity.repository import UserRepository
from storefront.notifications.service import NotificationService
from storefront.orders.emails import order_confirmation
from storefront.orders.repository import OrderRepository
from storefront.orders.schemas import order_read
from storefront.orders.service import CONFIRMATION_EMAIL, LOW_STOCK, ORDER_NOTIFICATION

log = structlog.get_logger("storefront.orders.tasks")


def order_handlers(mailer: Mailer, events: EventBus, sender: str, claim_lease: float) -> dict[str, Handler]:
    lease = timedelta(seconds=claim_lease)

    async def confirmation_email(ctx: JobContext, payload: dict[str, Any]) -> None:
        order_id = int(payload["order_id"])
        key = f"order-confirmation:{order_id}"
        now = datetime.now(UTC)
        try:
            async with ctx.db.session_scope() as session:
                orders = OrderRepository(session)
                sent = await orders.sent_email(key)
                if sent is not None and sent.sent_at is not None:
                    return  # a previous run sent it
                if sent is not None and sent.claimed_at > now - lease:
                    raise RetryLater("another attempt is sending this email")
                order = await orders.get(order_id, None)
                if order is None:
                    return
                user = await UserRepository(session).get(order.user_id)
                if user is None:
                    return
                message = order_confirmation(order_read(order), user.name, user.email, sender)
                await orders.claim_email(key, now, sent)
        except IntegrityError as exc:
            raise RetryLater("another attempt claimed this email first") from exc
        await mailer.send(message)
        async with ctx.db.session_scope() as session:
            await OrderRepository(session).mark_email_sent(key, datetime.now(UTC))
        log.info("email_sent", key=key)

    async def notify_placed(ctx: JobContext, payload: dict[str, Any]) -> None:
        order_id = int(payload["order_id"])
        async with ctx.db.session_scope() as session:
            order = await OrderRepository(session).get(order_id, None)
            if order is None:
                return
            await NotificationService(session, events).notify(
                order.user_id,
                kind="order_placed",
                title=f"Order #{order.id} placed",
                body=f"{sum(line.quantity for line in order.lines)} items, total {order.total:.2f}",
                data={"order_id": order.id, "total": f"{order.total:.2f}"},
                dedupe_key=f"order_placed:{order.id}",
            )

    async def low_stock(ctx: JobContext, payload: dict[str, Any]) -> None:
        product_id, order_id = int(payload["product_id"]), int(payload["order_id"])
        async with ctx.db.session_scope() as session:
            product = await CatalogRepository(session).product(product_id)
            if product is None:
                return
            notifications = NotificationService(session, events)
            for admin_id in await UserRepository(session).active_admin_ids():
                await notifications.notify(
                    admin_id,
                    kind="low_stock",
                    title=f"Low stock: {product.title}",
                    body=f"{product.stock} left, below the threshold of {product.low_stock_threshold}",
                    data={"product_id": product.id, "stock": product.stock, "threshold": product.low_stock_threshold},
                    dedupe_key=f"low_stock:{product.id}:{order_id}",
                )

    return {
        CONFIRMATION_EMAIL: confirmation_email,
        ORDER_NOTIFICATION: notify_placed,
        LOW_STOCK: low_stock,
    }
