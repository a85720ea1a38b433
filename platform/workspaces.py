"""Workspaces and their members. Every member query is scoped with ``in_workspace``.

The last admin of a workspace can be neither removed nor demoted: role changes lock the workspace row
first, so two admins demoting each other at once cannot leave it without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from agentledger.platform import accounts, audit
from agentledger.platform.clock import now
from agentledger.platform.database import duplicates_conflict, fetch
from agentledger.platform.errors import Conflict, Forbidden, Invalid, NotFound
from agentledger.platform.grant_cache import announce_change
from agentledger.platform.pagination import ALL, Page, PageRequest, keyset
from agentledger.platform.scoping import Scope, in_workspace
from agentledger.platform.tables import ApiToken, Membership, Workspace
from agentledger.platform.validation import check_time_zone, is_slug

ROLES = ("member", "admin")


@dataclass(frozen=True, slots=True)
class WorkspaceInfo:
    id: UUID
    slug: str
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class Member:
    user_id: UUID
    email: str
    name: str
    role: str
    joined_at: datetime


def check_role(role: str) -> str:
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}, not '{role}'", field="role")
    return role


def check_slug(slug: str) -> str:
    if not is_slug(slug):
        raise Invalid("slug must be 1-48 lowercase letters, digits or dashes, starting and ending with "
                      "a letter or digit", field="slug")
    return slug


async def create_workspace(slug: str, name: str, owner_id: UUID) -> WorkspaceInfo:
    check_slug(slug)
    name = accounts.check_name(name)
    if await Workspace.exists().where(Workspace.slug == slug):
        raise Conflict(f"the slug '{slug}' is taken; choose another", field="slug")
    async with duplicates_conflict(f"the slug '{slug}' is taken; choose another", field="slug"):
        rows = await Workspace.insert(Workspace(slug=slug, name=name)).returning(Workspace.id)
    workspace_id = rows[0]["id"]
    await Membership.insert(Membership(workspace=workspace_id, user=owner_id, role="admin")).run()
    await audit.record("workspace.created", workspace_id=workspace_id, actor_id=owner_id, target=slug)
    return WorkspaceInfo(workspace_id, slug, name, "admin")


async def workspaces_of(user_id: UUID) -> list[WorkspaceInfo]:
    """The user's workspaces with their role, by name."""
    rows = await fetch(  # raw SQL: this runs on every page view and every /me
        "SELECT w.id, w.slug, w.name, m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace "
        "WHERE m.\"user\" = {} ORDER BY w.name",
        user_id,
    )
    return [WorkspaceInfo(r["id"], r["slug"], r["name"], r["role"]) for r in rows]


async def time_zone(scope: Scope) -> str:
    """Where the workspace's members who chose no time zone of their own get their digest at 08:00."""
    rows = await fetch("SELECT timezone FROM workspaces WHERE id = {}", scope.workspace_id)
    return rows[0]["timezone"] if rows else "UTC"


async def set_time_zone(scope: Scope, name: str) -> str:
    """Admins only; an IANA name (a 422 naming ``timezone`` otherwise)."""
    scope.require_admin()
    check_time_zone(name)
    await fetch("UPDATE workspaces SET timezone = {} WHERE id = {}", name, scope.workspace_id)
    await audit.record("workspace.timezone", workspace_id=scope.workspace_id, actor_id=scope.user_id, target=name)
    return name


async def list_members(scope: Scope, request: PageRequest = ALL) -> Page[Member]:
    """Members, newest first."""
    query = Membership.select(
        Membership.id,
        Membership.user.id.as_alias("user_id"),
        Membership.user.email.as_alias("email"),
        Membership.user.name.as_alias("name"),
        Membership.role,
        Membership.created_at,
    ).where(in_workspace(Membership, scope))
    rows, next_cursor = await keyset(query, Membership, request)
    return Page([Member(r["user_id"], r["email"], r["name"], r["role"], r["created_at"]) for r in rows], next_cursor)


async def get_member(scope: Scope, user_id: UUID) -> Member:
    row = await Membership.select(
        Membership.user.id.as_alias("user_id"), Membership.user.email.as_alias("email"),
        Membership.user.name.as_alias("name"), Membership.role, Membership.created_at,
    ).where(in_workspace(Membership, scope) & (Membership.user == user_id)).first()
    if row is None:
        raise NotFound("member not found")
    return Member(row["user_id"], row["email"], row["name"], row["role"], row["created_at"])


async def add_member(scope_or_id: Scope | UUID, user_id: UUID, role: str, actor_id: UUID | None) -> None:
    """Add a user; 409 when they are already a member."""
    check_role(role)
    workspace_id = scope_or_id.workspace_id if isinstance(scope_or_id, Scope) else scope_or_id
    rows = await fetch(
        "INSERT INTO memberships (id, workspace, \"user\", role, created_at) "
        "VALUES (gen_random_uuid(), {}, {}, {}, now()) ON CONFLICT DO NOTHING RETURNING id",
        workspace_id, user_id, role,
    )
    if not rows:
        raise Conflict("this person is already a member of the workspace", field="email")
    await audit.record("member.added", workspace_id=workspace_id, actor_id=actor_id, target=str(user_id),
                       role=role)


async def _lock_admins(scope: Scope, *, caller_must_be_admin: bool) -> list[UUID]:
    """Lock the workspace row and answer its admins, so last-admin checks cannot race. The caller's own
    role is checked again under the lock: a role read before it may be stale."""
    await fetch("SELECT id FROM workspaces WHERE id = {} FOR UPDATE", scope.workspace_id)
    rows = await Membership.select(Membership.user).where(
        in_workspace(Membership, scope) & (Membership.role == "admin")
    )
    admins = [r["user"] for r in rows]
    if caller_must_be_admin and scope.user_id not in admins:
        raise Forbidden("only workspace admins can do this")
    return admins


async def _member_role(scope: Scope, user_id: UUID) -> str:
    row = await Membership.select(Membership.role).where(
        in_workspace(Membership, scope) & (Membership.user == user_id)
    ).first()
    if row is None:
        raise NotFound("member not found")
    return row["role"]


async def change_role(scope: Scope, user_id: UUID, role: str) -> None:
    scope.require_admin()
    check_role(role)
    admins = await _lock_admins(scope, caller_must_be_admin=True)
    current = await _member_role(scope, user_id)
    if current == role:
        return
    if current == "admin" and admins == [user_id]:
        raise Conflict("this is the workspace's last admin; make someone else admin first", field="role")
    await Membership.update({Membership.role: role}).where(
        in_workspace(Membership, scope) & (Membership.user == user_id)
    )
    if role == "member":
        await _sharing().no_longer_admin(scope, user_id)
    announce_change()
    await audit.record("member.role_changed", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(user_id), old=current, new=role)


def _sharing() -> Any:
    from agentledger.platform.sharing import service  # sharing asks this module who is a member

    return service


async def remove_member(scope: Scope, user_id: UUID) -> None:
    """Admins remove anyone; members may remove themselves (leave). Ends the person's sessions."""
    if user_id != scope.user_id:
        scope.require_admin()
    admins = await _lock_admins(scope, caller_must_be_admin=user_id != scope.user_id)
    current = await _member_role(scope, user_id)
    if current == "admin" and admins == [user_id]:
        raise Conflict("this is the workspace's last admin; make someone else admin first")
    await Membership.delete().where(in_workspace(Membership, scope) & (Membership.user == user_id))
    await ApiToken.update({ApiToken.revoked_at: now()}).where(
        in_workspace(ApiToken, scope) & (ApiToken.user == user_id) & ApiToken.revoked_at.is_null()
    )
    await accounts.end_sessions(user_id)
    await _sharing().member_left(scope, user_id)
    announce_change()
    await audit.record("member.removed", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(user_id), role=current)
