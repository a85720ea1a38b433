"""Server-side sessions in Redis (Litestar's middleware) with the session id rotated on sign-in, and an
index of each person's sessions for the account page.

Litestar keeps the id from the incoming cookie; ``rotate`` deletes the old session and makes the
middleware store the new data under a fresh 256-bit id, so a planted session id is useless.

The index is one Redis hash per account (``account-sessions:<user id>``): session id -> when it was last
seen and from which address. Sign-in (``rotate``) adds to it, sign-out and ending a session remove from
it, and a signed-in request refreshes its entry at most every ``SEEN_EVERY`` seconds per process (and
adds sessions that predate the index). Entries whose session expired or belongs to an ended epoch are
dropped when the list is read. The index only lists and ends sessions: whether one is valid stays the
session epoch's job (``web.auth``), so a lost index entry can hide a session but never keep one alive.
The session itself holds when it started and the browser's user agent.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.types import Empty, Receive, Scope, Send
from litestar.utils.dataclass import extract_dataclass_items

from agentledger.platform.config import Settings
from agentledger.platform.redis import get_redis

_FRESH_ID = "agentledger.fresh_session_id"
_LOADED = "agentledger.loaded_session"
SEEN_EVERY = 300  # seconds between "last seen" writes for one session, per process
_AGENT_LENGTH = 300
_last_written: dict[str, float] = {}  # session id -> monotonic time of this process's last index write


def _index_key(user_id: str) -> str:
    return f"account-sessions:{user_id}"


def _address(connection: ASGIConnection) -> str:
    return connection.client.host if connection.client else ""


def session_handle(session_id: str) -> str:
    """Names a session in pages and forms without revealing its id (which is the credential)."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:32]


async def _index(connection: ASGIConnection, user_id: str, session_id: str, max_age: int) -> None:
    entry = json.dumps({"seen": time.time(), "address": _address(connection)})
    async with get_redis().pipeline(transaction=True) as pipe:
        pipe.hset(_index_key(user_id), session_id, entry)
        pipe.expire(_index_key(user_id), max_age + SEEN_EVERY)  # outlives the sessions it lists
        await pipe.execute()
    if len(_last_written) > 50_000:
        _last_written.clear()
    _last_written[session_id] = time.monotonic()


async def _unindex(user_id: str, *session_ids: str) -> None:
    if session_ids:
        await get_redis().hdel(_index_key(user_id), *session_ids)
    for session_id in session_ids:
        _last_written.pop(session_id, None)


class RotatingSessionBackend(ServerSideSessionBackend):
    """Litestar's backend, plus: a fresh id on sign-in, no Redis write or cookie for requests whose session
    is empty or unchanged (anonymous pages, bearer-token API calls), and the per-account index."""

    def get_session_id(self, connection: ASGIConnection) -> str:
        fresh = connection.scope.get("state", {}).get(_FRESH_ID)
        return fresh or super().get_session_id(connection)

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope.setdefault("state", {})[_LOADED] = dict(data)
        session_id = connection.cookies.get(self.config.key)
        if data.get("uid") and session_id:
            last = _last_written.get(session_id)
            if last is None or time.monotonic() - last > SEEN_EVERY:
                await _index(connection, data["uid"], session_id, self.config.max_age)
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
            if not scope_session and loaded.get("uid"):  # signed out (or found stale): off the index
                await _unindex(loaded["uid"], self.get_session_id(connection))
        if scope_session is Empty or not scope_session:
            await self._end(message, connection)
            return
        await super().store_in_message(scope_session, message, connection)

    async def _end(self, message: Any, connection: ASGIConnection) -> None:
        """Delete the session and its cookie: ``Max-Age=0`` (Litestar's own keeps the configured Max-Age
        beside ``expires``, and browsers that honour Max-Age kept a dead cookie for 14 days)."""
        await self.delete(self.get_session_id(connection), store=self.config.get_store_from_app(connection.scope["app"]))
        params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        params.update(max_age=0, expires=0)
        MutableScopeHeaders.from_message(message).add(
            "Set-Cookie", Cookie(value="", key=self.config.key, **params).to_header(header=""))

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


def _config(request: Request) -> SessionConfig:
    return request.app.state.session_config


def _store(request: Request) -> Store:
    return _config(request).get_store_from_app(request.app)


def current_session_id(request: Request) -> str | None:
    """This browser's session id: the one started in this request, else the cookie's."""
    return request.scope.get("state", {}).get(_FRESH_ID) or request.cookies.get(_config(request).key)


async def rotate(request: Request, data: dict[str, Any]) -> None:
    """Start a new session (new id) holding ``data``; the previous one is deleted. ``data`` that carries
    ``started`` and ``agent`` (a session re-started after a password change) keeps them."""
    config = _config(request)
    old = current_session_id(request)
    if old:
        await _store(request).delete(old)
        previous = request.scope.get("session") or {}
        if previous.get("uid"):
            await _unindex(previous["uid"], old)
    fresh = secrets.token_hex(32)
    request.scope.setdefault("state", {})[_FRESH_ID] = fresh
    request.set_session({"started": time.time(), "agent": request.headers.get("user-agent", "")[:_AGENT_LENGTH],
                         **data})
    if data.get("uid"):  # a signed-in person's session is listed on their Account page; a link visitor's is not
        await _index(request, data["uid"], fresh, config.max_age)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    handle: str
    started: datetime | None
    seen: datetime | None
    agent: str
    address: str
    current: bool

    @property
    def device(self) -> str:
        return describe_agent(self.agent)


def _moment(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else None


async def _live_sessions(request: Request, user_id: str, epoch: int) -> list[tuple[str, dict, dict]]:
    """(id, session data, index entry) of the person's sessions that still work; the others leave the index."""
    store, entries = _store(request), await get_redis().hgetall(_index_key(user_id))
    live, dead = [], []
    for raw_id, raw_entry in entries.items():
        session_id = raw_id.decode()
        raw = await store.get(session_id)
        data = json.loads(raw) if raw else {}
        if data.get("uid") == user_id and data.get("epoch") == epoch:
            live.append((session_id, data, json.loads(raw_entry)))
        else:
            dead.append(session_id)
    await _unindex(user_id, *dead)
    return live


async def list_sessions(request: Request, user_id: str, epoch: int) -> list[SessionInfo]:
    """The person's signed-in sessions, this browser's first, then the most recently seen."""
    current = current_session_id(request)
    found = [
        SessionInfo(session_handle(session_id), _moment(data.get("started")), _moment(entry.get("seen")),
                    str(data.get("agent") or ""), str(entry.get("address") or ""), session_id == current)
        for session_id, data, entry in await _live_sessions(request, user_id, epoch)
    ]
    moment_zero = datetime.min.replace(tzinfo=UTC)
    return sorted(found, key=lambda s: (not s.current, -(s.seen or moment_zero).timestamp()))


async def end_session(request: Request, user_id: str, epoch: int, handle: str) -> bool:
    """Sign out one of the person's other sessions by its handle; False when there is no such session."""
    current = current_session_id(request)
    for session_id, _, _ in await _live_sessions(request, user_id, epoch):
        if session_handle(session_id) == handle and session_id != current:
            await _store(request).delete(session_id)
            await _unindex(user_id, session_id)
            return True
    return False


async def forget_sessions(request: Request, user_id: str, *, keep_current: bool) -> None:
    """Delete the person's indexed sessions (all, or all but this browser's) after their epoch was bumped:
    they are already void; this frees them in Redis and empties the list."""
    current = current_session_id(request) if keep_current else None
    doomed = [i.decode() for i in await get_redis().hkeys(_index_key(user_id)) if i.decode() != current]
    for session_id in doomed:
        await _store(request).delete(session_id)
    await _unindex(user_id, *doomed)


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
             ("Safari/", "Safari"), ("curl/", "curl"), ("python-httpx/", "a script (httpx)"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def describe_agent(agent: str) -> str:
    """'Chrome on Linux' from a user agent, enough to tell one's own devices apart."""
    browser = next((name for marker, name in _BROWSERS if marker in agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"
