"""Live events of runs on Redis streams: one stream per run (status, progress, steps, log lines) and one
per workspace (status and progress, for the list). Streams keep recent history, so a client that
reconnects with ``Last-Event-ID`` misses nothing; pages are correct without them after a reload.

Publishing is best effort: a lost event costs a live update, never a run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import UUID

from agentledger.platform.redis import get_redis

log = logging.getLogger("agentledger.events")
RUN_KEEP, WORKSPACE_KEEP = 2000, 5000  # events kept per stream (approximately)
RUN_TTL_SECONDS = 24 * 3600
LIST_TYPES = ("status", "progress")  # what the workspace's list shows


def run_key(execution_id: Any) -> str:
    return f"events:run:{execution_id}"


def workspace_key(workspace_id: Any) -> str:
    return f"events:workspace:{workspace_id}"


async def publish(execution_id: UUID, workspace_id: UUID, started_by: UUID | None, event: dict[str, Any]) -> None:
    data = json.dumps({**event, "run": str(execution_id), "started_by": str(started_by) if started_by else None},
                      default=_plain)
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.xadd(run_key(execution_id), {"data": data}, maxlen=RUN_KEEP, approximate=True)
        pipe.expire(run_key(execution_id), RUN_TTL_SECONDS)
        if event["type"] in LIST_TYPES:
            pipe.xadd(workspace_key(workspace_id), {"data": data}, maxlen=WORKSPACE_KEEP, approximate=True)
        await pipe.execute()
    except Exception:  # noqa: BLE001 - see the module docstring
        log.warning("could not publish a %s event of run %s", event.get("type"), execution_id, exc_info=True)


def _plain(value: Any) -> str:
    """Times as ISO 8601 (what browsers parse), anything else as text."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def status_event(row: dict[str, Any]) -> dict[str, Any]:
    """What the pages show of a run's state: status, progress, items and credits."""
    return {"type": "status", "status": row["status"], "progress_done": row["progress_done"],
            "progress_total": row["progress_total"], "items_processed": row["items_processed"],
            "items_failed": row["items_failed"], "credits_charged": row["credits_charged"],
            "credits_refunded": row["credits_refunded"], "started_at": row["started_at"],
            "active_since": row["started_at"] + timedelta(milliseconds=row.get("paused_ms") or 0)
            if row["started_at"] else None,
            "finished_at": row["finished_at"], "cancel_requested": row.get("cancel_requested", False),
            "pause_requested": row.get("pause_requested", False)}


async def publish_status(row: dict[str, Any]) -> None:
    await publish(row["id"], row["workspace"], row["started_by"], status_event(row))


async def latest(key: str) -> str:
    """The id of the newest event, for a page to follow from (``0-0`` when there is none)."""
    try:
        newest = await get_redis().xrevrange(key, count=1)
    except Exception:  # noqa: BLE001 - no live updates, the page still renders
        return "0-0"
    return newest[0][0].decode() if newest else "0-0"


async def follow(key: str, after: str, *, block_ms: int = 15_000) -> AsyncIterator[tuple[str, dict] | None]:
    """Events after ``after``, as they come; None after each quiet ``block_ms`` (time for a keep-alive)."""
    while True:
        answer = await get_redis().xread({key: after}, count=200, block=block_ms)
        if not answer:
            yield None
            continue
        for event_id, fields in answer[0][1]:
            after = event_id.decode()
            yield after, json.loads(fields[b"data"])
