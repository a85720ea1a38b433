"""Every statement a run's lifecycle makes on the execution tables, by the run's id and never on a caller's
behalf: create, the guarded transitions, the settle UPDATE, the runner's progress (heartbeat, steps, items,
log), review rows and the rescue's queries. Caller-scoped reads live in ``repository`` (the visibility rule).

Progress writes go to the progress pool (``durable=False``): the runner may lose its last beat, never a
transition. Each function is one round trip; the runner's buffered items and log lines ride along with the
statement that follows them (``Buffered``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from agentledger.platform.database import fetch, on_commit
from agentledger.platform.executions import events, states
from agentledger.platform.executions.tables import Execution
from agentledger.platform.scoping import Scope, workspace_sql

if TYPE_CHECKING:
    from agentledger.platform.executions.service import NewRun

SILENT = "(heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => {}))"
"""The staleness rule: no heartbeat for ``{}`` seconds (the worker died or hangs)."""
STALE_GUARD = f"{SILENT} AND attempts = {{}}"
"""Still silent, and still the attempt the rescue saw: a run that came back to life is left alone."""

END_PAUSE = ("paused_ms = paused_ms + COALESCE((extract(epoch FROM now() - paused_at) * 1000)::bigint, 0), "
             "paused_at = NULL")
"""SQL: a pause (or a review wait) ends; its time is added up so neither duration nor time limit counts it."""


# --- creating a run ------------------------------------------------------------------------------------
async def insert_queued(execution_id: UUID, scope: Scope, run: NewRun, reserved: int) -> dict[str, Any]:
    rows = await fetch(  # raw SQL: every start passes here (the ORM's insert costs more than the query)
        "INSERT INTO executions (id, workspace, started_by, triggered_by, agent, agent_version, inputs, mode, "
        "status, scope, base_cost, per_item_cost, estimate, credits_reserved, rerun_of, reuse_steps, "
        "skip_processed, time_limit_seconds, schedule, trigger_token) VALUES ({}, {}, {}, {}, {}, {}, {}::jsonb, {}, "
        "'queued', {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) RETURNING *",
        execution_id, scope.workspace_id, scope.user_id, run.triggered_by, run.agent, run.version_id,
        json.dumps(run.inputs), run.mode, run.scope, run.base_cost, run.per_item_cost, run.estimate, reserved,
        run.rerun_of, run.reuse_steps, run.skip_processed, run.time_limit_seconds, run.schedule, run.trigger_token,
    )
    return rows[0]


async def insert_unstarted(execution_id: UUID, scope: Scope, agent: str, inputs: dict[str, Any], mode: str,
                           triggered_by: str, schedule: UUID | None) -> dict[str, Any]:
    """A run that will not start (``service.record_refused`` finishes it as failed at once): nothing reserved."""
    rows = await fetch(
        "INSERT INTO executions (id, workspace, started_by, triggered_by, agent, inputs, mode, status, scope, "
        "schedule) VALUES ({}, {}, {}, {}, {}, {}::jsonb, {}, 'queued', 1, {}) RETURNING *",
        execution_id, scope.workspace_id, scope.user_id, triggered_by, agent[:64], json.dumps(inputs), mode, schedule)
    return rows[0]


async def agent_version_id(agent: str, label: str, sha256: str, source: str) -> UUID:
    """The row of this exact agent code, added the first time a run uses it."""
    rows = await fetch(
        "WITH added AS (INSERT INTO agent_versions (id, agent, label, sha256, source, created_at) "
        "VALUES (gen_random_uuid(), {}, {}, {}, {}, now()) ON CONFLICT (agent, sha256) DO NOTHING RETURNING id) "
        "SELECT id FROM added UNION ALL SELECT id FROM agent_versions WHERE agent = {} AND sha256 = {} LIMIT 1",
        agent, label, sha256, source, agent, sha256,
    )
    if not rows:  # another transaction added it after this statement's snapshot: read it now
        rows = await fetch("SELECT id FROM agent_versions WHERE agent = {} AND sha256 = {}", agent, sha256)
    return rows[0]["id"]


async def hide(execution_id: UUID) -> None:
    await fetch("UPDATE executions SET deleted_at = now() WHERE id = {} AND deleted_at IS NULL", execution_id)


# --- reads by id ---------------------------------------------------------------------------------------
async def get_by_id(execution_id: UUID) -> dict[str, Any] | None:
    """For the runner and the rescue, which act on a run by its id, never on a caller's behalf."""
    return await Execution.select().where(Execution.id == execution_id).first()


async def item_counts(execution_id: UUID) -> tuple[int, int]:
    rows = await fetch(
        "SELECT count(*) FILTER (WHERE status = 'done') AS done, count(*) FILTER (WHERE status = 'failed') "
        "AS failed FROM execution_items WHERE execution = {}", execution_id)
    return rows[0]["done"], rows[0]["failed"]


async def control_flags(execution_id: UUID) -> dict[str, Any] | None:
    """What a worker polls while it runs: the state and the stop requests (a primary-key read on the
    progress pool, twice a second per running run)."""
    rows = await fetch("SELECT status, attempts, cancel_requested, pause_requested FROM executions WHERE id = {}",
                       execution_id, durable=False)
    return rows[0] if rows else None


async def processed_items(execution_id: UUID, *, done_only: bool = False) -> dict[str, str]:
    """The items a run recorded (key -> done | failed), for an attempt that continues it or a retry."""
    rows = await fetch("SELECT key, status FROM execution_items WHERE execution = {} AND (status = 'done' OR NOT {})",
                       execution_id, done_only)
    return {r["key"]: r["status"] for r in rows}


async def latest_steps(execution_id: UUID) -> list[dict[str, Any]]:
    """Each position's step as the run's latest attempt left it, in order (what a resumed attempt reuses)."""
    return await fetch(
        "SELECT DISTINCT ON (position) position, name, status, output FROM execution_steps "
        "WHERE execution = {} ORDER BY position, attempt DESC", execution_id)


# --- guarded transitions -------------------------------------------------------------------------------
async def transition(execution_id: UUID, allowed: tuple[str, ...], changes: str, *args: Any,
                     guard: str = "TRUE", guard_args: tuple[Any, ...] = ()) -> dict[str, Any] | None:
    """The guarded UPDATE: apply ``changes`` (SQL SET list with ``{}`` placeholders) only from ``allowed``
    and only while ``guard`` holds (e.g. ``attempts = {}``: the worker that claimed it still owns it)."""
    rows = await fetch(
        f"UPDATE executions SET {changes} WHERE id = {{}} AND status = ANY({{}}) AND ({guard}) RETURNING *",
        *args, execution_id, list(allowed), *guard_args,
    )
    if not rows:
        return None
    pending = on_commit(lambda: events.publish_status(rows[0]))  # every state change, once it is committed
    if pending is not None:
        await pending
    return rows[0]


async def claim(execution_id: UUID) -> dict[str, Any] | None:
    """A worker takes a queued run (a duplicate message finds it no longer queued)."""
    return await transition(
        execution_id, states.CLAIM_FROM,
        "status = 'running', started_at = COALESCE(started_at, now()), heartbeat_at = now(), attempts = attempts + 1, "
        f"{END_PAUSE}")


async def request_cancel(execution_id: UUID) -> dict[str, Any] | None:
    return await transition(execution_id, states.CANCEL_REQUEST_FROM, "cancel_requested = true")


async def request_pause(execution_id: UUID) -> dict[str, Any] | None:
    return await transition(execution_id, states.PAUSE_FROM, "pause_requested = true", guard="NOT cancel_requested")


async def withdraw_pause(execution_id: UUID) -> dict[str, Any] | None:
    """A resume that came while the run was still pausing: it simply carries on."""
    return await transition(execution_id, (states.RUNNING,), "pause_requested = false",
                            guard="pause_requested AND NOT cancel_requested")


async def requeue_paused(execution_id: UUID) -> dict[str, Any] | None:
    return await transition(execution_id, states.RESUME_FROM,
                            "status = 'queued', pause_requested = false, queued_at = now()")


async def hand_back(execution_id: UUID, attempt: int) -> dict[str, Any] | None:
    """``paused``, or straight back to the queue when a resume came in the meantime (see ``service.hand_back``)."""
    return await transition(
        execution_id, states.PAUSE_HANDOFF_FROM,
        "status = CASE WHEN pause_requested THEN 'paused' ELSE 'queued' END, pause_requested = false, "
        "heartbeat_at = NULL, paused_at = now(), queued_at = CASE WHEN pause_requested THEN queued_at ELSE now() END",
        guard="NOT cancel_requested AND attempts = {}", guard_args=(attempt,))


async def await_review(execution_id: UUID, attempt: int) -> dict[str, Any] | None:
    """The running attempt asks for a review: the run waits without a worker."""
    return await transition(
        execution_id, states.REVIEW_FROM,
        "status = 'awaiting_review', awaited_review = true, heartbeat_at = NULL, paused_at = now()",
        guard="NOT cancel_requested AND attempts = {}", guard_args=(attempt,))


async def requeue_decided(execution_id: UUID) -> dict[str, Any] | None:
    """Someone decided the review: the run goes back to the queue."""
    return await transition(execution_id, states.DECIDE_FROM, "status = 'queued', queued_at = now()")


async def requeue_stale(execution_id: UUID, stale_seconds: float, seen_attempts: int) -> dict[str, Any] | None:
    """A silent worker's run goes back to the queue (or to ``paused`` when a pause was asked for)."""
    return await transition(
        execution_id, states.LIVE,
        "status = CASE WHEN pause_requested THEN 'paused' ELSE 'queued' END, pause_requested = false, "
        "paused_at = CASE WHEN pause_requested THEN now() END, heartbeat_at = NULL, queued_at = now(), "
        "lost_workers = lost_workers + 1",
        guard=f"NOT cancel_requested AND {STALE_GUARD}", guard_args=(stale_seconds, seen_attempts))


@dataclass(frozen=True, slots=True)
class Settlement:
    """What ``settle`` writes: the final status, the counts, the money and why it ended."""

    status: str
    processed: int
    failed: int
    charge: int
    refund: int
    error: str | None = None
    traceback: str | None = None
    failed_step: int | None = None


async def settle(execution_id: UUID, from_states: tuple[str, ...], end: Settlement, *, attempt: int | None = None,
                 silent_for: float | None = None) -> dict[str, Any] | None:
    """The one UPDATE that ends a run. ``attempt``: only while that attempt owns it; ``silent_for``: only while
    its heartbeat is that stale (the rescue's view still holds)."""
    guard, guard_args = "TRUE", ()
    if silent_for is not None:
        guard, guard_args = SILENT, (silent_for,)
    if attempt is not None:
        guard, guard_args = f"({guard}) AND attempts = {{}}", (*guard_args, attempt)
    return await transition(
        execution_id, from_states,
        "status = {}, finished_at = now(), items_processed = {}, items_failed = {}, credits_charged = {}, "
        "credits_refunded = {}, error_message = {}, error_traceback = {}, failed_step = {}, heartbeat_at = NULL, "
        f"{END_PAUSE}",
        end.status, end.processed, end.failed, end.charge, end.refund, end.error, end.traceback, end.failed_step,
        guard=guard, guard_args=guard_args)


# --- the runner's progress (progress pool) -------------------------------------------------------------
@dataclass
class Buffered:
    """Writes waiting for the runner's next statement, as CTEs and their arguments (one round trip)."""

    parts: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def add_items(self, execution_id: UUID, items: dict[str, tuple[str, str | None, str | None]]) -> None:
        """``items``: key -> (status, reason, detail as JSON text)."""
        keys = list(items)
        self.parts.append(
            "items AS (INSERT INTO execution_items (id, execution, key, status, reason, detail, at) "
            "SELECT gen_random_uuid(), {}, k, s, r, d::jsonb, now() "
            "FROM unnest({}::text[], {}::text[], {}::text[], {}::text[]) AS t(k, s, r, d) "
            "ON CONFLICT (execution, key) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason, "
            "detail = EXCLUDED.detail, at = EXCLUDED.at)")
        self.args += [execution_id, keys, [items[k][0] for k in keys], [items[k][1] for k in keys],
                      [items[k][2] for k in keys]]

    def add_logs(self, execution_id: UUID, logs: list[tuple[str, str]]) -> None:
        self.parts.append(
            "logs AS (INSERT INTO execution_logs (execution, at, level, message) "
            "SELECT {}, clock_timestamp(), l, m FROM unnest({}::text[], {}::text[]) AS t(l, m))")
        self.args += [execution_id, [lv for lv, _ in logs], [m for _, m in logs]]

    async def run(self, statement: str, *args: Any) -> list[dict[str, Any]]:
        prefix = f"WITH {', '.join(self.parts)} " if self.parts else ""
        return await fetch(prefix + statement, *self.args, *args, durable=False)


async def flush(buffered: Buffered) -> list[dict[str, Any]]:
    return await buffered.run("SELECT 1")


async def heartbeat(buffered: Buffered, execution_id: UUID, attempt: int,
                    progress: tuple[int, int] | None) -> list[dict[str, Any]]:
    """The beat (with progress, if any), answering the stop requests; no row when the run is no longer ours."""
    return await buffered.run(
        "UPDATE executions SET heartbeat_at = now(), progress_done = COALESCE({}, progress_done), "
        "progress_total = COALESCE({}, progress_total) WHERE id = {} AND status = ANY({}) AND attempts = {} "
        "RETURNING cancel_requested, pause_requested",
        *(progress or (None, None)), execution_id, list(states.LIVE), attempt)


async def insert_step(execution_id: UUID, attempt: int, position: int, name: str, status: str,
                      input_json: str | None, output_json: str | None) -> UUID:
    rows = await fetch(
        "INSERT INTO execution_steps (id, execution, position, attempt, name, status, retries, input, output, "
        "started_at, finished_at, duration_ms) VALUES (gen_random_uuid(), {}, {}, {}, {}, {}, 0, {}::jsonb, "
        "{}::jsonb, clock_timestamp(), CASE WHEN {} = 'reused' THEN clock_timestamp() END, "
        "CASE WHEN {} = 'reused' THEN 0 END) RETURNING id",
        execution_id, position, attempt, name, status, input_json, output_json, status, status, durable=False)
    return rows[0]["id"]


async def end_step(buffered: Buffered, step_id: UUID, status: str, output_json: str | None, error: str | None,
                   retries: int, duration_ms: int) -> list[dict[str, Any]]:
    """Close the step and write what it produced, in one statement."""
    return await buffered.run(
        "UPDATE execution_steps SET status = {}, output = {}::jsonb, error = {}, retries = {}, "
        "finished_at = clock_timestamp(), duration_ms = {} WHERE id = {}",
        status, output_json, error, retries, duration_ms, step_id)


async def mark_step_failed(execution_id: UUID, attempt: int, position: int, error: str) -> None:
    """A step that ran to its end but whose every item failed is where the run broke."""
    await fetch("UPDATE execution_steps SET status = 'failed', error = {} WHERE execution = {} AND attempt = {} "
                "AND position = {}", error, execution_id, attempt, position, durable=False)


async def skip_waiting_step(execution_id: UUID) -> None:
    """The review step nobody decided ends with its run."""
    await fetch("UPDATE execution_steps SET status = 'skipped', finished_at = now(), duration_ms = "
                "(extract(epoch FROM now() - started_at) * 1000)::int "
                "WHERE execution = {} AND status = 'waiting'", execution_id)


async def step_name(execution_id: UUID, position: int) -> str | None:
    """The name of the run's step at ``position`` (the failed step, for the failure's email)."""
    rows = await fetch("SELECT name FROM execution_steps WHERE execution = {} AND position = {}", execution_id, position)
    return rows[0]["name"] if rows else None


# --- review rows ---------------------------------------------------------------------------------------
async def review_decided(execution_id: UUID, step: int) -> dict[str, Any] | None:
    rows = await fetch("SELECT r.status, r.comment, r.decided_by, u.name AS decided_by_name FROM execution_reviews r "
                       "LEFT JOIN users u ON u.id = r.decided_by WHERE r.execution = {} AND r.step = {} "
                       "AND r.status <> 'pending'", execution_id, step)
    return rows[0] if rows else None


async def review_pending(execution_id: UUID) -> dict[str, Any] | None:
    rows = await fetch("SELECT r.title, r.summary, r.created_at FROM execution_reviews r JOIN executions e "
                       "ON e.id = r.execution WHERE r.execution = {} AND r.status = 'pending' "
                       "AND e.status = 'awaiting_review'", execution_id)
    return rows[0] if rows else None


async def review_steps(execution_id: UUID, workspace_id: UUID) -> list[dict[str, Any]]:
    """The run's review rows in order (``reviews.decisions`` checked the caller may see the run)."""
    return await fetch(
        "SELECT r.step, r.title, r.summary, r.status, r.comment, r.decided_at, r.decided_by AS decided_by_id, "
        "u.name AS decided_by FROM execution_reviews r LEFT JOIN users u ON u.id = r.decided_by "
        f"WHERE r.execution = {{}} AND {workspace_sql('r')} ORDER BY r.step", execution_id, workspace_id)


async def insert_review(run: dict[str, Any], step: int, title: str, summary: str | None) -> None:
    await fetch("INSERT INTO execution_reviews (id, workspace, execution, step, title, summary, status, created_at) "
                "VALUES (gen_random_uuid(), {}, {}, {}, {}, {}, 'pending', now()) "
                "ON CONFLICT (execution, step) DO NOTHING", run["workspace"], run["id"], step, title[:200], summary)


async def decide_review(execution_id: UUID, status: str, comment: str | None, user_id: UUID) -> dict[str, Any] | None:
    """Record the decision on the pending review; None when none was pending."""
    rows = await fetch(
        "UPDATE execution_reviews SET status = {}, comment = {}, decided_by = {}, decided_at = now() "
        "WHERE execution = {} AND status = 'pending' "
        "RETURNING step, title, (SELECT name FROM users WHERE id = decided_by) AS decided_by_name",
        status, comment, user_id, execution_id)
    return rows[0] if rows else None


async def close_review_step(execution_id: UUID, position: int, status: str, output: dict[str, Any]) -> None:
    await fetch("UPDATE execution_steps SET status = {}, output = {}::jsonb, finished_at = now(), "
                "duration_ms = (extract(epoch FROM now() - started_at) * 1000)::int "
                "WHERE execution = {} AND position = {} AND status = 'waiting'",
                status, json.dumps(output, default=str), execution_id, position)


# --- the rescue's queries ------------------------------------------------------------------------------
async def silent_runs(stale_after: float, limit: int) -> list[dict[str, Any]]:
    return await fetch(  # a literal state, so the partial index on live runs applies
        f"SELECT id, attempts, lost_workers, cancel_requested FROM executions WHERE status = 'running' "
        f"AND {SILENT} LIMIT {{}}", stale_after, limit)


async def unreviewed_runs(timeout_seconds: float, limit: int) -> list[dict[str, Any]]:
    return await fetch(
        "SELECT e.id FROM executions e JOIN execution_reviews r ON r.execution = e.id AND r.status = 'pending' "
        "WHERE e.status = 'awaiting_review' AND r.created_at < now() - make_interval(secs => {}) LIMIT {}",
        timeout_seconds, limit)


async def long_queued(queued_for: float, limit: int) -> list[UUID]:
    rows = await fetch(  # oldest first: the queue is FIFO, so the oldest are next to run or lost
        "SELECT id FROM executions WHERE status = 'queued' AND queued_at < now() - make_interval(secs => {}) "
        "ORDER BY queued_at LIMIT {}", queued_for, limit)
    return [r["id"] for r in rows]


async def still_queued(ids: list[UUID]) -> list[UUID]:
    rows = await fetch("SELECT id FROM executions WHERE id = ANY({}) AND status = 'queued'", ids)
    return [r["id"] for r in rows]


# --- history ---------------------------------------------------------------------------------------------
HISTORY_COLUMNS = (  # (column, PostgreSQL array type) of a finished run written with its own times
    ("id", "uuid"), ("workspace", "uuid"), ("started_by", "uuid"), ("triggered_by", "text"), ("agent", "text"),
    ("inputs", "jsonb"), ("status", "text"), ("scope", "int"), ("progress_done", "int"), ("progress_total", "int"),
    ("items_processed", "int"), ("items_failed", "int"), ("base_cost", "bigint"), ("per_item_cost", "bigint"),
    ("estimate", "bigint"), ("credits_reserved", "bigint"), ("credits_charged", "bigint"),
    ("credits_refunded", "bigint"), ("error_message", "text"), ("attempts", "int"), ("queued_at", "timestamptz"),
    ("started_at", "timestamptz"), ("finished_at", "timestamptz"), ("created_at", "timestamptz"),
)


async def insert_history(runs: list[dict[str, Any]]) -> None:
    """Runs that finished in the past, with their own times (the demo's year of history): one statement
    per batch. Their credits are the ledger's to write (``ledger.import_history``)."""
    names = ", ".join(c for c, _ in HISTORY_COLUMNS)
    arrays = ", ".join(f"{{}}::{t}[]" for _, t in HISTORY_COLUMNS)
    columns = [[json.dumps(r[c]) if t == "jsonb" else r[c] for r in runs] for c, t in HISTORY_COLUMNS]
    await fetch(f"INSERT INTO executions ({names}, mode) SELECT *, 'live' FROM unnest({arrays})", *columns)
