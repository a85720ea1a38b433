"""Server-side sessions in Redis (Litestar's middleware) with the session id rotated on sign-in.

Litestar keeps the id from the incoming cookie; ``rotate`` deletes the old session and makes the
middleware store the new data under a fresh 256-bit id, so a planted session id is useless.
"""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty, Receive, Scope, Send
from litestar.utils.dataclass import extract_dataclass_items

from agentledger.platform.config import Settings

_FRESH_ID = "agentledger.fresh_session_id"
_LOADED = "agentledger.loaded_session"


class RotatingSessionBackend(ServerSideSessionBackend):
    """Litestar's backend, plus: a fresh id on sign-in, and no Redis write or cookie for requests whose
    session is empty or unchanged (anonymous pages, bearer-token API calls)."""

    def get_session_id(self, connection: ASGIConnection) -> str:
        fresh = connection.scope.get("state", {}).get(_FRESH_ID)
        return fresh or super().get_session_id(connection)

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope.setdefault("state", {})[_LOADED] = dict(data)
        return data

    async def store_in_message(self, scope_session: Any, message: Any, connection: ASGIConnection) -> None:
        state = connection.scope.get("state", {})
        loaded = state.get(_LOADED)
        if not state.get(_FRESH_ID):
            if not scope_session and not loaded:
                return  # nothing was or is stored: no session to create
            if scope_session and scope_session == loaded:
                self._refresh_cookie(message, connection)  # unchanged: Redis already renewed it on read
                return
        await super().store_in_message(scope_session or Empty, message, connection)

    def _refresh_cookie(self, message: Any, connection: ASGIConnection) -> None:
        """Re-send the cookie (no Redis write) so its Max-Age counts from the last use, not the sign-in."""
        params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        cookie = Cookie(value=self.get_session_id(connection), key=self.config.key, **params)
        MutableScopeHeaders.from_message(message).add("Set-Cookie", cookie.to_header(header=""))


class BearerSkippingSessionMiddleware(SessionMiddleware):
    """Requests that authenticate with a bearer token never use a session: skip the session work."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and any(
            key == b"authorization" and value[:7].lower() == b"bearer " for key, value in scope["headers"]
        ):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class SessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend

    @property
    def middleware(self) -> DefineMiddleware:
        return DefineMiddleware(BearerSkippingSessionMiddleware, backend=self._backend_class(config=self))


def session_config(settings: Settings) -> SessionConfig:
    secure = settings.secure_cookies
    return SessionConfig(
        store="sessions",
        key="__Host-session" if secure else "session",
        secure=secure,
        httponly=True,
        samesite="lax",
        path="/",
        max_age=settings.session_max_age,
        renew_on_access=True,
    )


async def rotate(request: Request, data: dict[str, Any]) -> None:
    """Start a new session (new id) holding ``data``; the previous one is deleted."""
    config: SessionConfig = request.app.state.session_config
    old = request.cookies.get(config.key)
    if old:
        await config.get_store_from_app(request.app).delete(old)
    request.scope.setdefault("state", {})[_FRESH_ID] = secrets.token_hex(32)
    request.set_session(data)
