"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""

from __future__ import annotations

import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from agentledger.platform.embedded import free_port


class Inbox:
    """What the server received. ``mail_answer`` is its reply to MAIL FROM, ``answer`` its reply to DATA (``"451 4.3.0 Try later"`` to refuse for
    now, ``"550 5.1.1 No such user"`` for good: a refused message is not kept); ``on_data`` runs when a
    message arrives, before the server answers (the crash test kills the sender there)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # as they came over the wire
        self.encrypted: list[bool] = []
        self.answer = "250 OK"
        self.mail_answer = "250 OK"  # to MAIL FROM: a 5xx there is about the sender's setup, not the message
        self.on_data = None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 - aiosmtpd's hook
        if not self.mail_answer.startswith("250"):
            return self.mail_answer
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if not self.answer.startswith("250"):
            return self.answer
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.raw.append(envelope.content)
        self.encrypted.append(session.ssl is not None)
        if self.on_data is not None:
            self.on_data(self.messages[-1])
        return self.answer

    def wait_for(self, count: int = 1, timeout: float = 30.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(self.messages) >= count, f"expected {count} emails, got {len(self.messages)}"
        return self.messages


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made with openssl, to act as the SMTP server's private CA."""
    cert, key = folder / "smtp.crt", folder / "smtp.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@contextmanager
def smtp_server(tls: tuple[Path, Path] | None = None) -> Iterator[tuple[Inbox, int]]:
    """With ``tls`` (cert, key) the server offers STARTTLS and refuses mail without it."""
    inbox = Inbox()
    port = free_port()
    options = {}
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls)
        options = {"tls_context": context, "require_starttls": True}
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
