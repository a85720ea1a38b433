"""SMTP delivery of outbox rows, each sent once under a short lease. Without SMTP settings, rows stay
pending (the pages show invitation links instead)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from uuid import UUID

from agentledger.notifications import repository
from agentledger.platform.clock import now
from agentledger.platform.config import Settings, get_settings


def _send(settings: Settings, to: str, subject: str, text: str, html: str) -> None:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    with smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        if settings.smtp_starttls:  # required when asked for: never fall back to plain text
            smtp.starttls(context=ssl.create_default_context(cafile=settings.smtp_ca_file))
            smtp.ehlo()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(message)


LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
GIVE_UP_AFTER = timedelta(days=3)


async def deliver(outbox_id: UUID) -> bool:
    """Send the row if it is unsent and no other sender holds it; True when it went out. Failures are kept
    on the row and re-raised so the worker retries; a message that cannot be built is not retried."""
    settings = get_settings()
    if not settings.smtp_host:
        return False
    row = await repository.claim(outbox_id, LEASE)
    if row is None:
        return False
    try:
        await asyncio.to_thread(_send, settings, row["to_email"], row["subject"], row["body_text"], row["body_html"])
    except (OSError, smtplib.SMTPException, ValueError) as error:
        await repository.record_failure(outbox_id, str(error))
        if isinstance(error, ValueError):  # a message that cannot be built will not build next time either
            return False
        raise
    await repository.record_sent(outbox_id, now())
    return True


async def stranded(older_than: timedelta = timedelta(minutes=5)) -> list[UUID]:
    """Unsent rows whose delivery job was lost (say Redis was down at commit): the sweep sends them again."""
    if not get_settings().smtp_host:
        return []
    return await repository.stranded(now(), older_than, GIVE_UP_AFTER, MAX_ATTEMPTS)
