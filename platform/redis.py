"""Redis clients from REDIS_URL: one asyncio client per event loop, one synchronous client per process."""

from __future__ import annotations

import asyncio
from functools import lru_cache

import redis
from redis.asyncio import Redis

from agentledger.platform.config import get_settings

_clients: dict[int, Redis] = {}


@lru_cache(maxsize=1)
def sync_redis() -> redis.Redis:
    """For the few synchronous callers (after-commit hooks)."""
    return redis.Redis.from_url(get_settings().redis_url)


def get_redis() -> Redis:
    loop_id = id(asyncio.get_running_loop())
    client = _clients.get(loop_id)
    if client is None:
        client = _clients[loop_id] = Redis.from_url(get_settings().redis_url)
    return client


async def close_redis() -> None:
    client = _clients.pop(id(asyncio.get_running_loop()), None)
    if client is not None:
        await client.aclose()
