"""Notifications as a domain: other domains say what happened (``emit(kind, workspace, **facts)``) inside
their transaction; this module decides who hears about it, in which template and under which dedupe key,
so recipient rules and templates live in one place and a repeated event queues its mail once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class Message:
    """One email to queue: recipient, template (files under templates/email), its context, dedupe key."""

    to: str
    template: str
    context: dict[str, Any]
    dedupe_key: str


class UnknownEvent(LookupError):
    """An event kind nobody handles: a typo at the emitting site, never silently dropped."""


Handler = Callable[..., Awaitable[list[Message]]]


async def _run_finished(workspace_id: UUID | None, **facts: Any) -> list[Message]:
    """facts: run (the finished executions row), previous_status. No mail yet (issue 16 adds preferences)."""
    return []


HANDLERS: dict[str, Handler] = {
    "run_finished": _run_finished,
}


async def emit(kind: str, workspace_id: UUID | None, **facts: Any) -> list[UUID]:
    """Queue the messages ``kind`` calls for, in the caller's transaction; ids of the rows queued."""
    from agentledger.notifications.outbox import enqueue_email

    handler = HANDLERS.get(kind)
    if handler is None:
        raise UnknownEvent(f"no notification handler for event kind {kind!r}; known: {sorted(HANDLERS)}")
    ids: list[UUID] = []
    for message in await handler(workspace_id, **facts):
        ids.append(await enqueue_email(workspace_id=workspace_id, kind=kind, to=message.to,
                                       template=message.template, context=message.context))
    return ids
