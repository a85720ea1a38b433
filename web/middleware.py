"""Two small ASGI guards: CSRF that lets bearer-token API calls through, and JSON-only API bodies."""

from __future__ import annotations

import json
from typing import Any

from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


class BearerAwareCSRFMiddleware(CSRFMiddleware):
    """Cookie-authenticated writes need the CSRF token. API calls without a session cookie carry no
    ambient credentials (a bearer token is itself the proof of intent; browsers never attach it on
    their own), so they skip the check and meet the API's own 401 when unauthenticated. Page forms
    always need it, sign-in included (no forced sign-in into someone else's account)."""

    def __init__(self, app: ASGIApp, config: Any, session_cookie: str) -> None:
        super().__init__(app, config)
        self.session_cookie = session_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/") and (
            _header(scope, b"authorization").lower().startswith("bearer ")
            or f"{self.session_cookie}=" not in _header(scope, b"cookie")
        ):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class JsonBodyMiddleware:
    """API writes with a body must say ``Content-Type: application/json``; anything else is a 415."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith("/api/")
            and scope["method"] in _BODY_METHODS
            and (_header(scope, b"content-length") not in ("", "0") or _header(scope, b"transfer-encoding"))
            and not _header(scope, b"content-type").split(";")[0].strip().lower().endswith("json")
        ):
            body = json.dumps({"error": "unsupported_media_type", "field": None,
                               "message": "send the body as JSON with 'Content-Type: application/json'"}).encode()
            await send({"type": "http.response.start", "status": 415,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


class SecurityHeadersMiddleware:
    """Headers for every response; pages (not the API docs, which load their own viewer) get a strict CSP:
    scripts only from our origin, so markup injected into a page cannot run."""

    def __init__(self, app: ASGIApp, form_targets: str = "") -> None:
        self.app = app
        self.policy = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'{form_targets}"
        ).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        strict = not scope["path"].startswith("/api/v1/schema")

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY")]
                if not any(name == b"referrer-policy" for name, _ in headers):  # a stricter one of the page wins
                    headers.append((b"referrer-policy", b"same-origin"))
                if strict and not any(name == b"content-security-policy" for name, _ in headers):  # own policy wins
                    headers.append((b"content-security-policy", self.policy))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
