"""Pages inside a workspace: members and invitations, API tokens, and the workspace list with its create
form (runs are in ``runs.py``, schedules and connectors in ``automation.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from agentledger.platform import invitations, tokens, workspaces
from agentledger.platform.database import atomic
from agentledger.platform.errors import AppError
from agentledger.platform.scoping import Scope
from agentledger.platform.validation import time_zones
from agentledger.web.auth import Principal, current_principal
from agentledger.web.pages.common import page_scope, render, see_other, signed_in, submit


@dataclass
class WorkspaceForm:
    slug: str = ""
    name: str = ""


@dataclass
class InviteForm:
    email: str = ""
    role: str = "member"


@dataclass
class RoleForm:
    role: str = "member"


@dataclass
class TimeZoneForm:
    timezone: str = ""


@dataclass
class TokenForm:
    name: str = ""


class HomePages(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, request: Request) -> Redirect:
        principal = await current_principal(request)
        if principal is None or principal.via_token:
            return see_other("/login")
        mine = await workspaces.workspaces_of(principal.user_id)
        return see_other(f"/w/{mine[0].slug}/executions" if mine else "/workspaces")

    @get("/workspaces")
    async def list_workspaces(self, request: Request) -> Template:
        principal = await signed_in(request)
        return await render(request, "workspaces.html", principal=principal, form=WorkspaceForm())

    @post("/workspaces")
    async def create_workspace(self, request: Request, data: URLEncodedBody[WorkspaceForm]) -> Template | Redirect:
        principal = await signed_in(request)
        try:
            async with atomic():
                info = await workspaces.create_workspace(data.slug.strip().lower(), data.name, principal.user_id)
        except AppError as error:
            return await render(request, "workspaces.html", principal=principal, form=data, error=error,
                                status_code=error.status_code)
        return see_other(f"/w/{info.slug}/executions")


class WorkspacePages(Controller):
    path = "/w/{ws:str}"
    include_in_schema = False

    @get("/")
    async def root(self, ws: FromPath[str]) -> Redirect:
        return see_other(f"/w/{ws}/executions")

    async def _members_page(self, request: Request, principal: Principal, caller: Scope, *,
                            status_code: int = 200, **context: object) -> Template:
        members = (await workspaces.list_members(caller)).items
        pending = [i for i in (await invitations.list_invitations(caller)).items if i.status == "pending"] \
            if caller.is_admin else []
        return await render(request, "members.html", principal=principal, caller=caller, members=members,
                            invitations=pending, form=context.pop("form", InviteForm()), status_code=status_code,
                            timezone=await workspaces.time_zone(caller), zones=sorted(time_zones()), **context)

    @get("/members")
    async def members(self, request: Request, ws: FromPath[str]) -> Template:
        principal, caller = await page_scope(request, ws)
        return await self._members_page(request, principal, caller)

    @post("/invitations")
    async def invite(self, request: Request, ws: FromPath[str], data: URLEncodedBody[InviteForm]) -> Template:
        principal, caller = await page_scope(request, ws)
        try:
            async with atomic():
                info, link = await invitations.invite(caller, data.email, data.role)
        except AppError as error:
            return await self._members_page(request, principal, caller, form=data, error=error,
                                            status_code=error.status_code)
        return await self._members_page(request, principal, caller, new_invitation=info, new_link=link)

    @post("/invitations/{invitation_id:uuid}/revoke")
    async def revoke_invitation(self, request: Request, ws: FromPath[str], invitation_id: FromPath[UUID]) -> Redirect:
        _, caller = await page_scope(request, ws)
        async with atomic():
            await invitations.revoke(caller, invitation_id)
        return see_other(f"/w/{ws}/members")

    @post("/members/{user_id:uuid}/role")
    async def change_role(self, request: Request, ws: FromPath[str], user_id: FromPath[UUID],
                          data: URLEncodedBody[RoleForm]) -> Template | Redirect:
        principal, caller = await page_scope(request, ws)
        return await submit(lambda: workspaces.change_role(caller, user_id, data.role), f"/w/{ws}/members",
                            self._refused(request, principal, caller))

    @post("/timezone")
    async def time_zone(self, request: Request, ws: FromPath[str], data: URLEncodedBody[TimeZoneForm]) -> Template | Redirect:
        principal, caller = await page_scope(request, ws)
        return await submit(lambda: workspaces.set_time_zone(caller, data.timezone.strip()), f"/w/{ws}/members",
                            self._refused(request, principal, caller))

    @post("/members/{user_id:uuid}/remove")
    async def remove_member(self, request: Request, ws: FromPath[str], user_id: FromPath[UUID]) -> Template | Redirect:
        principal, caller = await page_scope(request, ws)
        return await submit(lambda: workspaces.remove_member(caller, user_id),
                            "/" if user_id == principal.user_id else f"/w/{ws}/members",
                            self._refused(request, principal, caller))

    def _refused(self, request: Request, principal: Principal,
                 caller: Scope) -> Callable[[AppError], Awaitable[Template]]:
        """The members page again, saying why a button was refused (with the refusal's status)."""
        return lambda error: self._members_page(request, principal, caller, error=error, status_code=error.status_code)

    async def _tokens_page(self, request: Request, principal: Principal, caller: Scope, *,
                           status_code: int = 200, **context: object) -> Template:
        return await render(request, "tokens.html", principal=principal, caller=caller,
                            tokens=(await tokens.list_tokens(caller)).items, form=context.pop("form", TokenForm()),
                            status_code=status_code, **context)

    @get("/tokens")
    async def list_tokens(self, request: Request, ws: FromPath[str]) -> Template:
        principal, caller = await page_scope(request, ws)
        return await self._tokens_page(request, principal, caller)

    @post("/tokens")
    async def create_token(self, request: Request, ws: FromPath[str], data: URLEncodedBody[TokenForm]) -> Template:
        principal, caller = await page_scope(request, ws)
        try:
            async with atomic():
                info, plain = await tokens.create_token(caller, data.name)
        except AppError as error:
            return await self._tokens_page(request, principal, caller, form=data, error=error,
                                           status_code=error.status_code)
        return await self._tokens_page(request, principal, caller, new_token=info, new_plain=plain)

    @post("/tokens/{token_id:uuid}/revoke")
    async def revoke_token(self, request: Request, ws: FromPath[str], token_id: FromPath[UUID]) -> Redirect:
        _, caller = await page_scope(request, ws)
        async with atomic():
            await tokens.revoke_token(caller, token_id)
        return see_other(f"/w/{ws}/tokens")
