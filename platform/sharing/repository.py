"""Every statement on sharing's tables, ``execution_shares`` and ``share_links``. What they need of a run
(is it still there, who started it) is asked of the executions repository, in the same statement; which
runs a share makes visible is the visibility rule's (``executions.repository.SHARED_WITH``), not here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from agentledger.platform.database import fetch
from agentledger.platform.executions import repository as executions
from agentledger.platform.scoping import Scope, workspace_sql

# --- Shares: a run shared with a member of the workspace ----------------------------------------------

async def shares_of(scope: Scope, execution_id: UUID) -> list[dict[str, Any]]:
    """Whom the run is shared with: user id, name, email, who shared it (name), when; by name."""
    return await fetch(
        'SELECT s."user" AS user_id, u.name, u.email, b.name AS shared_by_name, s.created_at '
        'FROM execution_shares s JOIN users u ON u.id = s."user" LEFT JOIN users b ON b.id = s.shared_by '
        f"WHERE s.execution = {{}} AND {workspace_sql('s')} ORDER BY lower(u.name), u.email",
        execution_id, scope.workspace_id)


async def add_share(scope: Scope, run: dict[str, Any], user_id: UUID) -> UUID | None:
    """Share ``run`` with a member; the new share's id, or None when it was shared with them already. The
    share keeps its run's created_at: a member's list walks their shares in run order."""
    added = await fetch(
        'INSERT INTO execution_shares (id, workspace, execution, "user", shared_by, created_at, run_created_at) '
        'VALUES (gen_random_uuid(), {}, {}, {}, {}, now(), {}) ON CONFLICT ("user", execution) DO NOTHING RETURNING id',
        scope.workspace_id, run["id"], user_id, scope.user_id, run["created_at"])
    return added[0]["id"] if added else None


async def remove_share(scope: Scope, execution_id: UUID, user_id: UUID) -> bool:
    removed = await fetch(f'DELETE FROM execution_shares WHERE execution = {{}} AND "user" = {{}} AND {workspace_sql()} '
                          "RETURNING id", execution_id, user_id, scope.workspace_id)
    return bool(removed)


async def remove_shares_with(scope: Scope, user_id: UUID) -> None:
    await fetch(f'DELETE FROM execution_shares WHERE "user" = {{}} AND {workspace_sql()}', user_id, scope.workspace_id)


# --- Links: a password-protected link to one run ------------------------------------------------------

LINK_SELECT = ("SELECT l.id, l.execution AS execution_id, l.prefix, u.name AS created_by_name, l.created_at, "
               "l.expires_at, l.revoked_at, l.opened_at, l.opens, l.created_by FROM share_links l "
               "LEFT JOIN users u ON u.id = l.created_by ")


async def add_link(scope: Scope, execution_id: UUID, token_hash: str, prefix: str, password_hash: str,
                   days: int) -> UUID:
    rows = await fetch(
        "INSERT INTO share_links (id, workspace, execution, token_hash, prefix, password_hash, created_by, created_at, "
        "expires_at, opens) VALUES (gen_random_uuid(), {}, {}, {}, {}, {}, {}, now(), now() + {}, 0) RETURNING id",
        scope.workspace_id, execution_id, token_hash, prefix, password_hash, scope.user_id, timedelta(days=days))
    return rows[0]["id"]


async def link(scope: Scope, execution_id: UUID, link_id: UUID) -> dict[str, Any] | None:
    rows = await fetch(LINK_SELECT + f"WHERE l.id = {{}} AND l.execution = {{}} AND {workspace_sql('l')}",
                       link_id, execution_id, scope.workspace_id)
    return rows[0] if rows else None


async def links_of(scope: Scope, execution_id: UUID) -> list[dict[str, Any]]:
    """The run's links, newest first."""
    return await fetch(LINK_SELECT + f"WHERE l.execution = {{}} AND {workspace_sql('l')} ORDER BY l.created_at DESC",
                       execution_id, scope.workspace_id)


async def revoke_link(scope: Scope, link_id: UUID) -> None:
    await fetch(f"UPDATE share_links SET revoked_at = now() WHERE id = {{}} AND {workspace_sql()}",
                link_id, scope.workspace_id)


async def live_link(token_hash: str) -> dict[str, Any] | None:
    """The link with this token's hash while it works: not expired or revoked, its run not deleted."""
    rows = await fetch(
        "SELECT l.id, l.workspace, l.execution, l.password_hash, l.created_by, l.expires_at FROM share_links l "
        "WHERE l.token_hash = {} AND l.revoked_at IS NULL AND l.expires_at > now() AND "
        + executions.run_alive_sql("l.execution"), token_hash)
    return rows[0] if rows else None


async def count_opening(link_id: UUID) -> None:
    await fetch("UPDATE share_links SET opens = opens + 1, opened_at = now() WHERE id = {}", link_id)


async def revoke_links_to_others_runs(scope: Scope, user_id: UUID) -> None:
    """End the links ``user_id`` made to runs they did not start (a demoted admin no longer sees them)."""
    await fetch("UPDATE share_links l SET revoked_at = now() WHERE l.created_by = {} AND "
                + executions.run_not_started_by_sql("l.execution")
                + f" AND l.revoked_at IS NULL AND {workspace_sql('l')}", user_id, user_id, scope.workspace_id)


async def revoke_links_by(scope: Scope, user_id: UUID) -> None:
    await fetch(f"UPDATE share_links SET revoked_at = now() WHERE created_by = {{}} AND revoked_at IS NULL "
                f"AND {workspace_sql()}", user_id, scope.workspace_id)
