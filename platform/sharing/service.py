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
from agentledger.platform.errors import Conflict, NotFound
from agentledger.platform.executions import repository as executions
from agentledger.platform.scoping import Scope, scope_for
from agentledger.platform.sharing import repository


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
    return [Share(**row) for row in await repository.shares_of(scope, run["id"])]


async def share(scope: Scope, execution_id: UUID, user_id: UUID) -> Share:
    """Share with a member of the workspace; sharing again changes nothing and sends no second email."""
    run = await executions.get(scope, execution_id, to_act=True)
    member = await workspaces.get_member(scope, user_id)  # 404 for anyone outside the workspace
    active = await scope_for(scope.workspace_id, user_id)  # None for a deactivated account
    if active is None:
        raise NotFound("member not found")
    if run["started_by"] == user_id:
        raise Conflict(f"{member.name} started this run: it is theirs already", field="user_id")
    added = await repository.add_share(scope, run, user_id)
    if added:
        await audit.record("execution.share", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                           target=str(execution_id), user=str(user_id))
        await notifications.emit("run_shared", scope.workspace_id, share_id=added, run=run, user_id=user_id,
                                 shared_by=scope.user_id)
    shared = next((s for s in await shares(scope, run) if s.user_id == user_id), None)
    if shared is None:  # unshared meanwhile by someone else
        raise NotFound("this run is not shared with that member")
    return shared


async def unshare(scope: Scope, execution_id: UUID, user_id: UUID) -> None:
    """Stop sharing with a member; 404 when the run was not shared with them."""
    await executions.get(scope, execution_id, to_act=True)
    if not await repository.remove_share(scope, execution_id, user_id):
        raise NotFound("this run is not shared with that member")
    await audit.record("execution.unshare", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(execution_id), user=str(user_id))


async def no_longer_admin(scope: Scope, user_id: UUID) -> None:
    """An admin became a member: the links they made to runs they did not start end now (they no longer
    see those runs, so the links would stop working anyway, while still listed as active)."""
    await repository.revoke_links_to_others_runs(scope, user_id)


async def member_left(scope: Scope, user_id: UUID) -> None:
    """Someone left the workspace: runs are no longer shared with them, and the links they made end now
    (rather than quietly, by their maker no longer seeing the run). Rejoining brings neither back."""
    await repository.remove_shares_with(scope, user_id)
    await repository.revoke_links_by(scope, user_id)
