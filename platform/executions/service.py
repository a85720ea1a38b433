"""Execution lifecycle: create (reserve credits, enqueue), cancel, pause, resume, finish, requeue.

Services never commit: callers wrap them in ``atomic()``. ``finish`` moves a run to its final state
and settles its credits in the caller's one transaction, so status and money cannot disagree.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from agentledger.billing import ledger
from agentledger.platform import audit
from agentledger.platform.broker import enqueue_by_name
from agentledger.platform.database import fetch, on_commit
from agentledger.platform.errors import Conflict
from agentledger.platform.executions import events, repository, states
from agentledger.platform.scoping import Scope

RUN_ACTOR, RUN_QUEUE = "run_execution", "runs"


@dataclass(frozen=True, slots=True)
class NewRun:
    agent: str
    version_id: UUID | None
    version_label: str | None
    version_sha256: str | None
    inputs: dict[str, Any]
    scope: int
    mode: str
    triggered_by: str
    base_cost: int
    per_item_cost: int
    time_limit_seconds: int
    rerun_of: UUID | None = None
    reuse_steps: bool = False
    skip_processed: bool = False
    trigger_token: UUID | None = None
    schedule: UUID | None = None

    @property
    def estimate(self) -> int:
        return self.base_cost + self.per_item_cost * self.scope


async def create(scope: Scope, run: NewRun) -> dict[str, Any]:
    """Record the run, hold its estimate (402 and nothing written when the wallet is short), queue it."""
    execution_id = uuid.uuid4()
    reserved = run.estimate if run.mode == "live" else 0  # test runs charge nothing
    rows = await fetch(  # raw SQL: every start passes here (the ORM's insert costs more than the query)
        "INSERT INTO executions (id, workspace, started_by, triggered_by, agent, agent_version, inputs, mode, "
        "status, scope, base_cost, per_item_cost, estimate, credits_reserved, rerun_of, reuse_steps, "
        "skip_processed, time_limit_seconds, schedule, trigger_token) VALUES ({}, {}, {}, {}, {}, {}, {}::jsonb, {}, "
        "'queued', {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) RETURNING *",
        execution_id, scope.workspace_id, scope.user_id, run.triggered_by, run.agent, run.version_id,
        json.dumps(run.inputs), run.mode, run.scope, run.base_cost, run.per_item_cost, run.estimate, reserved,
        run.rerun_of, run.reuse_steps, run.skip_processed, run.time_limit_seconds, run.schedule, run.trigger_token,
    )
    await ledger.reserve(scope.workspace_id, execution_id, reserved)
    enqueue_run(execution_id)
    on_commit(lambda: events.publish_status(rows[0]))  # the list shows the new run
    return {**rows[0], "inputs": run.inputs, "version_label": run.version_label, "version_sha256": run.version_sha256}


async def record_refused(scope: Scope, agent: str, inputs: dict[str, Any], mode: str, triggered_by: str,
                         reason: str, schedule: UUID | None = None) -> dict[str, Any]:
    """A run that could not start (no credits, inputs the agent no longer accepts) is still on the record:
    failed, with the reason, nothing reserved. Scheduled runs are never skipped silently."""
    rows = await fetch(
        "INSERT INTO executions (id, workspace, started_by, triggered_by, agent, inputs, mode, status, scope, "
        "error_message, finished_at, schedule) VALUES (gen_random_uuid(), {}, {}, {}, {}, {}::jsonb, {}, 'failed', 1, "
        "{}, now(), {}) RETURNING *",
        scope.workspace_id, scope.user_id, triggered_by, agent[:64], json.dumps(inputs), mode, reason[:2000], schedule)
    return rows[0]


def enqueue_run(execution_id: UUID) -> None:
    """Hand the run to a worker once the current transaction commits."""
    enqueue_by_name(RUN_ACTOR, RUN_QUEUE, str(execution_id))


def _illegal(action: str, row: dict[str, Any]) -> Conflict:
    note = states.status_note(row)
    state = note.rstrip("…") if note and note.endswith("…") else row["status"].replace("_", " ")
    return Conflict(f"cannot {action} an execution that is {state}", field="status")


async def cancel(scope: Scope, execution_id: UUID) -> dict[str, Any]:
    """Queued, paused or awaiting review (no worker holds it): canceled now, processed items charged, the
    rest refunded. Running: the worker stops the agent within a second, or at its next item."""
    row = await repository.get(scope, execution_id, to_act=True)
    _allowed("cancel", row)
    done = await finish(execution_id, states.CANCELED, from_states=states.CANCEL_NOW_FROM, current=row)
    if done is None:
        requested = await repository.transition(execution_id, states.CANCEL_REQUEST_FROM, "cancel_requested = true")
        if requested is None:
            raise _illegal("cancel", await repository.get(scope, execution_id))
    await audit.record("execution.cancel", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(execution_id), status=row["status"])
    return await repository.get(scope, execution_id)


async def delete(scope: Scope, execution_id: UUID) -> None:
    """Hide a finished run from everyone. Nothing is refunded: its credits stay on the ledger, which
    keeps every movement; a run still going must be canceled first."""
    row = await repository.get(scope, execution_id, to_act=True)
    if row["status"] not in states.FINAL:
        raise Conflict(f"cancel the run first: it is {row['status'].replace('_', ' ')}", field="status")
    await fetch("UPDATE executions SET deleted_at = now() WHERE id = {} AND deleted_at IS NULL", execution_id)
    await audit.record("execution.delete", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(execution_id), agent=row["agent"], credits_charged=row["credits_charged"])


async def pause(scope: Scope, execution_id: UUID) -> dict[str, Any]:
    """Ask the agent to pause at its next safe point ("pausing…"); the worker then hands the run back."""
    row = await repository.get(scope, execution_id, to_act=True)
    _allowed("pause", row)
    if await repository.transition(execution_id, states.PAUSE_FROM, "pause_requested = true",
                                   guard="NOT cancel_requested") is None:
        raise _illegal("pause", await repository.get(scope, execution_id))
    await audit.record("execution.pause", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(execution_id))
    return await repository.get(scope, execution_id)


async def resume(scope: Scope, execution_id: UUID) -> dict[str, Any]:
    """A paused run goes back to the queue and continues from its recorded steps and items; a run still
    pausing simply carries on."""
    row = await repository.get(scope, execution_id, to_act=True)  # 404 unless the caller may see it
    _allowed("resume", row)
    not_yet_paused = await repository.transition(execution_id, (states.RUNNING,), "pause_requested = false",
                                                 guard="pause_requested AND NOT cancel_requested")
    if not_yet_paused is None:
        if await repository.transition(execution_id, states.RESUME_FROM,
                                       "status = 'queued', pause_requested = false, queued_at = now()") is None:
            raise _illegal("resume", await repository.get(scope, execution_id))
        enqueue_run(execution_id)
    await audit.record("execution.resume", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(execution_id))
    return await repository.get(scope, execution_id)


END_PAUSE = ("paused_ms = paused_ms + COALESCE((extract(epoch FROM now() - paused_at) * 1000)::bigint, 0), "
             "paused_at = NULL")
"""SQL: a pause (or a review wait) ends; its time is added up so neither duration nor time limit counts it."""


async def hand_back(execution_id: UUID, attempt: int) -> dict[str, Any] | None:
    """For the runner: its agent reached a safe point after a pause request, so the run stops holding a
    worker: ``paused``, or straight back to the queue when a resume came in the meantime. None when a
    cancel came first or another worker owns the run."""
    row = await repository.transition(
        execution_id, states.PAUSE_HANDOFF_FROM,
        "status = CASE WHEN pause_requested THEN 'paused' ELSE 'queued' END, pause_requested = false, "
        "heartbeat_at = NULL, paused_at = now(), queued_at = CASE WHEN pause_requested THEN queued_at ELSE now() END",
        guard="NOT cancel_requested AND attempts = {}", guard_args=(attempt,))
    if row is not None and row["status"] == states.QUEUED:
        enqueue_run(execution_id)
    return row


def _allowed(action: str, row: dict[str, Any]) -> None:
    """409 unless ``action`` is one ``states.actions`` offers for the run as it is now."""
    if action not in states.actions(row):
        raise _illegal(action, row)


async def finish(execution_id: UUID, status: str, *, items_processed: int | None = None,
                 items_failed: int | None = None, error: str | None = None, traceback: str | None = None,
                 from_states: tuple[str, ...] = states.FINISH_FROM,
                 current: dict[str, Any] | None = None, attempt: int | None = None,
                 guard: str = "TRUE", guard_args: tuple[Any, ...] = (),
                 failed_step: int | None = None) -> dict[str, Any] | None:
    """Move the run to ``status`` and settle: completed/partial/canceled/timed_out charge base + the
    processed items, failed refunds everything, and so does a cancel before any item was processed. None
    when the run was not in ``from_states`` (someone else won).
    ``current`` (the runner's claimed row) saves a read; price and hold never change after creation.
    ``attempt`` fences the runner: a worker the reaper replaced cannot finish the run."""
    current = current or await repository.get_by_id(execution_id)
    if current is None:
        return None
    if items_processed is None and current["attempts"]:  # a worker processed items before it was lost
        items_processed, items_failed = await repository.item_counts(execution_id)
    processed = current["items_processed"] if items_processed is None else items_processed
    failed = current["items_failed"] if items_failed is None else items_failed
    if attempt is not None:
        guard, guard_args = f"({guard}) AND attempts = {{}}", (*guard_args, attempt)
    reserved = current["credits_reserved"]
    charge = 0
    nothing_done = status == states.CANCELED and (not current["attempts"] or not processed)
    if status != states.FAILED and reserved and not nothing_done:
        charge = min(reserved, current["base_cost"] + current["per_item_cost"] * processed)
    row = await repository.transition(
        execution_id, from_states,
        "status = {}, finished_at = now(), items_processed = {}, items_failed = {}, credits_charged = {}, "
        "credits_refunded = {}, error_message = {}, error_traceback = {}, failed_step = {}, heartbeat_at = NULL, "
        f"{END_PAUSE}",
        status, processed, failed, charge, reserved - charge, error, traceback, failed_step, guard=guard,
        guard_args=guard_args,
    )
    if row is not None:
        await ledger.resolve(row["workspace"], execution_id, reserved, charge)
        if current["status"] == states.AWAITING_REVIEW:  # the review step nobody decided ends with its run
            await fetch("UPDATE execution_steps SET status = 'skipped', finished_at = now(), duration_ms = "
                        "(extract(epoch FROM now() - started_at) * 1000)::int "
                        "WHERE execution = {} AND status = 'waiting'", execution_id)
    return row


STALE_GUARD = "(heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => {})) AND attempts = {}"


async def requeue(execution_id: UUID, stale_seconds: float, seen_attempts: int) -> bool:
    """For the reaper: a live run whose worker went silent goes back to the queue, or straight to ``paused``
    when someone asked it to pause (it needs no worker to wait). Checked again here (still silent, same
    attempt), so a run that came back to life, or another reaper pass, is left alone. (A run someone
    asked to cancel is not re-queued: the reaper finishes it as canceled.)"""
    row = await repository.transition(
        execution_id, states.LIVE,
        "status = CASE WHEN pause_requested THEN 'paused' ELSE 'queued' END, pause_requested = false, "
        "paused_at = CASE WHEN pause_requested THEN now() END, heartbeat_at = NULL, queued_at = now(), "
        "lost_workers = lost_workers + 1",
        guard=f"NOT cancel_requested AND {STALE_GUARD}", guard_args=(stale_seconds, seen_attempts))
    if row is not None and row["status"] == states.QUEUED:
        enqueue_run(execution_id)
    return row is not None
