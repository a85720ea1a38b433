"""Review steps: a run asks a person to decide, waits in ``awaiting_review`` without holding a worker,
and goes back to the queue when someone approves or rejects. The resumed attempt reuses the steps it
had finished, and the review step answers the decision."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from agentledger.notifications import service as notifications
from agentledger.platform import audit
from agentledger.platform.clock import now
from agentledger.platform.errors import Conflict, Invalid
from agentledger.platform.executions import lifecycle_repository as lifecycle
from agentledger.platform.executions import repository, service
from agentledger.platform.results import repository as results
from agentledger.platform.scoping import Scope

DECISIONS = {"approve": "approved", "reject": "rejected"}


async def decided(execution_id: UUID, step: int) -> dict[str, Any] | None:
    """The decision recorded for review step ``step`` of the run, or None while nobody has decided."""
    return await lifecycle.review_decided(execution_id, step)


async def pending(execution_id: UUID) -> dict[str, Any] | None:
    """The review the run waits for, if any (for the run page's decision box); a run canceled while it
    waited has none."""
    return await lifecycle.review_pending(execution_id)


async def decisions(scope: Scope, execution_id: UUID) -> list[dict[str, Any]]:
    """The run's review steps in order, for the run page's card and the exports: title, summary, status
    (pending, approved, rejected), comment, who decided (name and id) and when. 404 unless the caller may
    see the run."""
    await repository.get(scope, execution_id)
    return await lifecycle.review_steps(execution_id, scope.workspace_id)


async def request(run: dict[str, Any], step: int, title: str, summary: str | None) -> None:
    """Record the review (in the runner's transaction that moves the run to awaiting_review); notifications
    tells whoever should decide."""
    await lifecycle.insert_review(run, step, title, summary)
    await notifications.emit("review_requested", run["workspace"], run=run, step=step, title=title, summary=summary)


async def decide(scope: Scope, execution_id: UUID, decision: str, comment: str | None) -> dict[str, Any]:
    """Record the decision and send the run back to the queue; 409 unless it is waiting for one."""
    if decision not in DECISIONS:
        raise Invalid("decision must be 'approve' or 'reject'", field="decision")
    if comment is not None and len(comment) > 5000:
        raise Invalid("comment must be at most 5,000 characters", field="comment")
    run = await repository.get(scope, execution_id, to_act=True)
    status = DECISIONS[decision]
    review = await lifecycle.decide_review(execution_id, status, comment, scope.user_id)
    if review is None:
        raise Conflict(f"this run is not waiting for a review (it is {run['status'].replace('_', ' ')})",
                       field="status")
    if await lifecycle.requeue_decided(execution_id) is None:
        raise Conflict("this run is not waiting for a review", field="status")
    output = {"decision": status, "comment": comment, "decided_by": review["decided_by_name"],
              "decided_by_id": scope.user_id, "at": now()}  # the step shows a name; the id is there to act on
    await lifecycle.close_review_step(execution_id, review["step"], "succeeded" if status == "approved" else "rejected",
                                      output)
    await results.decide_open_content(execution_id, status, scope.user_id)
    service.enqueue_run(execution_id)
    await audit.record(f"execution.review.{decision}", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(execution_id), step=review["title"])
    return await repository.get(scope, execution_id)
