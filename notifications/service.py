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

from agentledger.notifications import outbox, preferences, repository
from agentledger.notifications.outbox import Message
from agentledger.platform.clock import duration
from agentledger.platform.config import get_settings

__all__ = ["HANDLERS", "Message", "UnknownEvent", "emit"]


class UnknownEvent(LookupError):
    """An event kind nobody handles: a typo at the emitting site, never silently dropped."""


Handler = Callable[..., Awaitable[list[Message]]]


def _run_link(slug: str, execution_id: UUID) -> str:
    return f"{get_settings().public_url}/w/{slug}/executions/{execution_id}"


def first_line(text: str | None) -> str:
    line = next((part.strip() for part in (text or "").splitlines() if part.strip()), "")
    return (line[:197] + "…") if len(line) > 200 else line or "no error message was recorded"


async def _run_finished(workspace_id: UUID | None, *, run: dict[str, Any], previous_status: str,
                        failed_step_name: str | None = None, **_: Any) -> list[Message]:
    """A run ended (every way: runner, reaper, cancel, review timeout). Whoever started it (for a schedule's
    run, whoever made the schedule) hears, as they chose: at once when it failed or timed out; when it
    completed after running longer than their N minutes; and when it charged more than their limit.
    A run someone canceled sends nothing: a person ended it."""
    if workspace_id is None or run["started_by"] is None or run["status"] == "canceled":
        return []
    # every run ends here, inside the settling transaction: one read decides, and the rest is read only
    # when there is something to send
    found = await preferences.of_user(run["started_by"])
    if found is None:
        return []
    email, choice = found
    began = run["started_at"] or run["queued_at"]
    seconds = (run["finished_at"] - began).total_seconds() if run["finished_at"] and began else 0.0
    failed = run["status"] in ("failed", "timed_out")
    kinds = [kind for kind, wanted in (
        ("run_failed", failed and choice.run_failed),
        ("run_finished", not failed and choice.run_finished and seconds > choice.run_finished_minutes * 60),
        ("credit_threshold", choice.credit_threshold and choice.credit_threshold_credits is not None
         and run["credits_charged"] > choice.credit_threshold_credits)) if wanted]
    if not kinds:
        return []
    workspace = await repository.workspace(workspace_id)
    context = {"workspace": workspace["name"], "agent": run["agent"], "status": run["status"].replace("_", " "),
               "duration": duration(int(seconds * 1000)), "items": run["items_processed"], "items_failed": run["items_failed"],
               "credits": run["credits_charged"], "refunded": run["credits_refunded"],
               "started": began.strftime("%d %b %Y %H:%M UTC") if began else "",
               "link": _run_link(workspace["slug"], run["id"]), "minutes": choice.run_finished_minutes,
               "limit": choice.credit_threshold_credits, "error_line": first_line(run["error_message"]),
               "failed_step": failed_step_name}
    return [Message(email, kind, context, f"{kind}:{run['id']}:{email}") for kind in kinds]


async def _wanted(workspace_id: UUID, category: str) -> list[str]:
    """The workspace's active admins who keep ``category`` on."""
    admins = await repository.admin_emails(workspace_id)
    choices = await preferences.of(admins)
    return [email for email in admins if choices[email].wants(category)]


async def _credits_low(workspace_id: UUID | None, *, available: int, threshold: int, crossing: int) -> list[Message]:
    """The wallet fell below the workspace's threshold (billing announces each crossing once, numbered)."""
    assert workspace_id is not None, "a wallet belongs to a workspace"
    workspace = await repository.workspace(workspace_id)
    context = {"workspace": workspace["name"], "available": available, "threshold": threshold,
               "link": f"{get_settings().public_url}/w/{workspace['slug']}/billing"}
    return [Message(email, "low_balance", context, f"credits_low:{workspace_id}:{crossing}:{email}")
            for email in await _wanted(workspace_id, "low_balance")]


async def _credits_moved(workspace_id: UUID | None, *, key: str, purchase: dict[str, Any], moved: int, price: str,
                         available: int, owed: int, receipt: bool) -> list[Message]:
    """A purchase's credits were granted (``moved`` > 0) or clawed back (< 0), under ledger ``key``."""
    assert workspace_id is not None, "a purchase belongs to a workspace"
    workspace = await repository.workspace(workspace_id)
    buyer = await repository.person(purchase["created_by"]) if purchase.get("created_by") else None
    link = f"{get_settings().public_url}/w/{workspace['slug']}/billing/purchases/{purchase['id']}"
    context = {"workspace": workspace["name"], "moved": moved, "pack": purchase["pack"], "price": price,
               "available": available, "owed": owed, "buyer": buyer["name"] if buyer else "someone no longer here",
               "link": link, "receipt_link": f"{link}/receipt.pdf" if receipt else ""}  # the page's: a browser is signed in
    return [Message(email, "purchase_receipt", context, f"credits_moved:{key}:{email}")
            for email in await _wanted(workspace_id, "purchase_receipt")]


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
    emails = await review_recipients(workspace_id, run)
    choices = await preferences.of(emails)
    return [Message(email, "review_requested", context, f"review_requested:{run['id']}:{step}:{email}")
            for email in emails if choices[email].wants("review_requested")]


async def _run_shared(workspace_id: UUID | None, *, share_id: UUID, run: dict[str, Any], user_id: UUID,
                      shared_by: UUID) -> list[Message]:
    """A run was shared with the member ``user_id`` by ``shared_by``: the teammate hears, once per share."""
    teammate, sharer = await repository.person(user_id), await repository.person(shared_by)
    if teammate is None or sharer is None or not (await preferences.of([teammate["email"]]))[teammate["email"]].wants(
            "run_shared"):
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
    if not (await preferences.of([email]))[email].wants("invitation"):
        return []  # the address said no more invitations (its unsubscribe link); the page still shows the link
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


async def _run_restored(workspace_id: UUID | None, *, request: dict[str, Any], workspace: dict[str, Any],
                        error: str | None, declined_by: UUID | None = None) -> list[Message]:
    """A restore someone asked for ended: it is back, it could not be done (``error``: why), or an admin
    declined it (``declined_by``). They asked for it, so it is sent whatever their preferences say, like a
    password reset; once per request."""
    person = await repository.person(request["requested_by"]) if request["requested_by"] else None
    if person is None:
        return []
    decider = await repository.person(declined_by) if declined_by else None
    context = {"name": person["name"], "agent": request["agent"], "workspace": workspace["name"], "error": error,
               "declined_by": (decider or {"name": "an admin"})["name"] if declined_by else None,
               "link": _run_link(workspace["slug"], request["execution"])}
    return [Message(person["email"], "run_restored", context, f"run_restored:{request['id']}")]


async def _restore_requested(workspace_id: UUID | None, *, request: dict[str, Any], asked_by: UUID) -> list[Message]:
    """A member asked for an archived run back and the request waits for an admin: the workspace's admins
    who keep this on hear, once per request (an admin's own request, or any under auto-approve, starts at
    once and sends nothing)."""
    assert workspace_id is not None, "a run belongs to a workspace"
    asker = await repository.person(asked_by)
    workspace = await repository.workspace(workspace_id)
    base = f"{get_settings().public_url}/w/{workspace['slug']}"
    context = {"workspace": workspace["name"], "asker": asker["name"] if asker else "someone no longer here",
               "agent": request["agent"], "link": f"{base}/settings/retention#requests",
               "run_link": _run_link(workspace["slug"], request["execution"])}
    return [Message(email, "restore_requested", context, f"restore_requested:{request['id']}:{email}")
            for email in await _wanted(workspace_id, "restore_requested")]


HANDLERS: dict[str, Handler] = {
    "run_finished": _run_finished,
    "credits_low": _credits_low,
    "credits_moved": _credits_moved,
    "review_requested": _review_requested,
    "run_shared": _run_shared,
    "invited": _invited,
    "password_reset": _password_reset,
    "run_restored": _run_restored,
    "restore_requested": _restore_requested,
}


async def emit(kind: str, workspace_id: UUID | None, **facts: Any) -> list[UUID]:
    """Queue the messages ``kind`` calls for, in the caller's transaction (delivery jobs go after commit,
    only for rows actually queued); answers those rows' ids. An unknown kind raises ``UnknownEvent``."""
    handler = HANDLERS.get(kind)
    if handler is None:
        raise UnknownEvent(f"no notification handler for event kind {kind!r}; known kinds: {', '.join(sorted(HANDLERS))}")
    return await outbox.queue(workspace_id, kind, await handler(workspace_id, **facts))
