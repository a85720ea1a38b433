"""The database engine and the unit of work.

``atomic()`` is the only way code opens a transaction. The outermost caller (a web handler or an
actor) owns it; services only join. Work registered with ``on_commit`` (enqueueing jobs) runs after
the commit succeeds and is dropped on rollback, so a worker never starts on a row that does not exist.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

os.environ.setdefault("PICCOLO_CONF", "agentledger.platform.piccolo_conf")

from piccolo.engine import engine_finder  # noqa: E402
from piccolo.engine.postgres import PostgresEngine  # noqa: E402

_after_commit: ContextVar[list[Callable[[], None]] | None] = ContextVar("after_commit", default=None)


def db() -> PostgresEngine:
    engine = engine_finder()
    assert isinstance(engine, PostgresEngine)
    return engine


@asynccontextmanager
async def atomic() -> AsyncIterator[None]:
    """Open a transaction, or join the one already open in this task."""
    if _after_commit.get() is not None:
        yield
        return
    callbacks: list[Callable[[], None]] = []
    token = _after_commit.set(callbacks)
    try:
        async with db().transaction():
            yield
    finally:
        _after_commit.reset(token)
    for callback in callbacks:
        callback()


def on_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current transaction commits (now, if there is none)."""
    pending = _after_commit.get()
    if pending is None:
        callback()
    else:
        pending.append(callback)


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Raw SQL for the few statements the query builder cannot express (guarded updates, locks)."""
    return await db().run_querystring(_querystring(sql, args))


def _querystring(sql: str, args: tuple[Any, ...]) -> Any:
    from piccolo.querystring import QueryString

    return QueryString(sql, *args)


async def start_pool(max_size: int = 10) -> None:
    if getattr(db(), "pool", None) is None:
        await db().start_connection_pool(min_size=1, max_size=max_size)


async def close_pool() -> None:
    await db().close_connection_pool()
