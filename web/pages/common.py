"""Shared page plumbing: the signed-in person, the workspace switcher and safe redirects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from litestar import Request, Response
from litestar.response import Redirect, Template

from agentledger.platform import workspaces
from agentledger.platform.charts import SIZES, render_svg
from agentledger.platform.config import get_settings
from agentledger.platform.database import atomic
from agentledger.platform.errors import AppError, Invalid, NotAuthenticated, NotFound
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


Done = TypeVar("Done")


async def submit(work: Callable[[], Awaitable[Done]], then: str | Callable[[Done], str],
                 again: Callable[[AppError], Awaitable[Template]]) -> Template | Redirect:
    """A form's post: ``work()`` in the request's transaction, then a 303 to ``then`` (a path, or the path
    made from what ``work`` answered); a refusal (an ``AppError``) rolls back and comes back on the page
    ``again(error)`` renders, which says why. Each button's handler says only what differs."""
    try:
        async with atomic():
            done = await work()
    except AppError as error:
        return await again(error)
    return see_other(then if isinstance(then, str) else then(done))


CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'"  # an SVG image runs no script; pygal styles inline


def chart_response(request: Request, report: dict[str, Any], section: int, index: int,
                   headers: dict[str, str]) -> Response[str]:
    """One chart of a report result as SVG, for the run page and a shared link's page alike;
    ``?size=narrow`` lays it out for a phone (the pages ask for it there)."""
    size = request.query_params.get("size") or "wide"
    if size not in SIZES:
        raise Invalid(f"size must be one of {', '.join(SIZES)}", field="size")
    try:
        chart = report["body"]["sections"][section]["charts"][index]
    except (KeyError, IndexError, TypeError):
        raise NotFound("chart not found") from None
    return Response(render_svg(chart, size), media_type="image/svg+xml",
                    headers={**headers, "content-security-policy": CHART_CSP})
