"""Outgoing email: SMTP through aiosmtplib, or `.eml` files when no SMTP_URL is set."""

from __future__ import annotations

import asyncio
import os
import tempfile
from email.message import Message
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib
import anyio


class Mailer(Protocol):
    async def send(self, message: Message) -> None: ...


def certainly_not_sent(exc: BaseException) -> bool:
    """Whether a failed send certainly left no copy with the server: it could not be
    reached, or it answered with an error. A connection lost or timed out during the
    exchange may have delivered the message: that one is not certain."""
    return isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPResponseException)


class SmtpMailer:
    """``smtp://user:pass@host:port`` (STARTTLS when offered) or ``smtps://`` (implicit TLS)."""

    def __init__(self, url: str, timeout: float = 15.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://host:port or smtps://user:password@host")
        self.hostname = parts.hostname
        self.port = parts.port or (465 if parts.scheme == "smtps" else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.use_tls = parts.scheme == "smtps"
        self.timeout = timeout
        # Goodbyes still in flight (a task needs a reference until it ends).
        self._goodbyes: set[asyncio.Task[None]] = set()

    async def send(self, message: Message) -> None:
        """Return once the server has accepted the message (its 250 after DATA).

        QUIT comes after, in a task of its own: a goodbye that fails, hangs, or is cut
        short by a worker's shutdown must not make an accepted message look failed, or
        the job would give up its claim and a retry would send a second copy.
        """
        client = aiosmtplib.SMTP(
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            timeout=self.timeout,
        )
        try:
            await client.connect()  # EHLO, STARTTLS when offered, and the login
            await client.send_message(message)
        except BaseException:
            client.close()
            raise
        goodbye = asyncio.create_task(_goodbye(client))
        self._goodbyes.add(goodbye)
        goodbye.add_done_callback(self._goodbyes.discard)


async def _goodbye(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        pass  # the message was accepted before: nothing is lost
    finally:
        client.close()


class FileMailer:
    """Development: each message becomes ``DATA_DIR/mail/<message-id>.eml``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _write(self, message: Message) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = (message["Message-ID"] or "message").strip("<>").replace("/", "_").replace("@", "_at_")
        # Write then rename: a reader never sees half a message.
        fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(bytes(message))
        Path(temporary).replace(self.directory / f"{name}.eml")

    async def send(self, message: Message) -> None:
        await anyio.to_thread.run_sync(self._write, message)


def build_mailer(smtp_url: str | None, data_dir: Path) -> Mailer:
    return SmtpMailer(smtp_url) if smtp_url else FileMailer(data_dir / "mail")
