"""Notifications as a domain: other domains say what happened (``emit(kind, workspace, **facts)``) inside
their transaction; this module decides who hears about it, in which template and under which dedupe key,
so recipient rules and templates live in one place and a repeated event queues its mail once.

Each handler takes the event's facts and answers the messages to queue (``outbox.Message``); ``emit``
stores them with the event kind, skipping any whose dedupe key is already in the outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from agentledger.notifications import outbox, repository
from agentledger.notifications.outbox import Message
from agentledger.platform.config import get_settings

__all__ = ["HANDLERS", "Message", "UnknownEvent", "emit"]


class UnknownEvent(LookupError):
    """An event kind nobody handles: a typo at the emitting site, never silently dropped."""


Handler = Callable[..., Awaitable[list[Message]]]


def _run_link(slug: str, execution_id: UUID) -> str:
    return f"{get_settings().public_url}/w/{slug}/executions/{execution_id}"


async def _run_finished(workspace_id: UUID | None, *, run: dict[str, Any], previous_status: str,
                        **_: Any) -> list[Message]:
    """A run ended (every way: runner, reaper, cancel, review timeout). No mail yet: issue 16 adds
    preferences (who wants to hear, after how long)."""
    return []


async def review_recipients(workspace_id: UUID, run: dict[str, Any]) -> list[str]:
    """Who started the run; for runs nobody started by hand (schedules), the workspace's admins."""
    if run["started_by"]:
        starter = await repository.person(run["started_by"])
        if starter:
            return [starter["email"]]
    return await repository.admin_emails(workspace_id)


async def _review_requested(workspace_id: UUID | None, *, run: dict[str, Any], step: int, title: str,
                            summary: str | None) -> list[Message]:
    """A run waits for a decision at review step ``step``: its starter (or the admins) are asked once."""
    assert workspace_id is not None, "a run belongs to a workspace"
    workspace = await repository.workspace(workspace_id)
    context = {"workspace": workspace["name"], "agent": run["agent"], "title": title, "summary": summary or "",
               "link": _run_link(workspace["slug"], run["id"])}
    return [Message(email, "review_requested", context, f"review_requested:{run['id']}:{step}:{email}")
            for email in await review_recipients(workspace_id, run)]


async def _run_shared(workspace_id: UUID | None, *, share_id: UUID, run: dict[str, Any], user_id: UUID,
                      shared_by: UUID) -> list[Message]:
    """A run was shared with the member ``user_id`` by ``shared_by``: the teammate hears, once per share."""
    teammate, sharer = await repository.person(user_id), await repository.person(shared_by)
    if teammate is None or sharer is None:
        return []
    assert workspace_id is not None, "a run belongs to a workspace"
    workspace = await repository.workspace(workspace_id)
    started: datetime = run["started_at"] or run["queued_at"]
    context = {"name": teammate["name"], "sharer": sharer["name"], "agent": run["agent"],
               "workspace": workspace["name"], "status": run["status"].replace("_", " "),
               "started": started.strftime("%d %b %Y %H:%M UTC"), "link": _run_link(workspace["slug"], run["id"])}
    return [Message(teammate["email"], "run_shared", context, f"run_shared:{share_id}")]


async def _invited(workspace_id: UUID | None, *, invitation_id: UUID, email: str, role: str, link: str,
                   expires_at: datetime) -> list[Message]:
    """Someone was invited to the workspace: the invitee gets the link (the plain token is only in
    ``link``), once per invitation."""
    assert workspace_id is not None, "an invitation belongs to a workspace"
    workspace = await repository.workspace(workspace_id)
    context = {"workspace": workspace["name"], "role": role, "link": link, "expires_at": expires_at}
    return [Message(email, "invitation", context, f"invited:{invitation_id}")]


async def _password_reset(workspace_id: UUID | None, *, reset_id: UUID, user_id: UUID, link: str,
                          expires_at: datetime) -> list[Message]:
    """A reset link was made for ``user_id``: it goes to their address only, once per link."""
    user = await repository.person(user_id)
    if user is None:
        return []
    context = {"name": user["name"], "link": link, "expires_at": expires_at,
               "minutes": get_settings().password_reset_ttl_minutes}
    return [Message(user["email"], "password_reset", context, f"password_reset:{reset_id}")]


HANDLERS: dict[str, Handler] = {
    "run_finished": _run_finished,
    "review_requested": _review_requested,
    "run_shared": _run_shared,
    "invited": _invited,
    "password_reset": _password_reset,
}


async def emit(kind: str, workspace_id: UUID | None, **facts: Any) -> list[UUID]:
    """Queue the messages ``kind`` calls for, in the caller's transaction (delivery jobs go after commit,
    only for rows actually queued); answers those rows' ids. An unknown kind raises ``UnknownEvent``."""
    handler = HANDLERS.get(kind)
    if handler is None:
        raise UnknownEvent(f"no notification handler for event kind {kind!r}; known kinds: {', '.join(sorted(HANDLERS))}")
    return await outbox.queue(workspace_id, kind, await handler(workspace_id, **facts))
