"""Every query on schedules, through the workspace scope. Members see and change the schedules they
created; admins all of the workspace's."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from piccolo.columns.combination import Where

from agentledger.platform.clock import now
from agentledger.platform.database import fetch
from agentledger.platform.errors import NotFound
from agentledger.platform.schedules.tables import Schedule
from agentledger.platform.scoping import Scope, in_workspace


def visible(scope: Scope) -> Where:
    where = in_workspace(Schedule, scope)
    return where if scope.is_admin else where & (Schedule.created_by == scope.user_id)


async def list_all(scope: Scope) -> list[dict[str, Any]]:
    return await Schedule.select().where(visible(scope)).order_by(Schedule.created_at, ascending=False).output(
        load_json=True)


async def get(scope: Scope, schedule_id: UUID) -> dict[str, Any]:
    row = await Schedule.select().where(visible(scope) & (Schedule.id == schedule_id)).output(load_json=True).first()
    if row is None:
        raise NotFound("schedule not found")
    return row


async def insert(scope: Scope, values: dict[str, Any]) -> dict[str, Any]:
    rows = await Schedule.insert(Schedule(workspace=scope.workspace_id, created_by=scope.user_id, **values)).returning(
        Schedule.id)
    return await get(scope, rows[0]["id"])


async def update(scope: Scope, schedule_id: UUID, values: dict[str, Any]) -> dict[str, Any]:
    await get(scope, schedule_id)
    await Schedule.update({**values, "updated_at": now()}).where(visible(scope) & (Schedule.id == schedule_id))
    return await get(scope, schedule_id)


async def ran(scope: Scope, schedule_id: UUID, execution_id: UUID) -> None:
    """A run started by hand (run now): the schedule's last run, its next time unchanged."""
    await Schedule.update({Schedule.last_run_at: now(), Schedule.last_execution: execution_id}).where(
        visible(scope) & (Schedule.id == schedule_id))


async def delete(scope: Scope, schedule_id: UUID) -> None:
    rows = await Schedule.delete().where(visible(scope) & (Schedule.id == schedule_id)).returning(Schedule.id)
    if not rows:
        raise NotFound("schedule not found")


async def due(limit: int = 100) -> list[dict[str, Any]]:
    """For the scheduler's job (acting for every workspace): enabled schedules whose time has come."""
    return await fetch("SELECT id FROM schedules WHERE enabled AND next_run_at <= now() ORDER BY next_run_at "
                       "LIMIT {}", limit)


async def claim(schedule_id: UUID) -> dict[str, Any] | None:
    """Lock one due schedule; None when another worker has it, or it is no longer due."""
    rows = await fetch("SELECT * FROM schedules WHERE id = {} AND enabled AND next_run_at <= now() "
                       "FOR UPDATE SKIP LOCKED", schedule_id)
    return rows[0] if rows else None


async def fired(schedule_id: UUID, next_run_at: Any, execution_id: UUID | None, enabled: bool = True) -> None:
    await fetch("UPDATE schedules SET next_run_at = {}, last_run_at = now(), last_execution = {}, enabled = {}, "
                "updated_at = now() WHERE id = {}", next_run_at, execution_id, enabled, schedule_id)
