"""Small request guards: CSRF that lets bearer-token API calls through and security headers (ASGI
middleware, for every response), then, once the route is known and the caller authenticated, JSON-only
API bodies and no unknown query parameters on API reads (Litestar guards, registered in ``app.py``
after ``auth.api_caller_first``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from agentledger.platform.errors import Invalid, UnsupportedMediaType
from agentledger.web.auth import is_api

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


def json_bodies_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard: API writes with a body must say ``Content-Type: application/json``; anything else is a 415
    (after ``auth.api_caller_first``: nobody gets a 401 first, whatever they sent)."""
    headers = connection.headers
    if (
        is_api(connection)
        and connection.scope["method"] in _BODY_METHODS
        and (headers.get("content-length", "") not in ("", "0") or headers.get("transfer-encoding"))
        and not headers.get("content-type", "").split(";")[0].strip().lower().endswith("json")
    ):
        raise UnsupportedMediaType("send the body as JSON with 'Content-Type: application/json'")


def declared_query(handler: BaseRouteHandler, path_params: Iterable[str]) -> frozenset[str]:
    """The query names a handler takes, as Litestar itself reads them: its own parameters (by their
    ``query=`` alias) and those of its dependencies. Worked out once per handler and kept in its ``opt``
    (shared by the copies guards are given)."""
    known: dict[tuple[str, ...], frozenset[str]] = handler.opt.setdefault("agentledger.query_names", {})
    key = tuple(sorted(path_params))
    if key not in known:
        model = handler.create_kwargs_model(dict.fromkeys(key))  # type: ignore[arg-type]  # only keys are read
        providers = handler.resolve_dependencies()  # Litestar lists injected names among the query ones
        known[key] = frozenset(p.field_alias for p in model.expected_query_params if p.field_name not in providers)
    return known[key]


def known_query_only(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Guard: a query parameter an API read does not declare (``?stauts=failed``) is a 422 naming it,
    not a filter silently dropped. Pages keep ignoring what they do not use (links from mail carry tags)."""
    if connection.scope["method"] != "GET" or not is_api(connection):
        return
    declared = declared_query(handler, connection.scope.get("path_params") or {})
    for name, _ in parse_qsl(connection.scope["query_string"].decode("latin-1"), keep_blank_values=True):
        if name not in declared:  # in the order sent (Litestar's parsed query keeps no order)
            raise Invalid(f"unknown query parameter '{name}'", field=name)


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
                own = next((value for name, value in headers if name == b"content-security-policy"), b"")
                # only a response whose own policy lets our pages frame it (an email shown on the Emails page)
                framing = b"SAMEORIGIN" if b"frame-ancestors 'self'" in own else b"DENY"
                headers += [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", framing)]
                if not any(name == b"referrer-policy" for name, _ in headers):  # a stricter one of the page wins
                    headers.append((b"referrer-policy", b"same-origin"))
                if strict and not any(name == b"content-security-policy" for name, _ in headers):  # own policy wins
                    headers.append((b"content-security-policy", self.policy))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class ExactAllowMiddleware:
    """``OPTIONS`` answers ``Allow`` with every method of the path. Litestar's own answer lists the methods
    of the route object its OPTIONS handler was made for, and routes merged later for the same path (GET
    and POST of one collection) are missing from it ("Allow: OPTIONS, POST" for a path that lists too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if scope["type"] != "http" or scope["method"] != "OPTIONS" or handler is None:
            await self.app(scope, receive, send)
            return
        methods = _methods(scope["litestar_app"])
        allow = sorted({m for path in handler.paths for m in methods.get(path, ())})

        async def exact(message: Any) -> None:
            if message["type"] == "http.response.start" and allow:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", ", ".join(allow).encode())]}
            await send(message)

        await self.app(scope, receive, exact)


def _methods(app: Any) -> dict[str, frozenset[str]]:
    """Every path's methods, worked out once per app (the routes are fixed once it starts)."""
    known = app.state.get("agentledger.methods")
    if known is None:
        known = {}
        for route in app.routes:
            if hasattr(route, "methods"):
                known[route.path] = frozenset(known.get(route.path, frozenset()) | set(route.methods))
        app.state["agentledger.methods"] = known
    return known
