"""Invitations by email link: a 256-bit token (stored as a digest), an expiry, and single use.

The email goes to the outbox in the same transaction; the admin also gets the link once, so a team
without SMTP can still invite. Accepting is one guarded UPDATE, so a link cannot be used twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from agentledger.notifications import service as notifications
from agentledger.platform import accounts, audit, workspaces
from agentledger.platform.clock import now
from agentledger.platform.config import get_settings
from agentledger.platform.database import duplicates_conflict, fetch
from agentledger.platform.errors import Conflict, Forbidden, Gone, NotFound
from agentledger.platform.pagination import ALL, Page, PageRequest, keyset
from agentledger.platform.scoping import Scope, in_workspace
from agentledger.platform.security import digest, new_token
from agentledger.platform.tables import Invitation, Membership, User


@dataclass(frozen=True, slots=True)
class InvitationInfo:
    id: UUID
    email: str
    role: str
    expires_at: datetime
    created_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        return "expired" if self.expires_at <= now() else "pending"


@dataclass(frozen=True, slots=True)
class PendingInvitation:
    """What the accept page shows before anyone signs in."""

    id: UUID
    email: str
    role: str
    workspace_id: UUID
    workspace_name: str
    workspace_slug: str
    has_account: bool


_FIELDS = (Invitation.id, Invitation.email, Invitation.role, Invitation.expires_at, Invitation.created_at,
           Invitation.accepted_at, Invitation.revoked_at)


def accept_url(token: str) -> str:
    return f"{get_settings().public_url}/invitations/{token}"


async def invite(scope: Scope, email: str, role: str) -> tuple[InvitationInfo, str]:
    """Invite ``email``; answers the invitation and its link. A pending invitation for the same email is replaced."""
    scope.require_admin()
    email = accounts.normalize_email(email)
    workspaces.check_role(role)
    if await Membership.exists().where(in_workspace(Membership, scope) & (Membership.user.email == email)):
        raise Conflict(f"{email} is already a member of this workspace", field="email")
    await Invitation.update({Invitation.revoked_at: now()}).where(
        in_workspace(Invitation, scope) & (Invitation.email == email)
        & Invitation.accepted_at.is_null() & Invitation.revoked_at.is_null()
    )
    token = new_token("inv")
    expires = now() + timedelta(hours=get_settings().invitation_ttl_hours)
    async with duplicates_conflict(f"an invitation for {email} was just sent; refresh to see it", field="email"):
        rows = await Invitation.insert(
            Invitation(workspace=scope.workspace_id, email=email, role=role, token_hash=digest(token),
                       invited_by=scope.user_id, expires_at=expires)
        ).returning(*_FIELDS)
    link = accept_url(token)
    await notifications.emit("invited", scope.workspace_id, invitation_id=rows[0]["id"], email=email, role=role,
                             link=link, expires_at=expires)
    await audit.record("invitation.created", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=email, role=role)
    return InvitationInfo(**rows[0]), link


async def list_invitations(scope: Scope, request: PageRequest = ALL) -> Page[InvitationInfo]:
    """Invitations in every state, newest first (admins)."""
    scope.require_admin()
    rows, next_cursor = await keyset(Invitation.select(*_FIELDS).where(in_workspace(Invitation, scope)),
                                     Invitation, request)
    return Page([InvitationInfo(**r) for r in rows], next_cursor)


async def revoke(scope: Scope, invitation_id: UUID) -> None:
    scope.require_admin()
    rows = await Invitation.update({Invitation.revoked_at: now()}).where(
        in_workspace(Invitation, scope) & (Invitation.id == invitation_id)
        & Invitation.accepted_at.is_null() & Invitation.revoked_at.is_null()
    ).returning(Invitation.id)
    if not rows:
        if not await Invitation.exists().where(in_workspace(Invitation, scope) & (Invitation.id == invitation_id)):
            raise NotFound("invitation not found")
        raise Conflict("this invitation was already accepted or revoked")
    await audit.record("invitation.revoked", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       target=str(invitation_id))


async def lookup(token: str) -> PendingInvitation:
    """The invitation behind a link; 404 unknown, 410 used, revoked or expired."""
    row = await Invitation.select(
        *_FIELDS, Invitation.workspace.id.as_alias("workspace_id"),
        Invitation.workspace.name.as_alias("workspace_name"), Invitation.workspace.slug.as_alias("workspace_slug"),
    ).where(Invitation.token_hash == digest(token)).first()
    if row is None:
        raise NotFound("this invitation link is not valid; check that you copied all of it")
    info = InvitationInfo(**{k: row[k] for k in InvitationInfo.__dataclass_fields__})
    if info.status != "pending":
        raise Gone(f"this invitation was {info.status}; ask a workspace admin to invite you again")
    has_account = await User.exists().where(User.email == info.email)
    return PendingInvitation(info.id, info.email, info.role, row["workspace_id"], row["workspace_name"],
                             row["workspace_slug"], has_account)


async def accept(token: str, user_id: UUID) -> PendingInvitation:
    """Join the workspace as the signed-in user, whose email must be the invited one. Single use."""
    pending = await lookup(token)
    account = await accounts.get_active(user_id)
    if account is None or account.email != pending.email:
        raise Forbidden(f"this invitation is for {pending.email}; sign in with that account to accept it")
    claimed = await fetch(
        "UPDATE invitations SET accepted_at = now(), accepted_by = {} WHERE id = {} AND accepted_at IS NULL "
        "AND revoked_at IS NULL AND expires_at > now() RETURNING id",
        user_id, pending.id,
    )
    if not claimed:
        raise Gone("this invitation was just used; ask a workspace admin to invite you again")
    await workspaces.add_member(pending.workspace_id, user_id, pending.role, actor_id=user_id)
    return pending


async def accept_as_new_user(token: str, name: str, password: str) -> tuple[PendingInvitation, accounts.Account]:
    """Create the invited person's account and accept in one go."""
    pending = await lookup(token)
    if pending.has_account:
        raise Conflict(f"an account for {pending.email} exists; sign in to accept")
    account = await accounts.create_user(pending.email, name, password)
    return await accept(token, account.id), account


