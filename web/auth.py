"""Who is calling: a session cookie (pages and API) or ``Authorization: Bearer <token>`` (API).

``current_principal`` resolves it once per request; ``require_principal`` answers 401 without one;
``workspace_scope`` turns the ``{ws}`` path parameter into the caller's ``Scope`` (404 if not a member).
``api_caller_first`` is the app's first guard: it asks for a caller on every API route before Litestar
reads a parameter, so nobody learns what a route would take before they say who they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath

from agentledger.platform import accounts, tokens
from agentledger.platform.errors import NotAuthenticated, NotFound
from agentledger.platform.scoping import Scope, resolve_scope

_STATE_KEY = "agentledger.principal"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: UUID
    email: str
    name: str
    token_scope: Scope | None = None  # set when the caller used an API token: its only workspace
    token_id: UUID | None = None  # that token (runs it starts name it)

    @property
    def via_token(self) -> bool:
        return self.token_scope is not None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def current_principal(request: Request) -> Principal | None:
    state = request.scope.setdefault("state", {})
    if _STATE_KEY in state:
        return state[_STATE_KEY]
    principal = await _resolve(request)
    state[_STATE_KEY] = principal
    return principal


async def _resolve(request: Request) -> Principal | None:
    token = bearer_token(request)
    if token is not None:
        grant = await tokens.authenticate_token(token)
        if grant is None:
            raise NotAuthenticated("the API token is invalid or revoked; create a new one under API tokens")
        return Principal(grant.scope.user_id, grant.email, grant.name, grant.scope, grant.token_id)
    session: dict[str, Any] = request.scope.get("session") or {}
    if not session.get("uid"):
        return None
    account = await accounts.get_active(UUID(session["uid"]))
    if account is None or account.session_epoch != session.get("epoch"):
        request.clear_session()  # signed out elsewhere, removed from a workspace, or deactivated
        return None
    return Principal(account.id, account.email, account.name)


async def require_principal(request: Request) -> Principal:
    principal = await current_principal(request)
    if principal is None:
        raise NotAuthenticated("sign in first, or send 'Authorization: Bearer <API token>'")
    return principal


def is_api(connection: ASGIConnection) -> bool:
    """An ``/api/`` route other than the API reference (``/api/v1/schema/…``, open to everyone)."""
    path: str = connection.scope["path"]
    docs = connection.app.openapi_config.path if connection.app.openapi_config else None
    return path.startswith("/api/") and not (docs and (path == docs or path.startswith(docs + "/")))


async def api_caller_first(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard: 401 for an API call without a valid session or token. Guards run before Litestar reads
    the query, the path's typed values or the body (a missing ``format`` is otherwise a 422 first)."""
    if is_api(connection):
        await require_principal(connection)  # type: ignore[arg-type]  # an HTTP connection is a Request


async def workspace_scope(ws: FromPath[str], request: Request) -> Scope:
    principal = await require_principal(request)
    if principal.token_scope is not None:  # a token acts in its own workspace only
        if principal.token_scope.workspace_slug != ws:
            raise NotFound(f"workspace '{ws}' not found")
        return principal.token_scope
    return await resolve_scope(ws, principal.user_id)


SignedIn = NamedDependency[Principal]
"""Handler parameter ``principal: SignedIn``: the authenticated caller (401 without one)."""
Caller = NamedDependency[Scope]
"""Handler parameter ``caller: Caller``: the caller's scope in the ``{ws}`` workspace (404 if not a member)."""

dependencies = {
    "principal": Provide(require_principal),
    "caller": Provide(workspace_scope),
}
