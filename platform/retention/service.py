"""What the web tier asks of retention: the policy with its preview, archive now, restore requests and
alerts. Roles are checked here: admins set the policy, archive and approve; whoever may see a run may ask
for it back."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from agentledger.platform import audit
from agentledger.platform.clock import now
from agentledger.platform.errors import NotFound
from agentledger.platform.executions import archive_repository as runs
from agentledger.platform.executions import repository as executions
from agentledger.platform.retention import archiver, repository
from agentledger.platform.retention import policy as policies
from agentledger.platform.retention import restore as restores
from agentledger.platform.scoping import Scope


async def view(scope: Scope, proposed: policies.Policy | None = None) -> dict[str, Any]:
    """The policy (or ``proposed`` values, for a preview) with how many runs the next pass would archive
    under it, in plain words, and the open alerts."""
    scope.require_admin()
    shown = proposed or await policies.of(scope.workspace_id)
    due = await runs.count_due(scope.workspace_id, *shown.cutoffs(now()), archiver.PUSH_WINDOW)
    return {**shown.as_dict(), "due": due, "summary": policies.describe(shown),
            "alerts": await repository.alerts(scope.workspace_id)}


async def preview(scope: Scope, changes: dict[str, Any]) -> dict[str, Any]:
    scope.require_admin()
    return await view(scope, policies.changed(await policies.of(scope.workspace_id), changes))


async def update(scope: Scope, changes: dict[str, Any]) -> dict[str, Any]:
    scope.require_admin()
    new = policies.changed(await policies.of(scope.workspace_id), changes)
    await policies.save(scope.workspace_id, new, scope.user_id)
    await audit.record("retention.policy", workspace_id=scope.workspace_id, actor_id=scope.user_id, **changes)
    return await view(scope, new)


async def archive_now(scope: Scope, execution_id: UUID) -> dict[str, Any]:
    scope.require_admin()
    return await archiver.archive_now(scope.workspace_id, execution_id, scope.user_id)


async def dismiss(scope: Scope, alert_id: UUID) -> None:
    scope.require_admin()
    if not await repository.dismiss_alert(scope.workspace_id, alert_id):
        raise NotFound("alert not found")


async def latest_restore(scope: Scope, execution_id: UUID) -> dict[str, Any] | None:
    """The run's latest restore request, for whoever may see the run (404 otherwise)."""
    await executions.get(scope, execution_id)
    return await repository.latest_request(scope.workspace_id, execution_id)


ask_restore = restores.ask
decide_restore = restores.decide
restore_requests = restores.listed
