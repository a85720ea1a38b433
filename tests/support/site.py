"""A small real HTTP site on 127.0.0.1 for agents to check: /ok, /missing (404), /slow?ms=N, /boom (500)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
        parts = urlsplit(self.path)
        if parts.path == "/slow":
            time.sleep(int(parse_qs(parts.query).get("ms", ["500"])[0]) / 1000)
        status = {"/missing": 404, "/boom": 500}.get(parts.path, 200)
        body = f"<html><title>{parts.path}</title></html>".encode()
        self.send_response(status)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
