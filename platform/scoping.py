"""The one place that filters by workspace.

Every workspace-owned read and write goes through ``in_workspace`` (or ``resolve_scope`` to turn a URL's
workspace slug into a ``Scope`` for the caller). A test walks the source and fails if any other module
compares a ``workspace`` column by hand. Anything outside the caller's workspace is simply not found,
so cross-tenant access answers 404, never 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from piccolo.columns.combination import Where
from piccolo.table import Table

from agentledger.platform.errors import Forbidden, NotFound
from agentledger.platform.tables import Membership


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


async def resolve_scope(slug: str, user_id: UUID, token_workspace_id: UUID | None = None) -> Scope:
    """The caller's scope in workspace ``slug``; 404 when they are not a member (or the token is for another)."""
    row = (
        await Membership.select(
            Membership.workspace.id.as_alias("workspace_id"),
            Membership.workspace.name.as_alias("workspace_name"),
            Membership.role,
        )
        .where((Membership.workspace.slug == slug) & (Membership.user == user_id))
        .first()
    )
    if row is None or (token_workspace_id is not None and row["workspace_id"] != token_workspace_id):
        raise NotFound(f"workspace '{slug}' not found")
    return Scope(row["workspace_id"], slug, row["workspace_name"], user_id, row["role"])
