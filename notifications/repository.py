"""Every statement on the notification tables, and the recipient reads notifications makes (who is a
workspace's admin, a member's address), so the rules of who hears about what are read in one place and
the outbox's SQL is not spread over the sender and the enqueueing side."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from agentledger.platform.database import fetch
from agentledger.platform.scoping import workspace_sql

_COLUMNS = ("workspace", "kind", "event", "dedupe_key", "to_email", "subject", "body_text", "body_html")


async def insert(rows: list[dict[str, Any]]) -> list[UUID]:
    """Queue rows (dicts with ``_COLUMNS``) in the open transaction; a row whose dedupe key is already
    queued is skipped. Answers the ids of the rows actually inserted."""
    if not rows:
        return []
    values, args = [], []
    for row in rows:
        values.append("(gen_random_uuid(), " + ", ".join("{}" for _ in _COLUMNS) + ", 0, now())")
        args.extend(row[c] for c in _COLUMNS)
    inserted = await fetch(
        f"INSERT INTO email_outbox (id, {', '.join(_COLUMNS)}, attempts, created_at) VALUES {', '.join(values)} "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id", *args)
    return [r["id"] for r in inserted]


async def claim(outbox_id: UUID, lease: timedelta) -> dict[str, Any] | None:
    """Take the sender's lease on an unsent row nobody else holds; its message, or None."""
    rows = await fetch(
        "UPDATE email_outbox SET claimed_until = now() + {} WHERE id = {} AND sent_at IS NULL "
        "AND (claimed_until IS NULL OR claimed_until < now()) "
        "RETURNING to_email, subject, body_text, body_html", lease, outbox_id)
    return rows[0] if rows else None


async def record_failure(outbox_id: UUID, error: str) -> None:
    await fetch("UPDATE email_outbox SET attempts = attempts + 1, claimed_until = NULL, last_error = {} "
                "WHERE id = {}", error[:500], outbox_id)


async def record_sent(outbox_id: UUID, moment: datetime) -> None:
    await fetch("UPDATE email_outbox SET sent_at = {}, attempts = attempts + 1, last_error = NULL WHERE id = {}",
                moment, outbox_id)


async def stranded(moment: datetime, older_than: timedelta, give_up_after: timedelta, max_attempts: int,
                   limit: int = 500) -> list[UUID]:
    """Unsent rows, old enough that their job was lost, young enough and tried few enough times to retry."""
    rows = await fetch(
        "SELECT id FROM email_outbox WHERE sent_at IS NULL AND attempts < {} AND created_at < {} "
        "AND created_at > {} AND (claimed_until IS NULL OR claimed_until < {}) LIMIT {}",
        max_attempts, moment - older_than, moment - give_up_after, moment, limit)
    return [r["id"] for r in rows]


async def admin_emails(workspace_id: UUID) -> list[str]:
    """The active admins of a workspace: whom to tell about its runs that nobody started by hand."""
    rows = await fetch("SELECT u.email FROM memberships m JOIN users u ON u.id = m.\"user\" "
                       f"WHERE {workspace_sql('m')} AND m.role = 'admin' AND u.is_active ORDER BY u.email",
                       workspace_id)
    return [r["email"] for r in rows]


async def person(user_id: UUID) -> dict[str, Any] | None:
    """A user's name and email (whatever their state: the caller decides whether that matters)."""
    rows = await fetch("SELECT name, email, is_active FROM users WHERE id = {}", user_id)
    return rows[0] if rows else None


async def workspace(workspace_id: UUID) -> dict[str, Any]:
    """The workspace's name and slug, for subjects and links."""
    rows = await fetch("SELECT name, slug FROM workspaces WHERE id = {}", workspace_id)
    return rows[0]
