"""An email the SMTP server accepted is sent, whatever happens to the goodbye after it."""

from __future__ import annotations

import asyncio
from email.mime.text import MIMEText

import aiosmtplib
import pytest

from storefront.core.mail import SmtpMailer, certainly_not_sent
from tests.faults.services import SlowGoodbyeMailbox, SmtpServer, wait_until


def _message() -> MIMEText:
    message = MIMEText("Your order is on its way.")
    message["Subject"] = "Order #1"
    message["From"] = "shop@example.com"
    message["To"] = "buyer@example.com"
    return message


async def test_a_send_cut_short_during_the_goodbye_has_still_sent_the_message() -> None:
    # A worker's shutdown cancels a job while QUIT waits for its answer, after the server has
    # taken the message. Reported as a failure, the job would give its claim back and a retry
    # would send a second copy (the window noted since stop 22). The send ends at acceptance.
    mailbox = SlowGoodbyeMailbox(goodbye_seconds=1.0)
    server = SmtpServer(mailbox)
    server.start()
    try:
        mailer = SmtpMailer(server.url, timeout=10)
        send = asyncio.create_task(mailer.send(_message()))
        await wait_until(lambda: mailbox.goodbyes_started == 1, 10)
        send.cancel()  # as the shutdown does, while the server has not answered QUIT yet
        outcome = (await asyncio.gather(send, return_exceptions=True))[0]
        assert outcome is None, f"the accepted send was reported as {outcome!r}"
        assert len(mailbox.received) == 1
        await wait_until(lambda: mailbox.goodbyes_answered == 1, 10)  # and the goodbye completes on its own
    finally:
        server.stop()


async def test_a_message_the_server_refuses_is_still_a_failure() -> None:
    # Returning at acceptance must not turn a refusal into a success.
    class Refusing(SlowGoodbyeMailbox):
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            return "554 Transaction failed"

    mailbox = Refusing(goodbye_seconds=0)
    server = SmtpServer(mailbox)
    server.start()
    try:
        mailer = SmtpMailer(server.url, timeout=10)
        with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
            await mailer.send(_message())
        assert refused.value.code == 554
        assert certainly_not_sent(refused.value)
    finally:
        server.stop()
