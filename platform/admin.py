"""Look-ups for the admin CLI, which names workspaces and people by slug and email."""

from __future__ import annotations

from uuid import UUID

from agentledger.platform import accounts
from agentledger.platform.errors import NotFound
from agentledger.platform.tables import Workspace


async def lookup_workspace(slug: str) -> UUID:
    row = await Workspace.select(Workspace.id).where(Workspace.slug == slug).first()
    if row is None:
        raise NotFound(f"no workspace '{slug}'")
    return row["id"]


async def lookup_workspace_and_user(slug: str, email: str) -> tuple[UUID, UUID]:
    workspace_id = await lookup_workspace(slug)
    account = await accounts.find_by_email(email)
    if account is None:
        raise NotFound(f"no user {email}")
    return workspace_id, account.id


async def slugs() -> dict[UUID, str]:
    """Every workspace's slug by id, for commands that report on all of them."""
    return {row["id"]: row["slug"] for row in await Workspace.select(Workspace.id, Workspace.slug)}
