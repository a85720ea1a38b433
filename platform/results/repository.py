"""Every query on results. A result is read through its execution: the caller must see the run
(``executions.repository.get``, which applies the workspace and visibility rules) before its results."""

from __future__ import annotations

import base64
import json
from typing import Any
from uuid import UUID

from agentledger.platform.clock import now
from agentledger.platform.database import fetch
from agentledger.platform.errors import Invalid, NotFound
from agentledger.platform.executions import repository as executions
from agentledger.platform.pagination import PageRequest
from agentledger.platform.results.records import NewResult
from agentledger.platform.results.tables import ExecutionResult, ResultRevision
from agentledger.platform.scoping import Scope, in_workspace, workspace_sql


def insert_cte(execution_id: UUID, workspace_id: UUID, results: list[NewResult]) -> tuple[list[str], list[Any]]:
    """Buffered results as CTEs for the runner's next write; a result already stored (same id) is kept.
    Content gets its first revision (the agent's text) in the same statement."""
    parts = [
        "results AS (INSERT INTO execution_results (id, seq, workspace, execution, step, kind, title, target, field, "
        "priority, status, body, created_at, updated_at) SELECT i, nextval('execution_results_seq_seq'), {}, {}, s, "
        "k, t, tg, f, p, st, b::jsonb, clock_timestamp(), clock_timestamp() FROM unnest({}::uuid[], {}::int[], "
        "{}::text[], {}::text[], {}::text[], {}::text[], {}::text[], {}::text[], {}::text[]) "
        "AS r(i, s, k, t, tg, f, p, st, b) ON CONFLICT (id) DO NOTHING RETURNING id, execution, kind, body)",
        "revisions AS (INSERT INTO result_revisions (id, result, execution, version, text, created_at) "
        "SELECT gen_random_uuid(), id, execution, 1, body->>'text', clock_timestamp() FROM results "
        "WHERE kind = 'content')",
    ]
    args: list[Any] = [workspace_id, execution_id, [r.id for r in results], [r.step for r in results],
                       [r.kind for r in results], [r.title for r in results], [r.target for r in results],
                       [r.field for r in results], [r.priority for r in results], [r.status for r in results],
                       [json.dumps(r.body, default=str) for r in results]]
    return parts, args


async def copy_from(source: UUID, target: UUID, step: int) -> None:
    """A resumed run reuses a step of the run it resumes: that step's results come along, undecided."""
    await fetch(
        "INSERT INTO execution_results (id, seq, workspace, execution, step, kind, title, target, field, priority, "
        "status, body, created_at, updated_at) SELECT md5(id::text || {}::uuid::text)::uuid, "
        "nextval('execution_results_seq_seq'), workspace, {}, step, kind, title, target, field, priority, "
        "CASE WHEN status IS NULL THEN NULL ELSE 'open' END, body, clock_timestamp(), clock_timestamp() "
        "FROM execution_results WHERE execution = {} AND step = {} ORDER BY seq ON CONFLICT (id) DO NOTHING",
        target, target, source, step, durable=False,
    )


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(str(seq).encode()).decode().rstrip("=")


def _after(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raise Invalid("cursor is not valid; pass the next_cursor of the previous page unchanged", field="cursor")


async def page(scope: Scope, execution_id: UUID, request: PageRequest, *, kind: str | None = None,
               status: str | None = None, priority: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a run's results in the order the agent emitted them."""
    await executions.get(scope, execution_id)
    where = in_workspace(ExecutionResult, scope) & (ExecutionResult.execution == execution_id)
    for column, value in ((ExecutionResult.kind, kind), (ExecutionResult.status, status),
                          (ExecutionResult.priority, priority)):
        if value is not None:
            where &= column == value
    if request.cursor:
        where &= ExecutionResult.seq > _after(request.cursor)
    rows = await ExecutionResult.select().where(where).order_by(ExecutionResult.seq).limit(
        request.limit + 1).output(load_json=True)
    if len(rows) <= request.limit:
        return rows, None
    return rows[: request.limit], _cursor(rows[request.limit - 1]["seq"])


async def get(scope: Scope, result_id: UUID, *, lock: bool = False, to_act: bool = False) -> dict[str, Any]:
    """One result the caller may see (its run must be visible to them), with its run's ``files_removed_at``;
    ``lock`` holds it until commit;
    ``to_act``: the caller must also be allowed to change the run (403 when it was only shared with them)."""
    sql = f"SELECT * FROM execution_results WHERE id = {{}} AND {workspace_sql()}"
    rows = await fetch(sql, result_id, scope.workspace_id)
    if not rows:
        raise NotFound("result not found")
    run = await executions.get(scope, rows[0]["execution"], to_act=to_act)
    if lock:  # after the run's own lock (``to_act``): every writer, and an archiving pass, locks run then result
        rows = await fetch(sql + " FOR UPDATE", result_id, scope.workspace_id)
        if not rows:
            raise NotFound("result not found")
    row = rows[0]
    row["body"] = json.loads(row["body"]) if isinstance(row["body"], str) else row["body"]
    row["files_removed_at"] = run["files_removed_at"]  # an artifact's file may be gone (retention)
    return row


async def of_execution(scope: Scope, execution_id: UUID, ids: list[UUID], *, lock: bool = False) -> list[dict]:
    where = in_workspace(ExecutionResult, scope) & (ExecutionResult.execution == execution_id) & (
        ExecutionResult.id.is_in(ids))
    query = ExecutionResult.select().where(where).order_by(ExecutionResult.seq).output(load_json=True)
    if lock:
        query = query.lock_rows()
    return await query


async def update(result_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    await ExecutionResult.update({**changes, ExecutionResult.updated_at: now()}).where(
        ExecutionResult.id == result_id)
    return await ExecutionResult.select().where(ExecutionResult.id == result_id).output(load_json=True).first()


async def decide_open_content(execution_id: UUID, status: str, user_id: UUID) -> None:
    """A review decided: the run's open content results take the decision (approved or rejected) in that
    person's name."""
    await fetch("UPDATE execution_results SET status = {}, decided_by = {}, decided_at = now(), updated_at = now() "
                "WHERE execution = {} AND kind = 'content' AND status = 'open'", status, user_id, execution_id)


async def add_revision(result_id: UUID, execution_id: UUID, version: int, text: str, user_id: UUID) -> None:
    await ResultRevision.insert(ResultRevision(result=result_id, execution=execution_id, version=version, text=text,
                                               edited_by=user_id))


async def revisions(result_id: UUID) -> list[dict[str, Any]]:
    return await ResultRevision.select().where(ResultRevision.result == result_id).order_by(ResultRevision.version)
