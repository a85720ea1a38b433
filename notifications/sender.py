"""SMTP delivery of one outbox row. Without SMTP settings, rows stay pending (the UI shows links)."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from uuid import UUID

from agentledger.notifications.tables import EmailOutbox
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
        if settings.smtp_starttls and smtp.has_extn("starttls"):
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(message)


async def deliver(outbox_id: UUID) -> bool:
    """Send the row if it is still unsent; True when it went out. Errors are kept on the row and re-raised
    so the worker retries."""
    settings = get_settings()
    if not settings.smtp_host:
        return False
    row = await EmailOutbox.select().where((EmailOutbox.id == outbox_id) & EmailOutbox.sent_at.is_null()).first()
    if row is None:
        return False
    try:
        await asyncio.to_thread(_send, settings, row["to_email"], row["subject"], row["body_text"], row["body_html"])
    except (OSError, smtplib.SMTPException) as error:
        await EmailOutbox.update({EmailOutbox.attempts: EmailOutbox.attempts + 1,
                                  EmailOutbox.last_error: str(error)[:500]}).where(EmailOutbox.id == outbox_id)
        raise
    await EmailOutbox.update({EmailOutbox.sent_at: now(), EmailOutbox.attempts: EmailOutbox.attempts + 1,
                              EmailOutbox.last_error: None}).where(EmailOutbox.id == outbox_id)
    return True
