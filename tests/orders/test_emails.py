"""The order confirmation email as a receiver parses it: headers, both parts, escaping."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from storefront.orders.emails import order_confirmation
from storefront.orders.schemas import OrderRead

TITLE = 'Walnut <b>desk</b> lamp & "shade" — Zoë\'s 🪔 ' + "long " * 30


def _order() -> OrderRead:
    now = datetime.now(UTC)
    line = {"product_id": 7, "title": TITLE, "unit_price": "19.99", "quantity": 3, "line_total": "59.97"}
    return OrderRead.model_validate(
        {
            "id": 4321,
            "status": "placed",
            "total": "59.97",
            "items": [line],
            "shipping_address": None,
            "shipping_total": "0",
            "tax_total": "0",
            "refunded_total": "0",
            "payment_status": None,
            "created_at": now,
            "updated_at": now,
        }
    )


def _received(name: str, sender: str = "Boutique Zoë <shop@example.com>") -> EmailMessage:
    sent = order_confirmation(_order(), name, "buyer@example.com", sender)
    parsed = BytesParser(policy=policy.default).parsebytes(bytes(sent))
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.mark.parametrize("name", ["Zoë Bench", "Bench, Zoë", 'A "quoted" name', "Plain"])
def test_the_addresses_arrive_as_written(name: str) -> None:
    message = _received(name)
    assert message["Subject"] == "Your order #4321"
    assert message["Message-ID"] == "<order-4321-confirmation@storefront>"
    to, sender = message["To"].addresses, message["From"].addresses
    # A comma in a name must not make it two recipients.
    assert [(address.display_name, address.addr_spec) for address in to] == [(name, "buyer@example.com")]
    assert [(address.display_name, address.addr_spec) for address in sender] == [("Boutique Zoë", "shop@example.com")]


def test_the_text_part_is_verbatim_and_the_html_part_escapes_data() -> None:
    message = _received("<i>Zoë</i>")
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.get_body(preferencelist=("plain",)), message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert f"3 \N{MULTIPLICATION SIGN} {TITLE} at 19.99 = 59.97" in text.get_content()
    assert "Hello <i>Zoë</i>," in text.get_content()
    body = html.get_content()
    assert "Walnut &lt;b&gt;desk&lt;/b&gt; lamp &amp; &#34;shade&#34; — Zoë&#39;s 🪔" in body
    assert "Hello &lt;i&gt;Zoë&lt;/i&gt;," in body
    assert "<b>" not in body
    assert "<i>" not in body
    assert "<strong>#4321</strong>" in body  # the template's own markup stays markup


@pytest.mark.parametrize("name", ["Evil\r\nBcc: victim@example.com", "Evil\nBcc: victim@example.com"])
def test_a_line_break_in_a_name_is_refused_not_sent_as_a_header(name: str) -> None:
    with pytest.raises(ValueError, match="line break"):
        order_confirmation(_order(), name, "buyer@example.com", "shop@example.com")
