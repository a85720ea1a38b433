"""One asyncio Redis client per event loop, from REDIS_URL."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from agentledger.platform.config import get_settings

_clients: dict[int, Redis] = {}


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
