"""Every query on executions. Reads go through ``visible``: the caller's workspace (via the scoping
helper), and for members their own runs and the runs shared with them; admins see every run of the
workspace. Changing a run (``get(..., to_act=True)``) is for who started it and admins."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from piccolo.columns.combination import Where, WhereRaw

from agentledger.platform.database import fetch
from agentledger.platform.errors import Forbidden, NotFound
from agentledger.platform.executions.tables import Execution, ExecutionItem, ExecutionLog, ExecutionStep
from agentledger.platform.scoping import Scope, in_workspace

SHARED_WITH = 'SELECT s.execution FROM execution_shares s WHERE s."user" = {}'
"""The runs shared with a member (``{}``: their user id)."""


def visible(scope: Scope) -> Where:
    where = in_workspace(Execution, scope) & Execution.deleted_at.is_null()
    if scope.is_admin:
        return where
    return where & ((Execution.started_by == scope.user_id) | WhereRaw(f"executions.id IN ({SHARED_WITH})", scope.user_id))


_WITH_VERSION = (
    *Execution.all_columns(),
    Execution.agent_version.label.as_alias("version_label"),
    Execution.agent_version.sha256.as_alias("version_sha256"),
    Execution.started_by.name.as_alias("started_by_name"),
)


async def get(scope: Scope, execution_id: UUID, *, to_act: bool = False) -> dict[str, Any]:
    """A run the caller may see (404 otherwise); ``to_act``: one they may also change (403 for a run
    that was only shared with them)."""
    row = await Execution.select(*_WITH_VERSION).where(visible(scope) & (Execution.id == execution_id)).output(
        load_json=True).first()
    if row is None:
        raise NotFound("execution not found")
    if to_act and not may_act(scope, row):
        raise Forbidden("this run was shared with you to read; only whoever started it or an admin can change it")
    return row


def may_act(scope: Scope, row: dict[str, Any]) -> bool:
    return scope.is_admin or row["started_by"] == scope.user_id


async def shared_ids(scope: Scope) -> set[str]:
    """The ids of the runs in this workspace shared with the caller (for filtering live events)."""
    rows = await Execution.select(Execution.id).where(
        visible(scope) & WhereRaw(f"executions.id IN ({SHARED_WITH})", scope.user_id))
    return {str(r["id"]) for r in rows}


async def code(scope: Scope, execution_id: UUID) -> dict[str, Any]:
    """The exact source the run was started with."""
    row = await Execution.select(
        Execution.agent, Execution.agent_version.label.as_alias("label"),
        Execution.agent_version.sha256.as_alias("sha256"), Execution.agent_version.source.as_alias("source"),
    ).where(visible(scope) & (Execution.id == execution_id)).first()
    if row is None:
        raise NotFound("execution not found")
    if row["sha256"] is None:
        raise NotFound("this run's version was not tracked")
    return row


async def children(execution_id: UUID) -> dict[str, list[dict[str, Any]]]:
    steps = await ExecutionStep.select().where(ExecutionStep.execution == execution_id).order_by(
        ExecutionStep.attempt).order_by(ExecutionStep.position)
    logs = await ExecutionLog.select().where(ExecutionLog.execution == execution_id).order_by(ExecutionLog.id)
    items = await ExecutionItem.select().where(ExecutionItem.execution == execution_id).order_by(ExecutionItem.at)
    return {"steps": steps, "log": logs, "items": items}


async def step_value(scope: Scope, execution_id: UUID, attempt: int, position: int, part: str) -> Any:
    """One step's recorded input or output (``part``), for a run the caller may see."""
    await get(scope, execution_id)
    column = {"input": ExecutionStep.input, "output": ExecutionStep.output}[part]
    row = await ExecutionStep.select(column).where(
        (ExecutionStep.execution == execution_id) & (ExecutionStep.attempt == attempt)
        & (ExecutionStep.position == position)).output(load_json=True).first()
    if row is None:
        raise NotFound("step not found")
    return row[part]


async def get_in_full(scope: Scope, execution_id: UUID) -> dict[str, Any]:
    """A run the caller may see, with the names behind its trigger: what a single read shows."""
    row = await get(scope, execution_id)
    return {**row, **await trigger_names(row)}


async def trigger_names(row: dict[str, Any]) -> dict[str, str | None]:
    """The names behind a run's trigger (the API token, the schedule), by the ids the run itself keeps."""
    if not row.get("trigger_token") and not row.get("schedule"):
        return {"token_name": None, "schedule_name": None}
    found = await fetch("SELECT (SELECT name FROM api_tokens WHERE id = {}) AS token_name, "
                        "(SELECT name FROM schedules WHERE id = {}) AS schedule_name",
                        row.get("trigger_token"), row.get("schedule"))
    return found[0]
