"""Server-side sessions in Redis (Litestar's middleware) with the session id rotated on sign-in.

Litestar keeps the id from the incoming cookie; ``rotate`` deletes the old session and makes the
middleware store the new data under a fresh 256-bit id, so a planted session id is useless.
"""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.connection import ASGIConnection

from agentledger.platform.config import Settings

_FRESH_ID = "agentledger.fresh_session_id"


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection) -> str:
        fresh = connection.scope.get("state", {}).get(_FRESH_ID)
        return fresh or super().get_session_id(connection)


class SessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


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
