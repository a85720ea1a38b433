"""Pages: sign in (password or OIDC), sign out, and accepting an invitation."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from agentledger.platform import accounts, invitations, login_guard, oidc
from agentledger.platform.config import get_settings
from agentledger.platform.database import atomic
from agentledger.platform.errors import AppError, Forbidden, NotFound
from agentledger.web.auth import current_principal
from agentledger.web.pages.common import render, safe_next, see_other, signed_in
from agentledger.web.sessions import rotate


@dataclass
class LoginForm:
    email: str = ""
    password: str = ""
    next: FromQuery[str] = "/"


@dataclass
class SignupForm:
    name: str = ""
    password: str = ""


async def start_session(request: Request, account: accounts.Account) -> None:
    await rotate(request, {"uid": str(account.id), "epoch": account.session_epoch})


class AuthPages(Controller):
    include_in_schema = False

    @get("/login")
    async def login_page(self, request: Request, next: FromQuery[str] = "/") -> Template | Redirect:
        if await current_principal(request):
            return see_other(safe_next(next))
        return await render(request, "login.html", form=LoginForm(next=safe_next(next)))

    @post("/login")
    async def login(self, request: Request, data: URLEncodedBody[LoginForm]) -> Template | Redirect:
        email = data.email.strip().lower()
        try:
            if not email or not data.password:
                raise AppError("enter your email and password", field="email")
            await login_guard.reserve_attempt(email)
            account = await accounts.authenticate(email, data.password)
            if account is None:
                error = AppError("wrong email or password", field="password")
                error.status_code = 401
                raise error
        except AppError as error:
            return await render(request, "login.html", form=LoginForm(email=email, next=safe_next(data.next)),
                                error=error, status_code=error.status_code, headers=error.headers)
        await login_guard.clear(email)
        await start_session(request, account)
        return see_other(safe_next(data.next))

    @post("/logout")
    async def logout(self, request: Request) -> Redirect:
        request.clear_session()
        return see_other("/login")

    @post("/auth/oidc/start")
    async def oidc_start(self, request: Request) -> Redirect:
        settings = get_settings()
        if not settings.oidc_enabled:
            raise NotFound("single sign-on is not configured")
        url, pending = await oidc.begin(settings)
        request.set_session({**(request.session or {}), "oidc": pending})
        return see_other(url)

    @get("/auth/oidc/callback")
    async def oidc_callback(self, request: Request) -> Template | Redirect:
        settings = get_settings()
        if not settings.oidc_enabled:
            raise NotFound("single sign-on is not configured")
        session = dict(request.session or {})
        pending = session.pop("oidc", None)
        request.set_session(session)
        identity = await oidc.finish(settings, pending, dict(request.query_params))
        async with atomic():
            account = await accounts.link_oidc(identity.issuer, identity.subject, identity.email)
        if account is None:
            raise Forbidden(f"there is no agentledger account for {identity.email}; ask a workspace admin "
                            "to invite you")
        await start_session(request, account)
        return see_other("/")


class InvitationPages(Controller):
    path = "/invitations/{token:str}"
    include_in_schema = False

    @get("/")
    async def show(self, request: Request, token: FromPath[str]) -> Template:
        pending = await invitations.lookup(token)
        principal = await current_principal(request)
        return await render(request, "invitation.html", principal=principal, invitation=pending, token=token,
                            form=SignupForm())

    @post("/accept")
    async def accept(self, request: Request, token: FromPath[str]) -> Redirect:
        principal = await signed_in(request)
        async with atomic():
            pending = await invitations.accept(token, principal.user_id)
        return see_other(f"/w/{pending.workspace_slug}/executions")

    @post("/signup")
    async def signup(self, request: Request, token: FromPath[str], data: URLEncodedBody[SignupForm]) -> Template | Redirect:
        try:
            async with atomic():
                pending, account = await invitations.accept_as_new_user(token, data.name, data.password)
        except AppError as error:
            if error.status_code in (404, 410):
                raise
            pending = await invitations.lookup(token)
            return await render(request, "invitation.html", invitation=pending, token=token, form=data,
                                error=error, status_code=error.status_code)
        await start_session(request, account)
        return see_other(f"/w/{pending.workspace_slug}/executions")
