"""Execution lifecycle: create (reserve credits, enqueue), cancel, pause, resume, finish, requeue.

Services never commit: callers wrap them in ``atomic()``. ``finish`` moves a run to its final state
and settles its credits in the caller's one transaction, so status and money cannot disagree; every way
a run ends (the runner, the rescue, a cancel, a review nobody decides, a run refused at its start) passes
through it, and it tells notifications (``run_finished``). Prices come from ``billing.pricing``; the
statements are in ``lifecycle_repository``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from agentledger.billing import ledger, pricing
from agentledger.notifications import service as notifications
from agentledger.platform import audit
from agentledger.platform.broker import enqueue_by_name
from agentledger.platform.database import on_commit
from agentledger.platform.errors import Conflict
from agentledger.platform.executions import events, repository, states
from agentledger.platform.executions import lifecycle_repository as lifecycle
from agentledger.platform.executions.ids import new_run_id
from agentledger.platform.scoping import Scope

RUN_ACTOR, RUN_QUEUE = "run_execution", "runs"
"""The actor that runs an execution and its queue: ``agents.tasks`` declares it with these, the rescue looks
for its messages under them."""


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
        return pricing.price(self.base_cost, self.per_item_cost, self.scope)


async def create(scope: Scope, run: NewRun) -> dict[str, Any]:
    """Record the run, hold its estimate (402 and nothing written when the wallet is short), queue it."""
    execution_id = new_run_id()
    reserved = run.estimate if run.mode == "live" else 0  # test runs charge nothing
    row = await lifecycle.insert_queued(execution_id, scope, run, reserved)
    await ledger.reserve(scope.workspace_id, execution_id, reserved, agent=run.agent, member=row["started_by"])
    enqueue_run(execution_id)
    on_commit(lambda: events.publish_status(row))  # the list shows the new run
    return {**row, "inputs": run.inputs, "version_label": run.version_label, "version_sha256": run.version_sha256}


async def record_refused(scope: Scope, agent: str, inputs: dict[str, Any], mode: str, triggered_by: str,
                         reason: str, schedule: UUID | None = None) -> dict[str, Any]:
    """A run that could not start (no credits, inputs the agent no longer accepts) is still on the record:
    failed, with the reason, nothing reserved. Scheduled runs are never skipped silently. It ends through
    ``finish`` like every run (recorded as queued, failed in the same transaction: nobody sees it queued)."""
    row = await lifecycle.insert_unstarted(new_run_id(), scope, agent, inputs, mode, triggered_by, schedule)
    finished = await finish(row["id"], states.FAILED, from_states=(states.QUEUED,), current=row, error=reason[:2000])
    assert finished is not None, "nobody else can see the row yet"
    return finished


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
        if await lifecycle.request_cancel(execution_id) is None:
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
    await lifecycle.hide(execution_id)
    await audit.record("execution.delete", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(execution_id), agent=row["agent"], credits_charged=row["credits_charged"])


async def pause(scope: Scope, execution_id: UUID) -> dict[str, Any]:
    """Ask the agent to pause at its next safe point ("pausing…"); the worker then hands the run back."""
    row = await repository.get(scope, execution_id, to_act=True)
    _allowed("pause", row)
    if await lifecycle.request_pause(execution_id) is None:
        raise _illegal("pause", await repository.get(scope, execution_id))
    await audit.record("execution.pause", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(execution_id))
    return await repository.get(scope, execution_id)


async def resume(scope: Scope, execution_id: UUID) -> dict[str, Any]:
    """A paused run goes back to the queue and continues from its recorded steps and items; a run still
    pausing simply carries on."""
    row = await repository.get(scope, execution_id, to_act=True)  # 404 unless the caller may see it
    _allowed("resume", row)
    if await lifecycle.withdraw_pause(execution_id) is None:
        if await lifecycle.requeue_paused(execution_id) is None:
            raise _illegal("resume", await repository.get(scope, execution_id))
        enqueue_run(execution_id)
    await audit.record("execution.resume", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(execution_id))
    return await repository.get(scope, execution_id)


async def hand_back(execution_id: UUID, attempt: int) -> dict[str, Any] | None:
    """For the runner: its agent reached a safe point after a pause request, so the run stops holding a
    worker: ``paused``, or straight back to the queue when a resume came in the meantime. None when a
    cancel came first or another worker owns the run."""
    row = await lifecycle.hand_back(execution_id, attempt)
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
                 silent_for: float | None = None, failed_step: int | None = None) -> dict[str, Any] | None:
    """Move the run to ``status``, settle its credits (``pricing.charge``) and emit ``run_finished``: the one
    way a run ends. None when the run was not in ``from_states`` (someone else won).
    ``current`` (the runner's claimed row) saves a read; price and hold never change after creation.
    ``attempt`` fences the runner: a worker the rescue replaced cannot finish the run; ``silent_for``: the
    rescue's view (no heartbeat for that long) must still hold."""
    current = current or await lifecycle.get_by_id(execution_id)
    if current is None:
        return None
    if items_processed is None and current["attempts"]:  # a worker processed items before it was lost
        items_processed, items_failed = await lifecycle.item_counts(execution_id)
    processed = current["items_processed"] if items_processed is None else items_processed
    failed = current["items_failed"] if items_failed is None else items_failed
    reserved = current["credits_reserved"]
    charge = pricing.charge(current["base_cost"], current["per_item_cost"], processed, reserved=reserved,
                            failed=status == states.FAILED, canceled=status == states.CANCELED,
                            ever_claimed=bool(current["attempts"]))
    end = lifecycle.Settlement(status, processed, failed, charge, reserved - charge, error, traceback, failed_step)
    row = await lifecycle.settle(execution_id, from_states, end, attempt=attempt, silent_for=silent_for)
    if row is None:
        return None
    await ledger.resolve(row["workspace"], execution_id, reserved, charge, agent=row["agent"], member=row["started_by"],
                         reason=pricing.refund_reason(status))
    if current["status"] == states.AWAITING_REVIEW:  # the review step nobody decided ends with its run
        await lifecycle.skip_waiting_step(execution_id)
    failed_step_name = None if row["failed_step"] is None else await lifecycle.step_name(execution_id, row["failed_step"])
    await notifications.emit("run_finished", row["workspace"], run=row, previous_status=current["status"],
                             failed_step_name=failed_step_name)
    return row


async def requeue(execution_id: UUID, stale_seconds: float, seen_attempts: int) -> bool:
    """For the rescue: a live run whose worker went silent goes back to the queue, or straight to ``paused``
    when someone asked it to pause (it needs no worker to wait). Checked again here (still silent, same
    attempt), so a run that came back to life, or another rescue pass, is left alone. (A run someone
    asked to cancel is not re-queued: the rescue finishes it as canceled.)"""
    row = await lifecycle.requeue_stale(execution_id, stale_seconds, seen_attempts)
    if row is not None and row["status"] == states.QUEUED:
        enqueue_run(execution_id)
    return row is not None


# Reads the web tier serves (handlers call services only, DESIGN section 2): the repository's own, each
# taking the caller's scope; which runs a caller sees is ``repository.visible``, in one place.
get = repository.get
code = repository.code
step_value = repository.step_value
may_act = repository.may_act


async def run_names(scope: Scope, execution_ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    """For the books (admins): the agent and starter of each run behind the ledger's movements."""
    scope.require_admin()
    return await repository.run_names(scope, execution_ids)


visible_ids = repository.visible_ids  # the live events' visibility: the same rule


async def agent_outcomes(scope: Scope, since: Any, until: Any) -> dict[str, dict[str, Any]]:
    """What each agent's runs of the period came to (failed, re-run, recommendations approved and applied),
    by agent: the workspace's for admins, a member's own runs for a member (the credit audit's "value")."""
    rows = await repository.agent_outcomes(scope, since, until, own=not scope.is_admin)
    return {row.pop("agent"): row for row in rows}


async def read(scope: Scope, execution_id: UUID) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """A single read (the API's, an export's): the run the caller may see (404 otherwise) with the names
    behind its trigger, and its steps, log and items."""
    row = await repository.get_in_full(scope, execution_id)
    return row, await repository.children(scope, execution_id)


async def digest_activity(windows: list[tuple[UUID, Any, Any]]) -> dict[str, list[dict[str, Any]]]:
    """For the weekly digest: each person's own runs in their week (``repository.digest_activity``)."""
    return await repository.digest_activity(windows)
