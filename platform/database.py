"""The database engine and the unit of work.

``atomic()`` is the only way code opens a transaction. The outermost caller (a web handler or an
actor) owns it; services only join. Work registered with ``on_commit`` (enqueueing jobs) runs after
the commit succeeds and is dropped on rollback, so a worker never starts on a row that does not exist.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

os.environ.setdefault("PICCOLO_CONF", "agentledger.platform.piccolo_conf")

from piccolo.engine import engine_finder  # noqa: E402
from piccolo.engine.postgres import PostgresEngine  # noqa: E402

log = logging.getLogger("agentledger.database")
AfterCommit = Callable[[], None] | Callable[[], Awaitable[None]]
_after_commit: ContextVar[list[AfterCommit] | None] = ContextVar("after_commit", default=None)


_engine: PostgresEngine | None = None


def db() -> PostgresEngine:
    """The configured engine, looked up once (Piccolo's finder re-reads the conf module on every call,
    and this runs on every query of the request path)."""
    global _engine
    if _engine is None:
        engine = engine_finder()
        assert isinstance(engine, PostgresEngine)
        _engine = engine
    return _engine


@asynccontextmanager
async def duplicates_conflict(message: str, field: str | None = None) -> AsyncIterator[None]:
    """Turn a unique-constraint violation (two requests racing to create the same thing) into a 409."""
    from asyncpg.exceptions import UniqueViolationError

    from agentledger.platform.errors import Conflict

    try:
        yield
    except UniqueViolationError:
        raise Conflict(message, field=field) from None


@asynccontextmanager
async def atomic() -> AsyncIterator[None]:
    """Open a transaction, or join the one already open in this task."""
    if _after_commit.get() is not None:
        yield
        return
    callbacks: list[AfterCommit] = []
    token = _after_commit.set(callbacks)
    try:
        async with db().transaction():
            yield
    except BaseException:
        callbacks.clear()  # dropped on rollback
        raise
    finally:
        _after_commit.reset(token)
    # emptied before they run: a context copied during the transaction (asyncpg's statement-cache timer
    # keeps one for minutes) must not keep this transaction's hooks and what they hold alive
    pending, callbacks[:] = list(callbacks), []
    for callback in pending:
        try:
            result = callback()
            if inspect.isawaitable(result):
                await result
        except Exception:  # noqa: BLE001 - the change is committed; a lost hook must not hide that
            log.exception("an after-commit hook failed")


def on_commit(callback: AfterCommit) -> Awaitable[None] | None:
    """Run ``callback`` (plain or async) once the current transaction commits. Outside a transaction it
    runs now; an async callback's awaitable is then returned for the caller to await."""
    pending = _after_commit.get()
    if pending is None:
        return callback()
    pending.append(callback)
    return None


_numbered: dict[str, str] = {}


def _numbered_placeholders(sql: str) -> str:
    """``{}`` placeholders (Piccolo's style) as PostgreSQL's ``$1, $2, …``; cached per statement."""
    numbered = _numbered.get(sql)
    if numbered is None:
        head, *rest = sql.split("{}")
        numbered = _numbered[sql] = head + "".join(f"${i}{part}" for i, part in enumerate(rest, 1))
    return numbered


_relaxed_pool: Any = None
_relaxed_lock: asyncio.Lock | None = None
WEB = "agentledger-web"
"""The web tier's sessions carry this ``application_name``: background work (a retention pass) looks for
them in ``pg_stat_activity`` to learn whether people are being served right now."""
_application = "agentledger"


def in_transaction() -> bool:
    return _after_commit.get() is not None


async def _relaxed() -> Any:
    """Connections with ``synchronous_commit = off``: a commit does not wait for the disk. For progress
    records (steps, log lines, items, heartbeats) whose loss in a database crash costs nothing that
    matters; money and state transitions never go through here."""
    global _relaxed_pool, _relaxed_lock
    _relaxed_lock = _relaxed_lock or asyncio.Lock()
    async with _relaxed_lock:  # one pool, however many first callers arrive at once
        if _relaxed_pool is None:
            import asyncpg

            _relaxed_pool = await asyncpg.create_pool(
                db().config["dsn"], min_size=1, max_size=4, reset=_keep_session,
                server_settings={"synchronous_commit": "off", "application_name": _application})
    return _relaxed_pool


async def fetch(sql: str, *args: Any, durable: bool = True) -> list[dict[str, Any]]:
    """Raw SQL for guarded updates, locks and the hot read paths, inside the open transaction if any.

    Goes straight to asyncpg (prepared statements, no query building): the request-path queries of
    authentication run through here. ``durable=False`` (outside a transaction) commits without waiting
    for the disk; see ``_relaxed``."""
    rows = await records(sql, *args, durable=durable)
    if not rows:
        return []
    keys = tuple(rows[0].keys())  # the names once for all rows: two to three times faster than dict(row)
    return [dict(zip(keys, row.values(), strict=True)) for row in rows]


async def records(sql: str, *args: Any, durable: bool = True) -> list[Any]:
    """``fetch`` without the copy into dicts: asyncpg's read-only records, for the run list, which reads
    its rows by position (``row[0]``; by name, ``row["id"]``, is slower than a dict's)."""
    engine = db()
    query = _numbered_placeholders(sql)
    transaction = engine.current_transaction.get()
    if transaction is not None:
        return await transaction.connection.fetch(query, *args)
    if not durable:
        async with (await _relaxed()).acquire() as connection:
            return await connection.fetch(query, *args)
    if engine.pool is not None:
        async with engine.pool.acquire() as connection:
            return await connection.fetch(query, *args)
    connection = await engine.get_new_connection()
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


async def _keep_session(connection: Any) -> None:
    """Pool release hook: skip asyncpg's default reset (one more round trip per query). Nothing here
    sets session state on pooled connections: no SET, LISTEN or session advisory locks."""


async def start_pool(max_size: int = 10, application: str = "agentledger") -> None:
    """The process's pool; ``application`` names its sessions (``WEB`` for the web tier)."""
    global _application
    if getattr(db(), "pool", None) is None:
        _application = application
        await db().start_connection_pool(min_size=1, max_size=max_size, reset=_keep_session,
                                         server_settings={"application_name": application})


async def close_pool() -> None:
    global _relaxed_pool, _relaxed_lock
    await db().close_connection_pool()
    if _relaxed_pool is not None:
        await _relaxed_pool.close()
        _relaxed_pool = _relaxed_lock = None
