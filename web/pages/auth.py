"""Pages: sign in (password or OIDC), sign out, a forgotten password (ask for a link, use it), and
accepting an invitation."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from agentledger.platform import accounts, invitations, login_guard, oidc, passwords
from agentledger.platform.config import get_settings
from agentledger.platform.database import atomic
from agentledger.platform.errors import AppError, Forbidden, NotFound
from agentledger.web.auth import current_principal
from agentledger.web.pages.common import render, safe_next, see_other, signed_in
from agentledger.web.sessions import forget_sessions, rotate

log = logging.getLogger("agentledger.web")
# A reset page's URL holds the token: no Referer carries it anywhere, no cache keeps the page.
_PRIVATE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


@dataclass
class LoginForm:
    email: str = ""
    password: str = ""
    next: FromQuery[str] = "/"


@dataclass
class SignupForm:
    name: str = ""
    password: str = ""


@dataclass
class ForgotForm:
    email: str = ""


@dataclass
class ResetForm:
    new_password: str = ""
    confirm_password: str = ""


async def _send_reset_link(email: str, address: str) -> None:
    """After the answer went out (so its timing cannot tell whether the account exists)."""
    try:
        async with atomic():
            await passwords.send_reset_link(email, address)
    except Exception:  # noqa: BLE001 - nobody waits for this answer: log it
        log.exception("a password reset link could not be queued")


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

    @get("/forgot")
    async def forgot_page(self, request: Request) -> Template:
        return await render(request, "forgot.html", principal=await current_principal(request), form=ForgotForm())

    @post("/forgot")
    async def forgot(self, request: Request, data: URLEncodedBody[ForgotForm]) -> Template:
        """The same answer whether or not the account exists; the link goes out after it."""
        principal = await current_principal(request)
        address = request.client.host if request.client else ""
        try:
            if not data.email.strip():
                raise AppError("enter the email address you sign in with", field="email")
            email = accounts.normalize_email(data.email)
            await passwords.reserve_request(email, address)
        except AppError as error:
            return await render(request, "forgot.html", principal=principal, form=data, error=error,
                                status_code=error.status_code, headers=error.headers)
        page = await render(request, "forgot.html", principal=principal, form=ForgotForm(email), sent=True,
                            minutes=get_settings().password_reset_ttl_minutes)
        page.background = BackgroundTask(_send_reset_link, email, address)
        return page

    @get("/reset/{token:str}")
    async def reset_page(self, request: Request, token: FromPath[str]) -> Template:
        """Shows the form; changes nothing (mail scanners open links too)."""
        principal = await current_principal(request)
        try:
            link = await passwords.check_link(token)
        except AppError as error:
            return await render(request, "reset.html", principal=principal, problem=error,
                                status_code=error.status_code, headers=_PRIVATE)
        return await render(request, "reset.html", principal=principal, link=link, token=token, headers=_PRIVATE)

    @post("/reset/{token:str}")
    async def reset(self, request: Request, token: FromPath[str],
                    data: URLEncodedBody[ResetForm]) -> Template | Redirect:
        """Sets the password, signs out every session of the account and signs this browser in afresh: it
        just proved it reads the mailbox and chose the password, so asking for it again adds nothing."""
        try:
            async with atomic():
                account = await passwords.reset(token, data.new_password, data.confirm_password)
        except AppError as error:
            principal = await current_principal(request)
            if error.status_code in (404, 410):
                return await render(request, "reset.html", principal=principal, problem=error,
                                    status_code=error.status_code, headers=_PRIVATE)
            return await render(request, "reset.html", principal=principal, link=await passwords.check_link(token),
                                token=token, error=error, status_code=error.status_code, headers=_PRIVATE)
        await forget_sessions(request, str(account.id), keep_current=False)
        await start_session(request, account)
        return see_other("/account?done=reset")

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
