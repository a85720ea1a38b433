"""SMTP delivery of outbox rows: nothing lost, nothing doubled.

Each row is handed to SMTP under a short lease (``EMAIL_LEASE_SECONDS``), so two senders never send it
at once. A refused connection, a timeout, a dropped connection or a 4xx answer is temporary: the row keeps
the error, and its next try waits out an exponential backoff (the lease lasts until then, and the actor
re-sends itself with that delay). A 5xx answer to the message (its recipients, or its content after DATA) is
permanent: the row is failed with the server's words, for the Emails page. After ``MAX_ATTEMPTS``
temporary failures the row is failed too, and so is one still unsent ``GIVE_UP_AFTER`` its last try was
due (SMTP was down or not set up for days): each can be sent again from the Emails page.

If the sender dies after the server took the message but before the row says so, the lease runs out and
the sweep sends it again, with the ``Message-ID`` stored on the row: the reader's client folds the two.
Without SMTP settings, rows stay pending (the pages show invitation links instead)."""

from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, parseaddr
from typing import Any
from uuid import UUID

from agentledger.notifications import repository
from agentledger.platform.clock import now
from agentledger.platform.config import Settings, get_settings

MAX_ATTEMPTS = 8
GIVE_UP_AFTER = timedelta(days=3)
FIRST_BACKOFF, LAST_BACKOFF = 30.0, 3600.0  # seconds: 30 s, 1 min, 2 min … capped at an hour


# CRLF, and headers left whole up to SMTP's own line limit (a folded List-Unsubscribe reads back with a
# leading space in some clients)
WIRE = compat32.clone(linesep="\r\n", max_line_length=998)


def _header(value: str) -> str:
    if "\r" in value or "\n" in value:  # compat32 would write it through: a header injection
        raise ValueError("a header value holds a line break")
    return value


def build(settings: Settings, row: dict[str, Any]) -> Message:
    """The message as it goes on the wire, from the row alone (a resend is the same message). Built with
    ``email.mime`` (compat32): several times cheaper than ``EmailMessage`` (measured by bench/notify.py),
    and every header value is checked for line breaks here instead."""
    message = MIMEMultipart("alternative") if row["body_html"] else MIMEText(row["body_text"], "plain", "utf-8")
    message["From"] = _header(settings.mail_from)
    message["To"] = _header(row["to_email"])
    subject = _header(row["subject"])
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")  # plain when it can be
    message["Date"] = format_datetime(now())
    headers = row["headers"] if isinstance(row["headers"], dict) else json.loads(row["headers"] or "{}")
    for name, value in headers.items():
        message[_header(name)] = _header(value)
    if "Message-ID" not in headers and row.get("message_id"):  # queued before headers were stored
        message["Message-ID"] = _header(row["message_id"])
    if row["body_html"]:
        message.attach(MIMEText(row["body_text"], "plain", "utf-8"))
        message.attach(MIMEText(row["body_html"], "html", "utf-8"))
    return message


def _send(settings: Settings, message: Message) -> None:
    with smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        if settings.smtp_starttls:  # required when asked for: never fall back to plain text
            smtp.starttls(context=ssl.create_default_context(cafile=settings.smtp_ca_file))
            smtp.ehlo()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.sendmail(parseaddr(settings.mail_from)[1], [message["To"]], message.as_bytes(policy=WIRE))


def _answer(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}".strip()


def classify(error: Exception) -> tuple[bool, str]:
    """Whether the server's answer is permanent, and the words to keep. Only a 5xx about this message is:
    every recipient refused, or the message itself refused after DATA. A 5xx at connect, HELO, MAIL FROM,
    STARTTLS or login is about our settings or the relay: fixable, so retried like a 4xx."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = list(error.recipients.values())
        return all(code >= 500 for code, _ in answers), "; ".join(_answer(c, t) for c, t in answers)
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500, _answer(error.smtp_code, error.smtp_error)
    if isinstance(error, smtplib.SMTPResponseException):
        return False, _answer(error.smtp_code, error.smtp_error)
    return False, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def backoff(attempts: int) -> float:
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), LAST_BACKOFF)


@dataclass(frozen=True)
class Delivery:
    """What one try did: ``sent``, ``retry`` (``retry_in`` seconds), ``failed``, or ``skipped`` (another
    sender holds it, it is done, or there is no SMTP server configured)."""

    outcome: str
    retry_in: float | None = None
    error: str = ""

    @property
    def sent(self) -> bool:
        return self.outcome == "sent"


def lease() -> timedelta:
    return timedelta(seconds=get_settings().email_lease_seconds)


async def deliver(outbox_id: UUID) -> Delivery:
    """Send the row if it is due and no other sender holds it. Never raises for what the server said or
    for a network failure: the row records it (see the module's docstring)."""
    settings = get_settings()
    if not settings.smtp_host:
        return Delivery("skipped")
    row = await repository.claim(outbox_id, lease())
    if row is None:
        return Delivery("skipped")
    try:
        message = build(settings, row)
    except (ValueError, TypeError) as error:  # cannot be built now, nor next time
        await repository.record_failed(outbox_id, f"the message cannot be built: {error}", now())
        return Delivery("failed", error=str(error))
    try:
        await asyncio.to_thread(_send, settings, message)
    except (OSError, smtplib.SMTPException) as error:
        permanent, words = classify(error)
        attempts = row["attempts"] + 1
        if permanent or attempts >= MAX_ATTEMPTS:
            await repository.record_failed(outbox_id, words, now())
            return Delivery("failed", error=words)
        wait = backoff(attempts)
        await repository.record_retry(outbox_id, words, now() + timedelta(seconds=wait))
        return Delivery("retry", retry_in=wait, error=words)
    await repository.record_sent(outbox_id, now())
    return Delivery("sent")


async def stranded(older_than: timedelta = timedelta(minutes=5)) -> list[UUID]:
    """Unsent rows nobody is working on: never claimed and older than ``older_than`` (their job was lost,
    say Redis was down at commit), or whose lease ran out (a sender died, or the retry's job was lost).
    The sweep sends them again; the lease keeps each one single. Rows past ``GIVE_UP_AFTER`` are failed
    first, so none stays pending forever."""
    moment = now()
    await repository.give_up(moment - GIVE_UP_AFTER, moment)
    if not get_settings().smtp_host:
        return []
    return await repository.stranded(moment, older_than, GIVE_UP_AFTER)
