"""Live updates over Server-Sent Events: one run's events (status, progress, steps, log lines) and the
workspace's list (status and progress of the runs the caller may see). Clients resume with
``Last-Event-ID`` (browsers send it when they reconnect) or ``?after=``."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, get
from litestar.params import FromPath, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from agentledger.platform.errors import Invalid, NotFound
from agentledger.platform.executions import events, listing, states
from agentledger.platform.executions import service as executions
from agentledger.platform.scoping import Scope
from agentledger.web.auth import Caller

EVENT_ID = re.compile(r"\d{1,20}-\d{1,20}")
MAX_SECONDS = 300  # then the stream ends and the browser reconnects where it left off
After = Annotated[str | None, QueryParameter(description="the id of the last event seen (like Last-Event-ID)")]


def _start(request: Request, after: str | None) -> str | None:
    start = request.headers.get("last-event-id") or after
    if start is not None and not EVENT_ID.fullmatch(start):
        raise Invalid("after must be an event id such as 1732262400000-0", field="after")
    return start


Filter = Callable[[dict], Awaitable[bool]]


async def _stream(key: str, after: str, access: Callable[[], Awaitable[Filter | None]],
                  enrich: Callable[[dict], Awaitable[dict]] | None = None) -> AsyncIterator[ServerSentEventMessage]:
    """Events the caller may see. ``access`` answers the filter, or None once the caller may no longer
    follow (the run was unshared, they left); it is asked again at every keep-alive (15 s). ``enrich``
    adds to an event what the stream's page needs beyond it."""
    deadline = time.monotonic() + MAX_SECONDS
    wanted = await access()
    async for item in events.follow(key, after):
        if item is None:
            wanted = await access()
            if wanted is None:
                return
            yield ServerSentEventMessage(comment="keep-alive")
        elif wanted is not None and await wanted(item[1]):
            data = await enrich(item[1]) if enrich else item[1]
            yield ServerSentEventMessage(data=json.dumps(data), event=data["type"], id=item[0])
        if time.monotonic() > deadline:
            return


def _visible_to(caller: Scope) -> Callable[[], Awaitable[Filter]]:
    """The events of the runs the caller may see, as the visibility rule decides (``visible_ids``, in the
    executions repository): a run's first event asks, and the answer holds until the next keep-alive
    (15 s), so a share, an unshare or a delete shows within 15 s."""
    async def access() -> Filter:
        known: dict[str, bool] = {}

        async def wanted(event: dict) -> bool:
            run = event.get("run")
            if not run:
                return False
            if run not in known:
                known[run] = run in await executions.visible_ids(caller, [run])
            return known[run]
        return wanted
    return access


async def _everything(event: dict) -> bool:
    return True


def _with_preview(caller: Scope) -> Callable[[dict], Awaitable[dict]]:
    """A run that finishes gets its list row's result preview ("score 94 · 12 recommendations")."""
    async def enrich(event: dict) -> dict:
        if event["type"] != "status" or event["status"] not in states.FINAL:
            return event
        return {**event, "preview": await listing.preview_text(caller, UUID(event["run"]))}
    return enrich


def _while_visible(caller: Scope, execution_id: UUID) -> Callable[[], Awaitable[Filter | None]]:
    async def access() -> Filter | None:
        try:
            await executions.get(caller, execution_id)
        except NotFound:  # unshared, deleted, or the caller left
            return None
        return _everything
    return access


class EventsController(Controller):
    path = "/api/v1/workspaces/{ws:str}/executions"
    tags = ["executions"]

    @get("/events", summary="Live status and progress of the runs the caller may see (Server-Sent Events)")
    async def list_events(self, caller: Caller, request: Request, after: After = None) -> ServerSentEvent:
        key = events.workspace_key(caller.workspace_id)
        start = _start(request, after) or await events.latest(key)
        return ServerSentEvent(_stream(key, start, _visible_to(caller), _with_preview(caller)), retry_duration=3000)

    @get("/{execution_id:uuid}/events", summary="Live events of one run: status, progress, steps, log lines")
    async def run_events(self, caller: Caller, request: Request, execution_id: FromPath[UUID],
                         after: After = None) -> ServerSentEvent:
        await executions.get(caller, execution_id)  # 404 unless the caller may see the run
        key = events.run_key(execution_id)
        start = _start(request, after) or await events.latest(key)
        return ServerSentEvent(_stream(key, start, _while_visible(caller, execution_id)), retry_duration=3000)


controllers = [EventsController]
