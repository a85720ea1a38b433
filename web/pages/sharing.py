"""Pages: the run's Share page (teammates and password-protected links), and what a link shows to whoever
opens it: a password form, then the run's results read-only with its PDF and CSV downloads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from agentledger.platform import workspaces
from agentledger.platform.database import atomic
from agentledger.platform.errors import AppError, Invalid, NotFound
from agentledger.platform.executions import service as executions
from agentledger.platform.executions.present import present
from agentledger.platform.pagination import ALL
from agentledger.platform.results import service as results
from agentledger.platform.results.notices import Notice
from agentledger.platform.sharing import links, lockout, service
from agentledger.web.pages import flash
from agentledger.web.pages.common import chart_response, page_scope, render, see_other
from agentledger.web.pages.runs import results_by_kind
from agentledger.web.responses import artifact_response, export_response
from agentledger.web.sessions import rotate

UNLOCKED = "share_links"  # session key: the links whose password this browser gave
PRIVATE = {"referrer-policy": "no-referrer", "x-robots-tag": "noindex, nofollow", "cache-control": "private, no-store"}


@dataclass
class PersonForm:
    user_id: str = ""


@dataclass
class LinkForm:
    password: str = ""
    expires_in_days: str = str(links.DEFAULT_DAYS)


@dataclass
class PasswordForm:
    password: str = ""


class SharePages(Controller):
    path = "/w/{ws:str}/executions/{execution_id:uuid}"
    include_in_schema = False

    async def _page(self, request: Request, ws: str, execution_id: UUID, *, status_code: int = 200,
                    **context: Any) -> Template:
        principal, caller = await page_scope(request, ws)
        row = await executions.get(caller, execution_id)
        people = await service.shares(caller, row)
        can_act = executions.may_act(caller, row)
        taken = {p.user_id for p in people} | {row["started_by"]}
        members = [m for m in (await workspaces.list_members(caller, ALL)).items  # admins see every run already
                   if m.user_id not in taken and m.role != "admin"]
        return await render(request, "share.html", principal=principal, caller=caller, run=present(row),
                            people=people, members=members, can_act=can_act,
                            links=await links.links(caller, row) if can_act else [],
                            max_days=links.MAX_DAYS, link_cap=lockout.LINK_MAX_FAILURES,
                            form=context.pop("form", LinkForm()), status_code=status_code, headers=PRIVATE,
                            **context)

    async def _act(self, request: Request, ws: str, execution_id: UUID, action: Any,
                   notice: Callable[[Any], Notice] | None = None) -> Template | Redirect:
        """Run ``action`` in a transaction; back on the Share page, which says what it did (``notice``
        of its answer, put in the session only once the change is committed)."""
        _, caller = await page_scope(request, ws)
        try:
            async with atomic():
                done = await action(caller)
        except AppError as error:
            return await self._page(request, ws, execution_id, error=error, status_code=error.status_code)
        if notice is not None:
            flash.put(request, execution_id, notice(done))
        return see_other(f"/w/{ws}/executions/{execution_id}/share")

    @get("/share")
    async def show(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID]) -> Template:
        return await self._page(request, ws, execution_id, **flash.take(request, execution_id))

    @post("/share")
    async def share(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID],
                    data: URLEncodedBody[PersonForm]) -> Template | Redirect:
        return await self._act(request, ws, execution_id,
                               lambda caller: service.share(caller, execution_id, _person(data.user_id)))

    @post("/share/{user_id:uuid}/remove")
    async def unshare(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID],
                      user_id: FromPath[UUID]) -> Template | Redirect:
        return await self._act(request, ws, execution_id, lambda caller: service.unshare(caller, execution_id, user_id))

    @post("/links")
    async def create_link(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID],
                          data: URLEncodedBody[LinkForm]) -> Template:
        """Answers the page itself, not a redirect: the link is shown this once."""
        _, caller = await page_scope(request, ws)
        try:
            days = _days(data.expires_in_days)
            async with atomic():
                _, token = await links.create(caller, execution_id, data.password, days)
        except AppError as error:
            return await self._page(request, ws, execution_id, error=error, form=data, status_code=error.status_code)
        return await self._page(request, ws, execution_id, new_link=links.url(token))

    @post("/links/{link_id:uuid}/revoke")
    async def revoke(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID],
                     link_id: FromPath[UUID]) -> Template | Redirect:
        return await self._act(request, ws, execution_id, lambda caller: links.revoke(caller, execution_id, link_id))

    @post("/links/{link_id:uuid}/unlock")
    async def unlock_link(self, request: Request, ws: FromPath[str], execution_id: FromPath[UUID],
                          link_id: FromPath[UUID]) -> Template | Redirect:
        """Lift the lockout for every address; back on the Share page, which says so."""
        return await self._act(request, ws, execution_id,
                               lambda caller: links.lift_lockout(caller, execution_id, link_id), notice=_unlocked)


def _unlocked(done: tuple[links.Link, lockout.Standing]) -> Notice:
    link, before = done
    if not before.failures:
        return Notice("success", f"Link {link.prefix}… had no wrong passwords to forget: anyone with its password "
                                 "can open it.")
    what = "was locked for everyone" if before.locked else (
        f"had {before.sources_locked} {'address' if before.sources_locked == 1 else 'addresses'} locked out"
        if before.sources_locked else "was not locked")
    wrong = f"{before.failures} wrong {'password' if before.failures == 1 else 'passwords'}"
    return Notice("success", f"Unlocked link {link.prefix}… (it {what}): its {wrong} of the last hour are "
                             "forgotten, so anyone with its password can open it again, from any address.")


def _days(value: str) -> int:
    try:
        return int(value.strip()[:4])
    except ValueError:
        raise Invalid(f"enter a number of days, 1 to {links.MAX_DAYS}", field="expires_in_days") from None


def _person(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise Invalid("choose a member from the list", field="user_id") from None


class LinkPages(Controller):
    """What a shared link shows. Nothing here needs an account; the password unlocks the link for this
    browser's session until the link ends."""

    path = "/s/{token:str}"
    include_in_schema = False

    async def _viewing(self, request: Request, token: str) -> links.Viewing | None:
        """The link's run when this browser gave its password, else None (404 once the link ended)."""
        shown = await links.viewing(token)
        return shown if str(shown.link_id) in (request.session or {}).get(UNLOCKED, []) else None

    async def _locked(self, request: Request, token: str, *, status_code: int = 200,
                      extra_headers: dict[str, str] | None = None, **context: Any) -> Template:
        return await render(request, "link_password.html", token=token, status_code=status_code,
                            headers={**PRIVATE, **(extra_headers or {})}, **context)

    @get("/")
    async def show(self, request: Request, token: FromPath[str]) -> Template:
        shown = await self._viewing(request, token)
        if shown is None:
            return await self._locked(request, token)
        row = await executions.get(shown.scope, shown.execution_id)
        filters = {k: request.query_params.get(k) or None for k in ("priority", "status", "sort")}
        grouped, more = await results_by_kind(shown.scope, shown.execution_id, filters, files_base=f"/s/{token}/files")
        return await render(request, "shared_run.html", token=token, run=present(row), results=grouped,
                            more_results=more, filters=filters, can_act=False, chart_base=f"/s/{token}/results",
                            expires_at=shown.expires_at, workspace_name=shown.scope.workspace_name, headers=PRIVATE)

    @post("/")
    async def unlock(self, request: Request, token: FromPath[str],
                     data: URLEncodedBody[PasswordForm]) -> Template | Redirect:
        # The peer address as the server saw it: uvicorn puts the X-Forwarded-For client there only when the
        # peer is a proxy it trusts (FORWARDED_ALLOW_IPS); the header itself is never read here.
        client_host = request.client.host if request.client else None
        try:
            async with atomic():
                shown = await links.unlock(token, data.password, client_host)
        except NotFound:
            raise  # the link ended: the error page says so
        except AppError as error:  # a wrong password, or too many
            return await self._locked(request, token, error=error, status_code=error.status_code,
                                      extra_headers=error.headers)
        session = dict(request.session or {})
        session[UNLOCKED] = [*session.get(UNLOCKED, [])[-19:], str(shown.link_id)]  # a browser keeps its last 20
        await rotate(request, session)  # a new session id: one planted before the password unlocks nothing
        return see_other(f"/s/{token}")

    async def _result(self, request: Request, token: str, result_id: UUID) -> tuple[links.Viewing, dict[str, Any]]:
        shown = await self._viewing(request, token)
        if shown is None:
            raise NotFound("open the link and give its password first")
        row = await results.get(shown.scope, result_id)
        if row["execution"] != shown.execution_id:  # only this link's run
            raise NotFound("result not found")
        return shown, row

    @get("/results/{result_id:uuid}/charts/{section:int}/{index:int}")
    async def chart(self, request: Request, token: FromPath[str], result_id: FromPath[UUID], section: FromPath[int],
                    index: FromPath[int]) -> Response[str]:
        _, row = await self._result(request, token, result_id)
        return chart_response(request, row, section, index, PRIVATE)

    @get("/files/{result_id:uuid}/download")
    async def file(self, request: Request, token: FromPath[str], result_id: FromPath[UUID]) -> Response[bytes]:
        _, row = await self._result(request, token, result_id)
        response = await artifact_response(row, request.query_params.get("inline") == "1")
        response.headers.update(PRIVATE)
        return response

    @get("/export")
    async def export(self, request: Request, token: FromPath[str]) -> Any:
        """PDF and CSV: the report and its tables. The JSON record (steps, log, inputs) stays in the workspace."""
        shown = await self._viewing(request, token)
        if shown is None:
            raise NotFound("open the link and give its password first")
        format_ = request.query_params.get("format", "")
        if format_ not in ("pdf", "csv"):
            raise Invalid("format must be pdf or csv", field="format")
        return await export_response(shown.scope, shown.execution_id, format_, shared=True)
