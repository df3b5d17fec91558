"""The order confirmation email: text and HTML parts from templates."""

from __future__ import annotations

from email.message import EmailMessage

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from storefront.orders.schemas import OrderRead

_templates = Environment(
    loader=PackageLoader("storefront", "templates"),
    autoescape=select_autoescape(["html"]),  # product titles are data, never markup
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def order_confirmation(order: OrderRead, to_name: str, to_email: str, sender: str) -> EmailMessage:
    context = {"order": order.model_dump(mode="json"), "name": to_name}
    message = EmailMessage()
    message["Subject"] = f"Your order #{order.id}"
    message["From"] = sender
    message["To"] = f"{to_name} <{to_email}>"
    # The same id on every attempt: a receiver can recognise a duplicate delivery.
    message["Message-ID"] = f"<order-{order.id}-confirmation@storefront>"
    message.set_content(_templates.get_template("email/order_confirmation.txt.j2").render(context))
    message.add_alternative(_templates.get_template("email/order_confirmation.html.j2").render(context), subtype="html")
    return message
