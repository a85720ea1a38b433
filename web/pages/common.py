"""Shared page plumbing: the signed-in person, the workspace switcher and safe redirects."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Redirect, Template

from agentledger.platform import workspaces
from agentledger.platform.config import get_settings
from agentledger.platform.errors import NotAuthenticated
from agentledger.platform.scoping import Scope, resolve_scope
from agentledger.web.auth import Principal, current_principal


async def signed_in(request: Request) -> Principal:
    principal = await current_principal(request)
    if principal is None or principal.via_token:
        raise NotAuthenticated("sign in to continue")
    return principal


async def page_scope(request: Request, ws: str) -> tuple[Principal, Scope]:
    principal = await signed_in(request)
    return principal, await resolve_scope(ws, principal.user_id)


async def render(request: Request, template: str, *, principal: Principal | None = None,
                 caller: Scope | None = None, status_code: int = 200, headers: dict[str, str] | None = None,
                 **context: Any) -> Template:
    nav = await workspaces.workspaces_of(principal.user_id) if principal else []
    return Template(
        template,
        context={"me": principal, "caller": caller, "nav_workspaces": nav, "settings": get_settings(),
                 "path": request.url.path, **context},
        status_code=status_code,
        headers=headers,
    )


def safe_next(target: str | None) -> str:
    """Only same-site paths: '/x' yes, '//evil.com' or 'https://…' no."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def see_other(path: str) -> Redirect:
    return Redirect(path, status_code=303)
