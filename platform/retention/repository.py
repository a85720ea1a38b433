"""Every query on retention's own tables: policies, restore requests and alerts. (What a pass reads and
writes of the runs themselves is in ``executions.archive_repository``.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from agentledger.platform.database import WEB, fetch
from agentledger.platform.scoping import workspace_sql

POLICY_FIELDS = ("completed_days", "failed_days", "files_days", "downloads_days", "restore_grace_days", "auto_approve")
OPEN = ("pending", "approved")


async def policy(workspace_id: UUID) -> dict[str, Any] | None:
    rows = await fetch(f"SELECT * FROM retention_policies WHERE {workspace_sql()}", workspace_id)
    return rows[0] if rows else None


async def save_policy(workspace_id: UUID, values: dict[str, Any], user_id: UUID | None) -> None:
    columns = ", ".join(POLICY_FIELDS)
    await fetch(
        f"INSERT INTO retention_policies (id, workspace, {columns}, updated_by, updated_at) VALUES (gen_random_uuid(), "
        f"{{}}, {', '.join('{}' for _ in POLICY_FIELDS)}, {{}}, now()) ON CONFLICT (workspace) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in POLICY_FIELDS) + ", updated_by = excluded.updated_by, updated_at = now()",
        workspace_id, *(values[f] for f in POLICY_FIELDS), user_id)


async def workspaces_after(after: UUID, limit: int) -> list[dict[str, Any]]:
    """Every workspace (id, slug, name), in pages by id (a pass walks them all, resumably)."""
    return await fetch("SELECT id, slug, name FROM workspaces WHERE id > {} ORDER BY id LIMIT {}", after, limit)


async def workspace(workspace_id: UUID) -> dict[str, Any] | None:
    rows = await fetch("SELECT id, slug, name FROM workspaces WHERE id = {}", workspace_id)
    return rows[0] if rows else None


# --- restore requests -------------------------------------------------------------------------------

REQUEST_SQL = (
    "SELECT q.*, (SELECT name FROM users WHERE id = q.requested_by) AS requested_by_name, "
    "(SELECT name FROM users WHERE id = q.decided_by) AS decided_by_name FROM restore_requests q"
)


async def open_request(workspace_id: UUID, execution_id: UUID) -> dict[str, Any] | None:
    rows = await fetch(f"{REQUEST_SQL} WHERE q.execution = {{}} AND {workspace_sql('q')} "
                       "AND q.status IN ('pending', 'approved')", execution_id, workspace_id)
    return rows[0] if rows else None


async def latest_request(workspace_id: UUID, execution_id: UUID) -> dict[str, Any] | None:
    rows = await fetch(f"{REQUEST_SQL} WHERE q.execution = {{}} AND {workspace_sql('q')} "
                       "ORDER BY q.created_at DESC LIMIT 1", execution_id, workspace_id)
    return rows[0] if rows else None


async def add_request(workspace_id: UUID, execution_id: UUID, agent: str, user_id: UUID, status: str,
                      decided_by: UUID | None) -> dict[str, Any] | None:
    """A new request; None when the run already has an open one (the unique index decides a race)."""
    rows = await fetch(
        "INSERT INTO restore_requests (id, workspace, execution, agent, requested_by, status, decided_by, decided_at, "
        "created_at) VALUES (gen_random_uuid(), {}, {}, {}, {}, {}, {}, CASE WHEN {}::uuid IS NULL THEN NULL "
        "ELSE now() END, now()) ON CONFLICT (execution) WHERE status IN ('pending', 'approved') DO NOTHING RETURNING id",
        workspace_id, execution_id, agent, user_id, status, decided_by, decided_by)
    return await request(workspace_id, rows[0]["id"]) if rows else None


async def request(workspace_id: UUID, request_id: UUID, *, lock: bool = False) -> dict[str, Any] | None:
    rows = await fetch(f"{REQUEST_SQL} WHERE q.id = {{}} AND {workspace_sql('q')}" + (" FOR UPDATE OF q" if lock else ""),
                       request_id, workspace_id)
    return rows[0] if rows else None


async def request_by_id(request_id: UUID, *, lock: bool = False) -> dict[str, Any] | None:
    """For the restore job, which is handed only the request's id."""
    rows = await fetch(f"{REQUEST_SQL} WHERE q.id = {{}}" + (" FOR UPDATE OF q" if lock else ""), request_id)
    return rows[0] if rows else None


async def requests(workspace_id: UUID, user_id: UUID | None, limit: int = 100) -> list[dict[str, Any]]:
    """A workspace's requests, open ones first, then newest; ``user_id``: only theirs."""
    mine = " AND q.requested_by = {}" if user_id else ""
    return await fetch(
        f"{REQUEST_SQL} WHERE {workspace_sql('q')}{mine} ORDER BY (q.status = 'pending') DESC, q.created_at DESC "
        "LIMIT {}", workspace_id, *([user_id] if user_id else []), limit)


async def decide_request(workspace_id: UUID, request_id: UUID, status: str, user_id: UUID) -> None:
    await fetch(f"UPDATE restore_requests SET status = {{}}, decided_by = {{}}, decided_at = now() WHERE id = {{}} "
                f"AND {workspace_sql()}", status, user_id, request_id, workspace_id)


async def stuck_requests(decided_before: datetime) -> list[UUID]:
    """Approved requests still unfinished that were approved before ``decided_before`` (every workspace:
    the pass that restarts them is the system's, not a caller's)."""
    rows = await fetch("SELECT id FROM restore_requests WHERE status = 'approved' AND decided_at < {} "
                       "ORDER BY decided_at LIMIT 1000", decided_before)
    return [row["id"] for row in rows]


async def finish_request(request_id: UUID, status: str, error: str | None = None) -> None:
    await fetch("UPDATE restore_requests SET status = {}, error = {}, finished_at = now() WHERE id = {}",
                status, error, request_id)


# --- alerts -------------------------------------------------------------------------------------------

async def add_alert(workspace_id: UUID, kind: str, message: str, runs: int) -> None:
    """One alert per kind while an earlier one of that kind is undismissed and under a day old: a store
    that stays down does not fill the page with the same line every pass."""
    await fetch(
        "INSERT INTO retention_alerts (id, workspace, kind, message, runs, created_at) SELECT gen_random_uuid(), {}, "
        f"{{}}, {{}}, {{}}, now() WHERE NOT EXISTS (SELECT 1 FROM retention_alerts WHERE {workspace_sql()} "
        "AND kind = {} AND dismissed_at IS NULL AND created_at > now() - interval '1 day')",
        workspace_id, kind, message, runs, workspace_id, kind)


async def alerts(workspace_id: UUID, limit: int = 20) -> list[dict[str, Any]]:
    return await fetch(f"SELECT * FROM retention_alerts WHERE {workspace_sql()} AND dismissed_at IS NULL "
                       "ORDER BY created_at DESC LIMIT {}", workspace_id, limit)


async def dismiss_alert(workspace_id: UUID, alert_id: UUID) -> bool:
    rows = await fetch(f"UPDATE retention_alerts SET dismissed_at = now() WHERE id = {{}} AND {workspace_sql()} "
                       "AND dismissed_at IS NULL RETURNING id", alert_id, workspace_id)
    return bool(rows)


async def web_serving(within_seconds: float) -> bool:
    """Whether a web-tier session (``database.WEB``) is running a statement or finished one in the last
    ``within_seconds``: people are being served right now. Read from ``pg_stat_activity`` (shared memory,
    no lag); a role sees its own sessions there, and the web and the workers share one (another role's
    sessions show no state, and count as not serving)."""
    rows = await fetch(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = {} "
        "AND pid <> pg_backend_pid() AND (state IN ('active', 'idle in transaction') "
        "OR (state = 'idle' AND state_change > clock_timestamp() - make_interval(secs => {})))) AS serving",
        WEB, within_seconds)
    return rows[0]["serving"]
