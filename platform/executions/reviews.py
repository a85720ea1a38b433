"""Review steps: a run asks a person to decide, waits in ``awaiting_review`` without holding a worker,
and goes back to the queue when someone approves or rejects. The resumed attempt reuses the steps it
had finished, and the review step answers the decision."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from agentledger.notifications import service as notifications
from agentledger.platform import audit
from agentledger.platform.clock import now
from agentledger.platform.database import fetch
from agentledger.platform.errors import Conflict, Invalid
from agentledger.platform.executions import repository, service, states
from agentledger.platform.scoping import Scope, workspace_sql

DECISIONS = {"approve": "approved", "reject": "rejected"}


async def decided(execution_id: UUID, step: int) -> dict[str, Any] | None:
    """The decision recorded for review step ``step`` of the run, or None while nobody has decided."""
    rows = await fetch("SELECT r.status, r.comment, r.decided_by, u.name AS decided_by_name FROM execution_reviews r "
                       "LEFT JOIN users u ON u.id = r.decided_by WHERE r.execution = {} AND r.step = {} "
                       "AND r.status <> 'pending'", execution_id, step)
    return rows[0] if rows else None


async def pending(execution_id: UUID) -> dict[str, Any] | None:
    """The review the run waits for, if any (for the run page's decision box); a run canceled while it
    waited has none."""
    rows = await fetch("SELECT r.title, r.summary, r.created_at FROM execution_reviews r JOIN executions e "
                       "ON e.id = r.execution WHERE r.execution = {} AND r.status = 'pending' "
                       "AND e.status = 'awaiting_review'", execution_id)
    return rows[0] if rows else None


async def decisions(scope: Scope, execution_id: UUID) -> list[dict[str, Any]]:
    """The run's review steps in order, for the run page's card and the exports: title, summary, status
    (pending, approved, rejected), comment, who decided (name and id) and when. 404 unless the caller may
    see the run."""
    await repository.get(scope, execution_id)
    return await fetch(
        "SELECT r.step, r.title, r.summary, r.status, r.comment, r.decided_at, r.decided_by AS decided_by_id, "
        "u.name AS decided_by FROM execution_reviews r LEFT JOIN users u ON u.id = r.decided_by "
        f"WHERE r.execution = {{}} AND {workspace_sql('r')} ORDER BY r.step", execution_id, scope.workspace_id)


async def request(run: dict[str, Any], step: int, title: str, summary: str | None) -> None:
    """Record the review (in the runner's transaction that moves the run to awaiting_review); notifications
    tells whoever should decide."""
    await fetch("INSERT INTO execution_reviews (id, workspace, execution, step, title, summary, status, created_at) "
                "VALUES (gen_random_uuid(), {}, {}, {}, {}, {}, 'pending', now()) "
                "ON CONFLICT (execution, step) DO NOTHING", run["workspace"], run["id"], step, title[:200], summary)
    await notifications.emit("review_requested", run["workspace"], run=run, step=step, title=title, summary=summary)


async def decide(scope: Scope, execution_id: UUID, decision: str, comment: str | None) -> dict[str, Any]:
    """Record the decision and send the run back to the queue; 409 unless it is waiting for one."""
    if decision not in DECISIONS:
        raise Invalid("decision must be 'approve' or 'reject'", field="decision")
    if comment is not None and len(comment) > 5000:
        raise Invalid("comment must be at most 5,000 characters", field="comment")
    run = await repository.get(scope, execution_id, to_act=True)
    status = DECISIONS[decision]
    reviews = await fetch(
        "UPDATE execution_reviews SET status = {}, comment = {}, decided_by = {}, decided_at = now() "
        "WHERE execution = {} AND status = 'pending' "
        "RETURNING step, title, (SELECT name FROM users WHERE id = decided_by) AS decided_by_name",
        status, comment, scope.user_id, execution_id)
    if not reviews:
        raise Conflict(f"this run is not waiting for a review (it is {run['status'].replace('_', ' ')})",
                       field="status")
    step = reviews[0]["step"]
    queued = await repository.transition(execution_id, states.DECIDE_FROM, "status = 'queued', queued_at = now()")
    if queued is None:
        raise Conflict("this run is not waiting for a review", field="status")
    output = {"decision": status, "comment": comment, "decided_by": reviews[0]["decided_by_name"],
              "decided_by_id": scope.user_id, "at": now()}  # the step shows a name; the id is there to act on
    await fetch("UPDATE execution_steps SET status = {}, output = {}::jsonb, finished_at = now(), "
                "duration_ms = (extract(epoch FROM now() - started_at) * 1000)::int "
                "WHERE execution = {} AND position = {} AND status = 'waiting'",
                "succeeded" if status == "approved" else "rejected", json.dumps(output, default=str),
                execution_id, step)
    await fetch("UPDATE execution_results SET status = {}, decided_by = {}, decided_at = now(), updated_at = now() "
                "WHERE execution = {} AND kind = 'content' AND status = 'open'", status, scope.user_id, execution_id)
    service.enqueue_run(execution_id)
    await audit.record(f"execution.review.{decision}", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(execution_id), step=reviews[0]["title"])
    return await repository.get(scope, execution_id)
