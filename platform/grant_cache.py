"""A per-process cache of API-token grants, so an authenticated API call costs no database round trip.

Safety rules:
- the cache is used only while this process is subscribed to the invalidation channel on Redis
  (``listen``); without a live subscription every call goes to the database;
- anything that can shrink what a token grants (revoking a token, removing a member, changing a
  role) calls ``announce_change()``, which after commit empties this process's cache at once and
  publishes on Redis so every other process empties its own;
- entries still expire after GRANT_CACHE_SECONDS (0 turns the cache off), and a grant read before an invalidation is never
  stored after it (the generation check), so a slow request cannot re-insert a revoked token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from agentledger.platform.database import on_commit

CHANNEL = "agentledger:grants-changed"
MAX_ENTRIES = 50_000
log = logging.getLogger("agentledger.grant_cache")


class GrantCache:
    def __init__(self) -> None:
        self.entries: dict[str, tuple[float, Any]] = {}
        self.generation = 0
        self.listening = False  # set by ``listen`` while its subscription is live
        self.ttl = 0.0  # set by ``listen`` from the settings

    def get(self, key: str) -> Any | None:
        if not self.listening:
            return None
        entry = self.entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, value: Any, generation: int) -> None:
        if not self.listening or not self.ttl or generation != self.generation:
            return
        if len(self.entries) >= MAX_ENTRIES:
            self.entries.clear()
        self.entries[key] = (time.monotonic() + self.ttl, value)

    def clear(self) -> None:
        self.generation += 1
        self.entries.clear()


cache = GrantCache()


def announce_change() -> None:
    """After commit: forget every cached grant here and in every other process."""

    def publish() -> None:
        cache.clear()
        from agentledger.platform.redis import sync_redis

        try:
            sync_redis().publish(CHANNEL, "changed")
        except Exception:  # noqa: BLE001 - listeners lose their subscription and stop caching anyway
            log.exception("could not publish a grant invalidation")

    on_commit(publish)


async def listen(stop: asyncio.Event) -> None:
    """Keep a subscription to the invalidation channel; cache only while it is live."""
    from agentledger.platform.config import get_settings
    from agentledger.platform.redis import get_redis

    cache.ttl = get_settings().grant_cache_seconds
    if not cache.ttl:
        return
    while not stop.is_set():
        pubsub = get_redis().pubsub()
        try:
            await pubsub.subscribe(CHANNEL)
            cache.clear()
            cache.listening = True
            while not stop.is_set():
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None:
                    cache.clear()
        except Exception:  # noqa: BLE001 - Redis went away: stop caching, retry
            log.warning("grant cache subscription lost; caching paused until Redis answers")
        finally:
            cache.listening = False
            cache.clear()
            with contextlib.suppress(Exception):
                await pubsub.aclose()
        if not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
