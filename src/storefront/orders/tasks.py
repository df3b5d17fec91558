"""What follows a placed order, as idempotent jobs: the email, the notification,
low-stock alerts to admins; and the purge of expired idempotency keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from storefront.catalog.models import Product
from storefront.core.events import EventBus
from storefront.core.jobs import Handler, JobContext, RetryLater
from storefront.core.mail import Mailer
from storefront.identity.models import Role, User
from storefront.notifications.service import NotificationService
from storefront.orders.checkout import CONFIRMATION_EMAIL, LOW_STOCK, ORDER_NOTIFICATION
from storefront.orders.emails import order_confirmation
from storefront.orders.idempotency import purge_expired
from storefront.orders.models import SentEmail
from storefront.orders.repository import OrderRepository, order_read

PURGE_IDEMPOTENCY_KEYS = "orders.purge_idempotency_keys"
log = structlog.get_logger("storefront.orders.tasks")


def order_handlers(mailer: Mailer, events: EventBus, sender: str, claim_lease: float) -> dict[str, Handler]:
    lease = timedelta(seconds=claim_lease)

    async def confirmation_email(ctx: JobContext, payload: dict[str, Any]) -> None:
        order_id = int(payload["order_id"])
        key = f"order-confirmation:{order_id}"
        now = datetime.now(UTC)
        try:
            async with ctx.db.session_scope() as session:
                sent = await session.get(SentEmail, key)
                if sent is not None and sent.sent_at is not None:
                    return  # a previous run sent it
                if sent is not None and sent.claimed_at > now - lease:
                    raise RetryLater("another attempt is sending this email")
                order = await OrderRepository(session).get(order_id, None)
                if order is None:
                    return
                user = await session.get_one(User, order.user_id)
                message = order_confirmation(order_read(order), user.name, user.email, sender)
                if sent is None:
                    session.add(SentEmail(key=key, claimed_at=now))
                else:  # a claim older than the lease: its worker died before finishing
                    sent.claimed_at = now
        except IntegrityError as exc:
            raise RetryLater("another attempt claimed this email first") from exc
        await mailer.send(message)
        async with ctx.db.session_scope() as session:
            await session.execute(update(SentEmail).where(SentEmail.key == key).values(sent_at=datetime.now(UTC)))
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
            product = await session.get(Product, product_id)
            if product is None:
                return
            admins = await session.scalars(select(User.id).where(User.role == Role.ADMIN, User.is_active.is_(True)))
            notifications = NotificationService(session, events)
            for admin_id in admins.all():
                await notifications.notify(
                    admin_id,
                    kind="low_stock",
                    title=f"Low stock: {product.title}",
                    body=f"{product.stock} left, below the threshold of {product.low_stock_threshold}",
                    data={"product_id": product.id, "stock": product.stock, "threshold": product.low_stock_threshold},
                    dedupe_key=f"low_stock:{product.id}:{order_id}",
                )

    async def purge_idempotency_keys(ctx: JobContext, payload: dict[str, Any]) -> None:
        async with ctx.db.session_scope() as session:
            removed = await purge_expired(session)
        log.info("idempotency_keys_purged", removed=removed)

    return {
        CONFIRMATION_EMAIL: confirmation_email,
        ORDER_NOTIFICATION: notify_placed,
        LOW_STOCK: low_stock,
        PURGE_IDEMPOTENCY_KEYS: purge_idempotency_keys,
    }
