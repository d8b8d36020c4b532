"""E-mail as a seam: SMTP (aiosmtplib) when ``smtp_url`` is set, else nothing is sent.

Nothing calls ``send`` from a request: actions queue e-mails in the outbox table, and each
process's outbox worker (``actions.outbox``) sends them.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from frontdesk.settings import Settings


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


class MailError(Exception):
    """An e-mail could not be handed to the SMTP server (the outbox tries again later)."""


class Mailer(Protocol):
    @property
    def configured(self) -> bool: ...

    async def send(self, email: Email) -> None:
        """Hand ``email`` to the SMTP server; MailError when it does not accept it."""
        ...


class NoMailer:
    """No SMTP server configured: nothing can be sent."""

    configured = False

    async def send(self, email: Email) -> None:
        raise MailError("no SMTP server is configured (FRONTDESK_SMTP_URL)")


class SmtpMailer:
    configured = True

    def __init__(self, settings: Settings) -> None:
        url = urlsplit(settings.smtp_url)
        self._implicit_tls = url.scheme == "smtps"
        self._host = url.hostname or "localhost"
        self._port = url.port or (465 if self._implicit_tls else 587)
        self._username = unquote(url.username) if url.username else None
        self._password = unquote(url.password) if url.password else None
        self._sender = settings.smtp_from
        self._timeout = settings.smtp_timeout
        starttls = {"auto": None, "require": True, "off": False}[settings.smtp_starttls]
        self._start_tls = None if self._implicit_tls else starttls
        self._tls = ssl.create_default_context(cafile=settings.smtp_ca_file or None)

    async def send(self, email: Email) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Message-ID"] = make_msgid(domain=self._host)
        message.set_content(email.body)
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._implicit_tls,
                start_tls=self._start_tls,
                tls_context=self._tls,
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailError(f"{type(exc).__name__}: {exc}") from exc


def mailer_for(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.smtp_url else NoMailer()
