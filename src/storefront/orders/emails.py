"""The order confirmation email: text and HTML parts from templates."""

from __future__ import annotations

from email.charset import QP, Charset
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, parseaddr

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from storefront.orders.schemas import OrderRead

_templates = Environment(
    loader=PackageLoader("storefront", "templates"),
    # Product titles and names are data, never markup. ("html" alone missed ".html.j2": the
    # HTML part went out unescaped until 2026-12-05.)
    autoescape=select_autoescape(["html", "html.j2"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)

# UTF-8 bodies in quoted-printable: readable where they are ASCII, and 7-bit safe for any relay.
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP


def _address(name: str, email: str) -> str:
    """``Name <email>``, the name RFC 2047-encoded when it is not ASCII. A line break would
    start a new header (names are refused with one at the API; this is the last guard)."""
    if any(character in name + email for character in "\r\n"):
        raise ValueError("an email address or name contains a line break")
    return formataddr((name, email), charset="utf-8")


def order_confirmation(order: OrderRead, to_name: str, to_email: str, sender: str) -> Message:
    context = {"order": order.model_dump(mode="json"), "name": to_name}
    # The email package's MIME classes (its compat32 policy), not ``EmailMessage``: the modern
    # API parses and re-folds every header through its header registry, which cost 0.85 ms a
    # message, as much as the rest of the job (docs/performance.md, issue 16 row 5). The
    # message is the same MIME: multipart/alternative, text then HTML, UTF-8.
    message = MIMEMultipart("alternative")
    message["Subject"] = f"Your order #{order.id}"
    message["From"] = _address(*parseaddr(sender))
    message["To"] = _address(to_name, to_email)
    # The same id on every attempt: a receiver can recognise a duplicate delivery.
    message["Message-ID"] = f"<order-{order.id}-confirmation@storefront>"
    text = _templates.get_template("email/order_confirmation.txt.j2").render(context)
    html = _templates.get_template("email/order_confirmation.html.j2").render(context)
    message.attach(MIMEText(text, "plain", _UTF8_QP))  # type: ignore[arg-type]
    message.attach(MIMEText(html, "html", _UTF8_QP))  # type: ignore[arg-type]
    return message
