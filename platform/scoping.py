"""The one place that filters by workspace.

Every workspace-owned read and write goes through ``in_workspace`` (or ``resolve_scope`` to turn a URL's
workspace slug into a ``Scope`` for the caller). A test walks the source and fails if any other module
compares a ``workspace`` column by hand. Anything outside the caller's workspace is simply not found,
so cross-tenant access answers 404, never 403. It holds the workspace rule only: what an API token
grants lives in ``tokens``, whom to email in ``notifications``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from piccolo.columns.combination import Where
from piccolo.table import Table

from agentledger.platform.database import fetch
from agentledger.platform.errors import Forbidden, NotFound
from agentledger.platform.tables import Membership
from agentledger.platform.validation import is_slug


@dataclass(frozen=True, slots=True)
class Scope:
    """Who is acting, in which workspace, with which role."""

    workspace_id: UUID
    workspace_slug: str
    workspace_name: str
    user_id: UUID
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("only workspace admins can do this")


def in_workspace(table: type[Table], scope: Scope) -> Where:
    """The workspace filter for ``table``; combine further conditions with ``&``."""
    column: Any = getattr(table, "workspace")
    return column == scope.workspace_id


def workspace_sql(alias: str = "") -> str:
    """The workspace condition for raw SQL (the few hot statements written by hand), with one ``{}``
    placeholder for the scope's workspace id: ``f"... WHERE {workspace_sql()} AND ..."``."""
    return f"{alias + '.' if alias else ''}workspace = {{}}"


async def resolve_scope(slug: str, user_id: UUID) -> Scope:
    """The caller's scope in workspace ``slug``; 404 when they are not a member."""
    if not is_slug(slug):
        raise NotFound(f"workspace '{slug}' not found")
    row = (
        await Membership.select(
            Membership.workspace.id.as_alias("workspace_id"),
            Membership.workspace.name.as_alias("workspace_name"),
            Membership.role,
        )
        .where((Membership.workspace.slug == slug) & (Membership.user == user_id))
        .first()
    )
    if row is None:
        raise NotFound(f"workspace '{slug}' not found")
    return Scope(row["workspace_id"], slug, row["workspace_name"], user_id, row["role"])


async def scope_for(workspace_id: UUID, user_id: UUID | None) -> Scope | None:
    """For jobs acting on a member's behalf (schedules, publishing what they approved): their scope, or
    None when they are no longer an active member of the workspace."""
    if user_id is None:
        return None
    rows = await fetch(
        "SELECT m.role, w.slug, w.name FROM memberships m JOIN workspaces w ON w.id = m.workspace "
        "JOIN users u ON u.id = m.\"user\" WHERE m.workspace = {} AND m.\"user\" = {} AND u.is_active",
        workspace_id, user_id)
    return Scope(workspace_id, rows[0]["slug"], rows[0]["name"], user_id, rows[0]["role"]) if rows else None
