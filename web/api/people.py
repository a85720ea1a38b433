"""API: the caller (``/me``), workspaces, members, invitations and tokens."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from agentledger.platform import invitations, tokens, workspaces
from agentledger.platform.database import atomic
from agentledger.platform.errors import Conflict, Forbidden
from agentledger.platform.pagination import DEFAULT_LIMIT, PageRequest
from agentledger.platform.schemas import (
    InvitationIn,
    InvitationOut,
    MemberOut,
    MeOut,
    PageOut,
    RoleIn,
    TokenIn,
    TokenOut,
    UserOut,
    WorkspaceIn,
    WorkspaceOut,
    WorkspaceSettingsIn,
    WorkspaceSettingsOut,
)
from agentledger.web.api.paging import Cursor, Limit
from agentledger.web.auth import Caller, SignedIn
from agentledger.web.responses import shaped


def _invitation(info: invitations.InvitationInfo, link: str | None = None) -> InvitationOut:
    return shaped(InvitationOut, info, accept_url=link)


def _token(info: tokens.TokenInfo, plain: str | None = None) -> TokenOut:
    return shaped(TokenOut, info, token=plain)


class MeController(Controller):
    path = "/api/v1"
    tags = ["people"]

    @get("/me", summary="The caller, their workspaces and role in each")
    async def me(self, principal: SignedIn) -> MeOut:
        if principal.token_scope is not None:
            s = principal.token_scope
            mine = [workspaces.WorkspaceInfo(s.workspace_id, s.workspace_slug, s.workspace_name, s.role)]
        else:
            mine = await workspaces.workspaces_of(principal.user_id)
        return MeOut(
            user=shaped(UserOut, principal, id=principal.user_id),
            workspaces=[shaped(WorkspaceOut, w) for w in mine],
            auth="token" if principal.via_token else "session",
        )

    @post("/workspaces", raises=[Forbidden, Conflict], status_code=HTTP_201_CREATED, summary="Create a workspace; the caller becomes its admin")
    async def create_workspace(self, principal: SignedIn, data: JSONBody[WorkspaceIn]) -> WorkspaceOut:
        if principal.via_token:
            raise Forbidden("API tokens are limited to their workspace; create workspaces while signed in")
        async with atomic():
            info = await workspaces.create_workspace(data.slug, data.name, principal.user_id)
        return shaped(WorkspaceOut, info, role="admin")


class WorkspaceSettingsController(Controller):
    path = "/api/v1/workspaces/{ws:str}/settings"
    tags = ["people"]

    @get("/", summary="The workspace's settings: its time zone (members' digests come at 08:00 there)")
    async def show(self, caller: Caller) -> WorkspaceSettingsOut:
        return WorkspaceSettingsOut(await workspaces.time_zone(caller))

    @put("/", raises=[Forbidden], status_code=HTTP_200_OK, summary="Change the workspace's time zone (admins)")
    async def update(self, caller: Caller, data: JSONBody[WorkspaceSettingsIn]) -> WorkspaceSettingsOut:
        async with atomic():
            return WorkspaceSettingsOut(await workspaces.set_time_zone(caller, data.timezone))


class MembersController(Controller):
    path = "/api/v1/workspaces/{ws:str}/members"
    tags = ["people"]

    @get("/", summary="Members of the workspace, newest first")
    async def list_members(self, caller: Caller, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT,
                           ) -> PageOut[MemberOut]:
        page = await workspaces.list_members(caller, PageRequest(cursor, limit))
        return PageOut([shaped(MemberOut, m) for m in page.items], page.next_cursor)

    @patch("/{user_id:uuid}", raises=[Forbidden, Conflict], summary="Change a member's role (admins)")
    async def change_role(self, caller: Caller, user_id: FromPath[UUID], data: JSONBody[RoleIn]) -> MemberOut:
        async with atomic():
            await workspaces.change_role(caller, user_id, data.role)
        return shaped(MemberOut, await workspaces.get_member(caller, user_id))

    @delete("/{user_id:uuid}", raises=[Forbidden, Conflict], status_code=HTTP_204_NO_CONTENT,
            summary="Remove a member (admins) or leave (yourself); ends their sessions and tokens")
    async def remove(self, caller: Caller, user_id: FromPath[UUID]) -> None:
        async with atomic():
            await workspaces.remove_member(caller, user_id)


class InvitationsController(Controller):
    path = "/api/v1/workspaces/{ws:str}/invitations"
    tags = ["people"]

    @get("/", raises=[Forbidden], summary="Invitations of the workspace in every state, newest first (admins)")
    async def list_invitations(self, caller: Caller, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT,
                               ) -> PageOut[InvitationOut]:
        page = await invitations.list_invitations(caller, PageRequest(cursor, limit))
        return PageOut([_invitation(i) for i in page.items], page.next_cursor)

    @post("/", raises=[Forbidden, Conflict], status_code=HTTP_201_CREATED,
          summary="Invite by email (admins); the response carries the accept link once")
    async def invite(self, caller: Caller, data: JSONBody[InvitationIn]) -> InvitationOut:
        async with atomic():
            info, link = await invitations.invite(caller, data.email, data.role)
        return _invitation(info, link)

    @delete("/{invitation_id:uuid}", raises=[Forbidden, Conflict], status_code=HTTP_204_NO_CONTENT, summary="Revoke a pending invitation")
    async def revoke(self, caller: Caller, invitation_id: FromPath[UUID]) -> None:
        async with atomic():
            await invitations.revoke(caller, invitation_id)


class TokensController(Controller):
    path = "/api/v1/workspaces/{ws:str}/tokens"
    tags = ["people"]

    @get("/", summary="API tokens, newest first (yours; admins see everyone's)")
    async def list_tokens(self, caller: Caller, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT,
                          ) -> PageOut[TokenOut]:
        page = await tokens.list_tokens(caller, PageRequest(cursor, limit))
        return PageOut([_token(t) for t in page.items], page.next_cursor)

    @post("/", status_code=HTTP_201_CREATED, summary="Create a personal token; the plain token is shown once")
    async def create(self, caller: Caller, data: JSONBody[TokenIn]) -> TokenOut:
        async with atomic():
            info, plain = await tokens.create_token(caller, data.name)
        return _token(info, plain)

    @delete("/{token_id:uuid}", raises=[Forbidden, Conflict], status_code=HTTP_204_NO_CONTENT, summary="Revoke a token")
    async def revoke(self, caller: Caller, token_id: FromPath[UUID]) -> None:
        async with atomic():
            await tokens.revoke_token(caller, token_id)


controllers = [MeController, WorkspaceSettingsController, MembersController, InvitationsController, TokensController]
