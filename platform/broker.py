"""The Dramatiq broker on Redis, and ``enqueue``, which sends only after the transaction commits.

Actors are declared with ``@task``: async functions run on Dramatiq's event-loop thread with the
database pool started on first use.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec

import dramatiq
import uvloop
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO

from agentledger.platform.config import get_settings
from agentledger.platform.database import in_transaction, on_commit, start_pool
from agentledger.platform.waking_broker import WakingRedisBroker

P = ParamSpec("P")


class UvloopAsyncIO(AsyncIO):
    """Dramatiq's event-loop thread on uvloop, as the web tier runs: a run's database and Redis round
    trips cost the worker less CPU than on the default loop."""

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # a worker process runs only this loop
        super().before_worker_boot(broker, worker)


def _make_broker() -> RedisBroker:
    settings = get_settings()  # a worker silent on Redis this long is dead: its messages go back (maintenance)
    broker = WakingRedisBroker(url=settings.redis_url,
                               heartbeat_timeout=round(settings.worker_heartbeat_timeout_seconds * 1000))
    broker.add_middleware(UvloopAsyncIO())
    return broker


broker = _make_broker()
dramatiq.set_broker(broker)
_pool_lock: asyncio.Lock | None = None


async def ensure_pool() -> None:
    global _pool_lock
    _pool_lock = _pool_lock or asyncio.Lock()
    async with _pool_lock:
        await start_pool(max_size=8)


def task(**options: Any) -> Callable[[Callable[P, Awaitable[Any]]], dramatiq.Actor]:
    """Declare an async actor; ``options`` go to ``dramatiq.actor`` (queue_name, max_retries, ...)."""

    def decorate(fn: Callable[P, Awaitable[Any]]) -> dramatiq.Actor:
        @functools.wraps(fn)
        async def run(*args: P.args, **kwargs: P.kwargs) -> Any:
            await ensure_pool()
            return await fn(*args, **kwargs)

        @functools.wraps(fn)
        async def on_worker(*args: P.args, **kwargs: P.kwargs) -> None:
            await run(*args, **kwargs)  # the answer is for run_here; a worker keeps no results (no warning)

        actor = dramatiq.actor(on_worker, actor_name=options.pop("actor_name", fn.__name__), **options)
        actor.run_here = run  # awaitable in this process, for tests and callers that must not queue
        return actor

    return decorate


async def _send(message: dramatiq.Message) -> None:
    """The Redis round trip happens on a thread: the request's event loop keeps serving others."""
    await asyncio.to_thread(broker.enqueue, message)


def _after_commit(message: dramatiq.Message) -> None:
    if in_transaction():
        on_commit(lambda: _send(message))
    else:  # nothing to wait for: send now
        broker.enqueue(message)


def enqueue_by_name(actor_name: str, queue_name: str, *args: Any) -> None:
    """Like ``enqueue``, for a layer that must not import the actor's module (platform → agents)."""
    _after_commit(dramatiq.Message(queue_name=queue_name, actor_name=actor_name, args=args, kwargs={}, options={}))


def enqueue(actor: dramatiq.Actor, *args: Any, **kwargs: Any) -> None:
    """Send ``actor(*args)`` once the current transaction commits; nothing is sent on rollback."""
    _after_commit(actor.message(*args, **kwargs))
