"""Acting on results: approve or reject (one or many), edit generated content (a new revision each
time), tick action items, and apply approved changes through the workspace's connector.

Apply claims each result in a short transaction, pushes with no transaction open, then records the
outcome: a second apply meanwhile is told the push is in flight, and one that comes after finds it
applied, so a change is never pushed twice; each carries an Idempotency-Key for the site as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from agentledger.platform import audit
from agentledger.platform.clock import now
from agentledger.platform.connectors import service as connectors
from agentledger.platform.database import atomic
from agentledger.platform.errors import Conflict, Invalid
from agentledger.platform.executions import repository as executions
from agentledger.platform.results import repository
from agentledger.platform.results.records import DECIDABLE
from agentledger.platform.results.tables import ExecutionResult as R
from agentledger.platform.scoping import Scope

DECISIONS = {"approve": "approved", "reject": "rejected"}
IN_FLIGHT = timedelta(minutes=2)  # a claimed push older than this was lost (a crash): it may be tried again
MAX_BATCH = 500


def _require_decidable(row: dict[str, Any]) -> None:
    if row["kind"] not in DECIDABLE:
        raise Conflict(f"a {row['kind'].replace('_', ' ')} cannot be approved or rejected", field="kind")


async def decide(scope: Scope, result_id: UUID, decision: str) -> dict[str, Any]:
    """Approve or reject an open (or re-decide an undecided-by-apply) result; applied ones are final."""
    row = await repository.get(scope, result_id, lock=True, to_act=True)
    _require_decidable(row)
    if row["status"] in ("applied",):
        raise Conflict("this change is already applied; it can no longer be approved or rejected", field="status")
    return await repository.update(result_id, {R.status: DECISIONS[decision], R.decided_by: scope.user_id,
                                               R.decided_at: now(), R.apply_error: None})


async def decide_many(scope: Scope, execution_id: UUID, result_ids: list[UUID], decision: str) -> list[dict]:
    """Bulk approve/reject within one run: all or nothing (an applied or unknown result is a 409/404)."""
    ids = _unique(result_ids)
    await executions.get(scope, execution_id, to_act=True)  # 404/403 before anything about its results
    rows = await repository.of_execution(scope, execution_id, ids, lock=True)
    missing = set(ids) - {r["id"] for r in rows}
    if missing:
        raise Invalid(f"{len(missing)} of the results are not in this run: {sorted(map(str, missing))[0]}…",
                      field="result_ids")
    return [await decide(scope, row["id"], decision) for row in rows]


def _unique(result_ids: list[UUID]) -> list[UUID]:
    ids = list(dict.fromkeys(result_ids))
    if not ids or len(ids) > MAX_BATCH:
        raise Invalid(f"result_ids must list 1 to {MAX_BATCH} results", field="result_ids")
    return ids


async def edit_content(scope: Scope, result_id: UUID, text: str) -> dict[str, Any]:
    row = await repository.get(scope, result_id, lock=True, to_act=True)
    if row["kind"] != "content":
        raise Conflict("only generated content can be edited", field="kind")
    if row["status"] == "applied":
        raise Conflict("this content is already applied; edit it on the site, or run the agent again",
                       field="status")
    text = text.strip()
    if not text or len(text) > 50_000:
        raise Invalid("text must be 1 to 50,000 characters", field="text")
    version = row["body"].get("version", 1) + 1
    await repository.add_revision(result_id, row["execution"], version, text, scope.user_id)
    return await repository.update(result_id, {R.body: {**row["body"], "text": text, "version": version}})


async def set_done(scope: Scope, result_id: UUID, done: bool) -> dict[str, Any]:
    row = await repository.get(scope, result_id, lock=True, to_act=True)
    if row["kind"] != "action_item":
        raise Conflict("only action items can be ticked off", field="kind")
    return await repository.update(result_id, {R.status: "done" if done else "open", R.decided_by: scope.user_id,
                                               R.decided_at: now()})


@dataclass(frozen=True, slots=True)
class Outcome:
    id: UUID
    outcome: str  # applied | already_applied | apply_failed | skipped | not_found
    reason: str | None = None
    code: str | None = None  # why it was skipped: not_approved | not_decidable | in_flight (for the notice)


def _value(row: dict[str, Any]) -> str:
    return str(row["body"]["text"] if row["kind"] == "content" else row["body"]["after"])


async def _claim(scope: Scope, execution_id: UUID, result_id: UUID) -> tuple[dict[str, Any] | None, Outcome | None]:
    """Mark the result as being pushed (a short transaction); answer it, or the outcome that stops here."""
    async with atomic():
        await executions.hold(scope, execution_id)  # an archiving pass waits for the claim, then skips the run
        rows = await repository.of_execution(scope, execution_id, [result_id], lock=True)
        if not rows:
            return None, Outcome(result_id, "not_found", "no such result in this run")
        row = rows[0]
        if row["kind"] not in DECIDABLE:
            return None, Outcome(result_id, "skipped", "only recommendations and content can be applied",
                                 "not_decidable")
        if row["status"] == "applied":
            return None, Outcome(result_id, "already_applied")
        if row["status"] not in ("approved", "apply_failed"):
            return None, Outcome(result_id, "skipped", f"it is {row['status']}: approve it first", "not_approved")
        started = row["apply_started_at"]
        if started is not None and now() - started < IN_FLIGHT:
            return None, Outcome(result_id, "skipped", "it is being applied right now", "in_flight")
        await repository.update(result_id, {R.apply_started_at: now()})
        return row, None


async def _apply_one(scope: Scope, execution_id: UUID, result_id: UUID) -> Outcome:
    """Claim, push with no transaction open (a slow site holds no database connection), record. A second
    apply meanwhile is told the push is in flight; the site's Idempotency-Key covers a crash in between."""
    row, stop = await _claim(scope, execution_id, result_id)
    if stop is not None:
        return stop
    connector = await connectors.for_target(scope, row["target"])
    if connector is None:
        pushed = connectors.Pushed(False, "no connector for this site; an admin can add one under Connectors")
    else:
        pushed = await connectors.push(connector, row["target"], row["field"], _value(row), str(result_id))
    async with atomic():
        await repository.update(result_id, {R.status: "applied" if pushed.ok else "apply_failed",
                                            R.applied_by: scope.user_id, R.applied_at: now() if pushed.ok else None,
                                            R.apply_error: pushed.reason, R.apply_started_at: None})
        await audit.record("result.apply", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                           target=str(result_id), ok=pushed.ok, reason=pushed.reason)
    return Outcome(result_id, "applied" if pushed.ok else "apply_failed", pushed.reason)


async def apply(scope: Scope, execution_id: UUID, result_ids: list[UUID]) -> list[Outcome]:
    """Push each approved change; answer one outcome per result. Call outside a transaction."""
    run = await executions.get(scope, execution_id, to_act=True)
    if run["mode"] == "test":
        raise Conflict("this is a test run: its changes cannot be applied; run it live first", field="mode")
    return [await _apply_one(scope, execution_id, result_id) for result_id in _unique(result_ids)]


# Reads the web tier serves (handlers call services only, DESIGN section 2): the repository's own, each
# taking the caller's scope (a result's revisions are read after ``get`` found it).
page = repository.page
get = repository.get
revisions = repository.revisions
