"""The account page: one's own name, password and signed-in sessions.

Each form posts, then redirects back with a fixed ``?done=`` code the page turns into a notice (never
text from the query string). A form with a mistake is shown again with the message by its field. A
password change or "sign out everywhere else" ends every session of the person (the session epoch) and
starts this browser's again under a new id, keeping when it began.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from agentledger.platform import accounts, passwords
from agentledger.platform.database import atomic
from agentledger.platform.errors import AppError, NotFound
from agentledger.web import sessions
from agentledger.web.auth import Principal
from agentledger.web.pages.common import render, see_other, signed_in

NOTICES = {
    "name": "Your name is saved.",
    "password": "Your password is changed. Every other session was signed out; this one stays signed in.",
    "reset": "Your new password is set and you are signed in. Every other session was signed out.",
    "others": "Every other session was signed out.",
    "session": "That session was signed out.",
}


@dataclass
class NameForm:
    name: str = ""


@dataclass
class PasswordForm:
    current_password: str = ""
    new_password: str = ""
    confirm_password: str = ""


def _epoch(request: Request) -> int:
    """The epoch of this browser's session, which ``signed_in`` found current."""
    return int((request.session or {}).get("epoch", -1))


async def restart_session(request: Request, epoch: int) -> None:
    """After the epoch moved on: other sessions are void (and deleted); this one continues under a new id."""
    user_id = (request.session or {})["uid"]
    await sessions.forget_sessions(request, user_id, keep_current=True)
    await sessions.rotate(request, {**(request.session or {}), "epoch": epoch})


class AccountPages(Controller):
    path = "/account"
    include_in_schema = False

    async def _page(self, request: Request, principal: Principal, *, status_code: int = 200,
                    headers: dict[str, str] | None = None, **context: object) -> Template:
        profile = await accounts.profile(principal.user_id)
        listed = await sessions.list_sessions(request, str(principal.user_id), _epoch(request))
        return await render(request, "account.html", principal=principal, profile=profile, sessions=listed,
                            name_form=context.pop("name_form", NameForm(profile.name)), status_code=status_code,
                            headers=headers, **context)

    @get("/")
    async def show(self, request: Request, done: FromQuery[str] = "") -> Template:
        principal = await signed_in(request)
        return await self._page(request, principal, notice=NOTICES.get(done))

    @post("/name")
    async def rename(self, request: Request, data: URLEncodedBody[NameForm]) -> Template | Redirect:
        principal = await signed_in(request)
        try:
            async with atomic():
                await accounts.rename(principal.user_id, data.name)
        except AppError as error:
            return await self._page(request, principal, name_form=data, error=error, failed="name",
                                    status_code=error.status_code)
        return see_other("/account?done=name")

    @post("/password")
    async def change_password(self, request: Request, data: URLEncodedBody[PasswordForm]) -> Template | Redirect:
        principal = await signed_in(request)
        try:
            async with atomic():
                account = await passwords.change_password(principal.user_id, data.current_password,
                                                          data.new_password, data.confirm_password)
        except AppError as error:
            return await self._page(request, principal, error=error, failed="password", status_code=error.status_code,
                                    headers=error.headers)
        await restart_session(request, account.session_epoch)
        return see_other("/account?done=password")

    @post("/sessions/end-others")
    async def end_others(self, request: Request) -> Redirect:
        principal = await signed_in(request)
        async with atomic():
            epoch = await accounts.sign_out_everywhere(principal.user_id)
        await restart_session(request, epoch)
        return see_other("/account?done=others")

    @post("/sessions/{handle:str}/end")
    async def end_one(self, request: Request, handle: FromPath[str]) -> Redirect:
        principal = await signed_in(request)
        if not await sessions.end_session(request, str(principal.user_id), _epoch(request), handle):
            raise NotFound("that session has already ended, or it is this browser's (use Sign out for this one)")
        return see_other("/account?done=session")
