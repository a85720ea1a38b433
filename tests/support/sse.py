"""Read Server-Sent Events from a real server the way a browser does: blocks of `id:`, `event:`, `data:`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx


class Events:
    def __init__(self, lines: AsyncIterator[str]) -> None:
        self._lines = lines

    async def next(self, timeout: float = 10) -> dict:
        """The next event (comments skipped) as {"id", "event", "data"}."""
        return await asyncio.wait_for(self._next(), timeout)

    async def _next(self) -> dict:
        event: dict = {}
        async for line in self._lines:
            if not line:
                if "data" in event:
                    return event
                event = {}
            elif line.startswith(":"):
                continue
            else:
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                event[name] = json.loads(value) if name == "data" else value
        raise EOFError("the stream ended")

    async def until(self, predicate, timeout: float = 15) -> list[dict]:
        seen: list[dict] = []
        while True:
            seen.append(await self.next(timeout))
            if predicate(seen[-1]):
                return seen


@asynccontextmanager
async def sse(url: str, headers: dict[str, str] | None = None) -> AsyncIterator[Events]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=60)) as client, \
            client.stream("GET", url, headers=headers or {}) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Events(response.aiter_lines())
