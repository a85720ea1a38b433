"""Sharing a run with teammates. They find it in their run list and may read all of it, follow it live
and download it; changing it (cancel, approve, apply, delete, sharing it further) stays with whoever
started it and the workspace's admins. Each new share emails the teammate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from agentledger.notifications import service as notifications
from agentledger.platform import audit, workspaces
from agentledger.platform.database import fetch
from agentledger.platform.errors import Conflict, NotFound
from agentledger.platform.executions import repository as executions
from agentledger.platform.scoping import Scope, scope_for, workspace_sql


@dataclass(frozen=True, slots=True)
class Share:
    user_id: UUID
    name: str
    email: str
    shared_by_name: str | None
    created_at: datetime


async def shares(scope: Scope, run: dict[str, Any]) -> list[Share]:
    """Whom the run is shared with, by name. ``run`` is the row ``executions.get`` gave the caller: whoever
    may see the run may see this, and the run is read once per page, not once per question."""
    rows = await fetch(
        'SELECT s."user" AS user_id, u.name, u.email, b.name AS shared_by_name, s.created_at '
        'FROM execution_shares s JOIN users u ON u.id = s."user" LEFT JOIN users b ON b.id = s.shared_by '
        f"WHERE s.execution = {{}} AND {workspace_sql('s')} ORDER BY lower(u.name), u.email",
        run["id"], scope.workspace_id)
    return [Share(**row) for row in rows]


async def share(scope: Scope, execution_id: UUID, user_id: UUID) -> Share:
    """Share with a member of the workspace; sharing again changes nothing and sends no second email."""
    run = await executions.get(scope, execution_id, to_act=True)
    member = await workspaces.get_member(scope, user_id)  # 404 for anyone outside the workspace
    active = await scope_for(scope.workspace_id, user_id)  # None for a deactivated account
    if active is None:
        raise NotFound("member not found")
    if run["started_by"] == user_id:
        raise Conflict(f"{member.name} started this run: it is theirs already", field="user_id")
    added = await fetch(
        'INSERT INTO execution_shares (id, workspace, execution, "user", shared_by, created_at, run_created_at) '
        'VALUES (gen_random_uuid(), {}, {}, {}, {}, now(), {}) ON CONFLICT ("user", execution) DO NOTHING RETURNING id',
        scope.workspace_id, execution_id, user_id, scope.user_id, run["created_at"])
    if added:
        await audit.record("execution.share", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                           target=str(execution_id), user=str(user_id))
        await notifications.emit("run_shared", scope.workspace_id, share_id=added[0]["id"], run=run, user_id=user_id,
                                 shared_by=scope.user_id)
    shared = next((s for s in await shares(scope, run) if s.user_id == user_id), None)
    if shared is None:  # unshared meanwhile by someone else
        raise NotFound("this run is not shared with that member")
    return shared


async def unshare(scope: Scope, execution_id: UUID, user_id: UUID) -> None:
    """Stop sharing with a member; 404 when the run was not shared with them."""
    await executions.get(scope, execution_id, to_act=True)
    removed = await fetch(f'DELETE FROM execution_shares WHERE execution = {{}} AND "user" = {{}} AND {workspace_sql()} '
                          "RETURNING id", execution_id, user_id, scope.workspace_id)
    if not removed:
        raise NotFound("this run is not shared with that member")
    await audit.record("execution.unshare", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(execution_id), user=str(user_id))


async def no_longer_admin(scope: Scope, user_id: UUID) -> None:
    """An admin became a member: the links they made to runs they did not start end now (they no longer
    see those runs, so the links would stop working anyway, while still listed as active)."""
    await fetch("UPDATE share_links l SET revoked_at = now() FROM executions e WHERE e.id = l.execution "
                f"AND l.created_by = {{}} AND e.started_by IS DISTINCT FROM {{}} AND l.revoked_at IS NULL "
                f"AND {workspace_sql('l')}", user_id, user_id, scope.workspace_id)


async def member_left(scope: Scope, user_id: UUID) -> None:
    """Someone left the workspace: runs are no longer shared with them, and the links they made end now
    (rather than quietly, by their maker no longer seeing the run). Rejoining brings neither back."""
    await fetch(f'DELETE FROM execution_shares WHERE "user" = {{}} AND {workspace_sql()}', user_id, scope.workspace_id)
    await fetch(f"UPDATE share_links SET revoked_at = now() WHERE created_by = {{}} AND revoked_at IS NULL "
                f"AND {workspace_sql()}", user_id, scope.workspace_id)
