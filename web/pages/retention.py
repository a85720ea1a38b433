"""Settings → Retention (admins): the policy in days with what it means in plain words and how many runs
the next pass archives under it (a preview before saving), restore requests to approve, and alerts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from agentledger.platform.database import atomic
from agentledger.platform.errors import AppError, Invalid
from agentledger.platform.retention import policy as policies
from agentledger.platform.retention import service as retention
from agentledger.web.pages.common import page_scope, render, see_other, submit


@dataclass
class PolicyForm:
    completed_days: str = ""
    failed_days: str = ""
    files_days: str = ""
    downloads_days: str = ""
    restore_grace_days: str = ""
    auto_approve: str = ""  # a checkbox: present ("on") or absent

    def changes(self) -> dict[str, Any]:
        out: dict[str, Any] = {"auto_approve": bool(self.auto_approve)}
        for name in policies.DAYS:
            text = getattr(self, name).strip()
            if not text.isdigit() or len(text) > 6:
                raise Invalid(f"{policies.LABELS[name]}: a whole number of days from {policies.MIN_DAYS} to "
                              f"{policies.MAX_DAYS}", field=name)
            out[name] = int(text)
        return out


class RetentionPages(Controller):
    path = "/w/{ws:str}/settings/retention"
    include_in_schema = False

    async def _page(self, request: Request, ws: str, *, status_code: int = 200, **context: Any) -> Template:
        principal, caller = await page_scope(request, ws)
        shown = context.pop("shown", None) or await retention.view(caller)
        return await render(request, "retention.html", principal=principal, caller=caller, policy=shown,
                            labels=policies.LABELS, requests=await retention.restore_requests(caller),
                            status_code=status_code, **context)

    @get("/")
    async def show(self, request: Request, ws: FromPath[str]) -> Template:
        return await self._page(request, ws, saved=request.query_params.get("saved") == "1")

    @post("/")
    async def save(self, request: Request, ws: FromPath[str], data: URLEncodedBody[PolicyForm]) -> Template | Redirect:
        _, caller = await page_scope(request, ws)
        return await submit(lambda: retention.update(caller, data.changes()), f"/w/{ws}/settings/retention?saved=1",
                            lambda error: self._page(request, ws, error=error, form=data, status_code=error.status_code))

    @post("/preview")
    async def preview(self, request: Request, ws: FromPath[str], data: URLEncodedBody[PolicyForm]) -> Template:
        """The page as it would be with these values: the plain words and the count; nothing is saved."""
        _, caller = await page_scope(request, ws)
        try:
            shown = await retention.preview(caller, data.changes())
        except AppError as error:
            return await self._page(request, ws, error=error, form=data, status_code=error.status_code)
        return await self._page(request, ws, shown=shown, previewing=True)

    @post("/requests/{request_id:uuid}/{decision:str}")
    async def decide(self, request: Request, ws: FromPath[str], request_id: FromPath[UUID],
                     decision: FromPath[str]) -> Template | Redirect:
        _, caller = await page_scope(request, ws)
        if decision not in ("approve", "reject"):
            return await self._page(request, ws, error=Invalid("approve or reject", field="decision"), status_code=422)
        return await submit(lambda: retention.decide_restore(caller, request_id, decision == "approve"),
                            f"/w/{ws}/settings/retention#requests",
                            lambda error: self._page(request, ws, error=error, status_code=error.status_code))

    @post("/alerts/{alert_id:uuid}/dismiss")
    async def dismiss(self, request: Request, ws: FromPath[str], alert_id: FromPath[UUID]) -> Redirect:
        _, caller = await page_scope(request, ws)
        async with atomic():
            await retention.dismiss(caller, alert_id)
        return see_other(f"/w/{ws}/settings/retention")
