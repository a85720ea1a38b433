"""Every statement on the notification tables, and the recipient reads notifications makes (who is a
workspace's admin, a member's address), so the rules of who hears about what are read in one place and
the outbox's SQL is not spread over the sender and the enqueueing side."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from agentledger.notifications.tables import NotificationPreference
from agentledger.platform.database import fetch
from agentledger.platform.pagination import PageRequest, cut, decode_cursor
from agentledger.platform.scoping import workspace_sql

_COLUMNS = ("workspace", "kind", "event", "dedupe_key", "to_email", "subject", "body_text", "body_html", "message_id",
            "headers")


_INSERT = (
    f"INSERT INTO email_outbox (id, {', '.join(_COLUMNS)}, attempts, created_at) "
    f"SELECT gen_random_uuid(), {', '.join('c_' + c for c in _COLUMNS[:-1])}, c_headers::jsonb, 0, now() "
    "FROM unnest({}::uuid[], " + ", ".join("{}::text[]" for _ in _COLUMNS[1:])
    + f") AS t({', '.join('c_' + c for c in _COLUMNS)}) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
)


async def insert(rows: list[dict[str, Any]]) -> list[UUID]:
    """Queue rows (dicts with ``_COLUMNS``) in the open transaction; a row whose dedupe key is already
    queued is skipped. Answers the ids of the rows actually inserted. One statement text whatever the
    number of rows (arrays, not a VALUES list per row), so it is prepared once, not once per count."""
    if not rows:
        return []
    columns = [[json.dumps(row[c]) if c == "headers" else row[c] for row in rows] for c in _COLUMNS]
    return [r["id"] for r in await fetch(_INSERT, *columns)]


async def claim(outbox_id: UUID, lease: timedelta) -> dict[str, Any] | None:
    """Take the sender's lease on an unsent, unfailed row nobody else holds (a row waiting out its backoff
    is held until then); its message, or None."""
    rows = await fetch(
        "UPDATE email_outbox SET claimed_until = now() + {} WHERE id = {} AND sent_at IS NULL AND failed_at IS NULL "
        "AND (claimed_until IS NULL OR claimed_until < now()) "
        "RETURNING to_email, subject, body_text, body_html, headers, message_id, attempts", lease, outbox_id)
    return rows[0] if rows else None


async def record_retry(outbox_id: UUID, error: str, next_attempt: datetime) -> None:
    """A temporary failure: counted and kept; the row is held until its next try."""
    await fetch("UPDATE email_outbox SET attempts = attempts + 1, last_error = {}, next_attempt_at = {}, "
                "claimed_until = {} WHERE id = {}", error[:500], next_attempt, next_attempt, outbox_id)


async def record_failed(outbox_id: UUID, error: str, moment: datetime) -> None:
    await fetch("UPDATE email_outbox SET attempts = attempts + 1, last_error = {}, failed_at = {}, claimed_until = NULL, "
                "next_attempt_at = NULL WHERE id = {}", error[:500], moment, outbox_id)


async def record_sent(outbox_id: UUID, moment: datetime) -> None:
    await fetch("UPDATE email_outbox SET sent_at = {}, attempts = attempts + 1, claimed_until = NULL, "
                "next_attempt_at = NULL WHERE id = {}", moment, outbox_id)


# a row's age counts from when it was last due: queued, or sent again from the Emails page
_DUE_SINCE = "COALESCE(next_attempt_at, created_at)"


async def stranded(moment: datetime, older_than: timedelta, give_up_after: timedelta, limit: int = 500) -> list[UUID]:
    """Unsent, unfailed rows young enough to retry that nobody works on: never claimed and older than
    ``older_than``, or whose lease has run out."""
    rows = await fetch(
        f"SELECT id FROM email_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND {_DUE_SINCE} > {{}} "
        "AND ((claimed_until IS NULL AND created_at < {}) OR claimed_until < {}) ORDER BY created_at LIMIT {}",
        moment - give_up_after, moment - older_than, moment, limit)
    return [r["id"] for r in rows]


async def give_up(due_before: datetime, moment: datetime) -> int:
    """Fail the unsent rows last due before ``due_before`` (and not held by a sender), saying why."""
    rows = await fetch(
        "UPDATE email_outbox SET failed_at = {}, last_error = COALESCE(last_error || ' (then not sent for days: gave up)', "
        "'not sent for days (no SMTP server answered or none is set up): gave up') "
        f"WHERE sent_at IS NULL AND failed_at IS NULL AND {_DUE_SINCE} < {{}} "
        "AND (claimed_until IS NULL OR claimed_until < {}) RETURNING id", moment, due_before, moment)
    return len(rows)


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


# a person's choices: every column of the table but its key, address and time of change (the table is their
# one list; ``preferences.Preferences`` carries the same names with a new address's defaults)
_PREFERENCES = tuple(c._meta.db_column_name for c in NotificationPreference._meta.columns
                     if c._meta.db_column_name not in ("id", "email", "updated_at"))


async def preferences(emails: list[str]) -> list[dict[str, Any]]:
    """The stored preferences of these (lower-cased) addresses; an address with none has no row."""
    if not emails:
        return []
    return await fetch(f"SELECT email, {', '.join(_PREFERENCES)} FROM notification_preferences WHERE email = ANY({{}})",
                       emails)


async def user_preferences(user_id: UUID) -> dict[str, Any] | None:
    """A user's address and state, with their stored preferences (``has_choice`` false: none stored)."""
    rows = await fetch(f"SELECT u.email, u.is_active, p.id IS NOT NULL AS has_choice, "
                       f"{', '.join('p.' + n for n in _PREFERENCES)} FROM users u "
                       "LEFT JOIN notification_preferences p ON p.email = u.email WHERE u.id = {}", user_id)
    return rows[0] if rows else None


async def save_preferences(email: str, values: dict[str, Any]) -> None:
    names = [n for n in _PREFERENCES if n in values]
    await fetch(
        f"INSERT INTO notification_preferences (id, email, {', '.join(names)}, updated_at) "
        f"VALUES (gen_random_uuid(), {{}}, {', '.join('{}' for _ in names)}, now()) ON CONFLICT (email) DO UPDATE SET "
        + ", ".join(f"{n} = EXCLUDED.{n}" for n in names) + ", updated_at = now()",
        email, *(values[n] for n in names))


async def set_category(email: str, category: str, on: bool) -> None:
    """One category on or off for an address (``category`` is one of ``preferences.CATEGORIES``)."""
    if category not in _PREFERENCES:
        raise ValueError(category)
    await save_preferences(email.lower(), {category: on})


def _home_zone(user: str) -> str:
    """The time zone of the first workspace the person ``user`` (an SQL expression) joined: one rule for the
    settings page and the digest."""
    return ("(SELECT w.timezone FROM memberships m JOIN workspaces w ON w.id = m.workspace "
            f"WHERE m.\"user\" = {user} ORDER BY m.created_at, m.id LIMIT 1)")


async def home_time_zone(user_id: UUID) -> str:
    """The time zone of the first workspace the person joined (UTC with none)."""
    rows = await fetch(f"SELECT {_home_zone('{}')} AS timezone", user_id)
    return rows[0]["timezone"] or "UTC"


# --- the weekly digest ----------------------------------------------------------------------------------
# A person's digest follows their own time zone, else the one of the first workspace they joined, else
# UTC; a name PostgreSQL does not know (stored before a check, or from a newer tz database than the
# server's) falls through to the next, so one bad row never stops everyone's digest. People are read a page
# of ids at a time and each one's zone is worked out once (not re-sorted and re-computed for everyone
# left on every page: that grew with the square of the people).
_DUE = f"""
WITH zones AS MATERIALIZED (SELECT name FROM pg_timezone_names),
people AS MATERIALIZED (
  SELECT u.id, u.email, u.name, p.timezone AS own, {_home_zone('u.id')} AS home
  FROM users u LEFT JOIN notification_preferences p ON p.email = u.email
  WHERE u.id = ANY({{}}) AND u.is_active AND COALESCE(p.weekly_digest, true)
), placed AS (
  SELECT id, email, name, CASE WHEN own IN (SELECT name FROM zones) THEN own
    WHEN home IN (SELECT name FROM zones) THEN home ELSE 'UTC' END AS tz FROM people WHERE home IS NOT NULL
), local AS (
  SELECT id, email, name, tz, ({{}}::timestamptz AT TIME ZONE tz) AS at FROM placed
)
SELECT id, email, name, tz, at, to_char(at, 'IYYY-"W"IW') AS week FROM local
WHERE extract(isodow FROM at) = 1 AND at::time >= time '08:00'
  AND NOT EXISTS (SELECT 1 FROM digest_weeks d WHERE d."user" = local.id AND d.week = to_char(local.at, 'IYYY-"W"IW'))
ORDER BY id
"""


async def people_after(after: UUID, limit: int) -> list[UUID]:
    """The next page of people by id (everyone: who is due is ``digest_due``'s to say)."""
    return [r["id"] for r in await fetch("SELECT id FROM users WHERE id > {} ORDER BY id LIMIT {}", after, limit)]


async def digest_due(moment: datetime, people: list[UUID]) -> list[dict[str, Any]]:
    """Of ``people``, those for whom ``moment`` is Monday 08:00 or later in their time zone, whose digest for
    that ISO week is not claimed yet, and who keep digests on (and belong to a workspace)."""
    return await fetch(_DUE, people, moment)


async def claim_digests(people: list[UUID], weeks: list[str]) -> set[UUID]:
    """Claim each person's digest for their week; answers whom this transaction claimed (a concurrent
    pass waits for ours, then finds the pair taken)."""
    rows = await fetch("INSERT INTO digest_weeks (id, \"user\", week, sent, created_at) SELECT gen_random_uuid(), u, w, "
                       "false, now() FROM unnest({}::uuid[], {}::text[]) AS t(u, w) ON CONFLICT (\"user\", week) "
                       "DO NOTHING RETURNING \"user\"", people, weeks)
    return {r["user"] for r in rows}


async def digest_sent(people: list[UUID], weeks: list[str]) -> None:
    await fetch("UPDATE digest_weeks d SET sent = true FROM unnest({}::uuid[], {}::text[]) AS t(u, w) "
                "WHERE d.\"user\" = t.u AND d.week = t.w", people, weeks)


async def memberships(people: list[UUID]) -> list[dict[str, Any]]:
    """Each person's workspaces (id, slug, name, role), in the order they joined them."""
    return await fetch("SELECT m.\"user\" AS person, w.id, w.slug, w.name, m.role FROM memberships m "
                       "JOIN workspaces w ON w.id = m.workspace WHERE m.\"user\" = ANY({}) ORDER BY m.created_at, m.id",
                       people)


# --- the Emails page -----------------------------------------------------------------------------------
_STATUS = ("CASE WHEN sent_at IS NOT NULL THEN 'sent' WHEN failed_at IS NOT NULL THEN 'failed' ELSE 'pending' END")
_LISTED = (f"id, to_email, kind, event, subject, {_STATUS} AS status, attempts, last_error, created_at, sent_at, "
           "failed_at, next_attempt_at")
_STATUS_SQL = {"sent": "sent_at IS NOT NULL", "failed": "failed_at IS NOT NULL",
               "pending": "sent_at IS NULL AND failed_at IS NULL"}


async def emails(workspace_id: UUID, category: str | None, status: str | None, to: str | None,
                 request: PageRequest) -> tuple[list[dict[str, Any]], str | None]:
    """One keyset page of a workspace's emails, newest first (``status`` is one of ``_STATUS_SQL``)."""
    where, args = [workspace_sql()], [workspace_id]
    if category:
        where.append("kind = {}")
        args.append(category)
    if status:
        where.append(_STATUS_SQL[status])
    if to:
        where.append("lower(to_email) = {}")
        args.append(to)
    if request.cursor:
        at, last = decode_cursor(request.cursor)
        where.append("(created_at, id) < ({}, {})")
        args += [at, last]
    rows = await fetch(f"SELECT {_LISTED} FROM email_outbox WHERE {' AND '.join(where)} "
                       f"ORDER BY created_at DESC, id DESC LIMIT {request.limit + 1}", *args)
    return cut(rows, request)


async def email(workspace_id: UUID, email_id: UUID) -> dict[str, Any] | None:
    rows = await fetch(f"SELECT {_LISTED}, message_id, headers, body_text AS text, body_html AS html "
                       f"FROM email_outbox WHERE {workspace_sql()} AND id = {{}}", workspace_id, email_id)
    return rows[0] if rows else None


async def retry_failed(workspace_id: UUID, email_id: UUID) -> bool:
    """A failed email becomes pending again with fresh attempts (its error stays until the next try)."""
    rows = await fetch(f"UPDATE email_outbox SET failed_at = NULL, attempts = 0, next_attempt_at = now(), "
                       f"claimed_until = NULL WHERE {workspace_sql()} AND id = {{}} AND failed_at IS NOT NULL "
                       "AND sent_at IS NULL RETURNING id", workspace_id, email_id)
    return bool(rows)
