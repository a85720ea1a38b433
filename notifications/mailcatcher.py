"""The demo's SMTP server: an aiosmtpd server on 127.0.0.1 that accepts every message and keeps it as an
``.eml`` file, so the demo's mail is really delivered (the Emails page shows it sent) and can be opened
in any mail client. ``./run demo`` starts it when ``SMTP_HOST`` is unset; production uses a real server."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class Keeper:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{time.monotonic_ns() % 10**9:09d}.eml"
        path = self.folder / name
        path.write_bytes(envelope.original_content or envelope.content)
        path.chmod(0o600)
        return "250 OK: kept"


def serve(host: str, port: int, folder: Path) -> None:
    """Until SIGINT or SIGTERM."""
    controller = Controller(Keeper(folder), hostname=host, port=port)
    controller.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        controller.stop()
