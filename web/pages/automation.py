"""Pages for what runs by itself or reaches outside: schedules (cron, inputs, on/off, edit, run now, what
they cost) and connectors (where approved changes are pushed; admins add and remove them). A schedule form
shows every field's problem at once, next to the field, with what was typed kept."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from agentledger.agents import scheduling
from agentledger.agents.registry import all_agents
from agentledger.platform.connectors import service as connectors
from agentledger.platform.database import atomic
from agentledger.platform.errors import AppError, Invalid
from agentledger.web.pages.common import page_scope, render, see_other, submit


@dataclass
class ScheduleForm:
    """As typed. The edit form has no agent (a schedule keeps its agent)."""

    name: str = ""
    cron: str = "0 6 * * 1"
    agent: str = ""
    inputs: str = "{}"
    scope: str = ""
    mode: str = "live"


@dataclass
class ConnectorForm:
    name: str = ""
    base_url: str = ""
    secret: str = ""


def _read(form: ScheduleForm) -> tuple[dict[str, Any] | None, int | None, list[Invalid]]:
    """The inputs box (a JSON object) and the scope box (a whole number, or empty for the agent's default)
    as values, with what could not be read: None inputs tell the service they were reported already."""
    found: list[Invalid] = []
    inputs: dict[str, Any] | None = None
    try:
        inputs = json.loads(form.inputs or "{}")
        if not isinstance(inputs, dict):
            inputs = None
            found.append(Invalid('inputs must be a JSON object, e.g. {"start_url": "https://example.com"}',
                                 field="inputs"))
    except json.JSONDecodeError as error:
        found.append(Invalid(f"inputs must be JSON: {error.msg} at character {error.pos}", field="inputs"))
    scope = form.scope.strip()
    if scope and not (scope.isascii() and scope.isdigit()):
        found.append(Invalid("scope must be a whole number, or empty for the agent's default", field="scope"))
        scope = ""
    return inputs, int(scope) if scope else None, found


def _as_form(row: dict[str, Any]) -> ScheduleForm:
    return ScheduleForm(row["name"], row["cron"], row["agent"], json.dumps(row["inputs"] or {}, indent=2),
                        "" if row["scope"] is None else str(row["scope"]), row["mode"])


class AutomationPages(Controller):
    path = "/w/{ws:str}"
    include_in_schema = False

    async def _schedules(self, request: Request, ws: str, *, form: ScheduleForm | None = None,
                         status_code: int = 200, **context: Any) -> Template:
        principal, caller = await page_scope(request, ws)
        return await render(request, "schedules.html", principal=principal, caller=caller,
                            schedules=await scheduling.list_all(caller),
                            agents=[a for a in all_agents() if not a.name.startswith("test-")],
                            form=form or ScheduleForm(agent="seo-audit"), problems=context.pop("problems", {}),
                            status_code=status_code, **context)

    async def _edit(self, request: Request, ws: str, schedule_id: UUID, *, form: ScheduleForm | None = None,
                    problems: dict[str, str] | None = None, status_code: int = 200) -> Template:
        principal, caller = await page_scope(request, ws)
        schedule = await scheduling.get(caller, schedule_id)
        return await render(request, "schedule_edit.html", principal=principal, caller=caller, schedule=schedule,
                            form=form or _as_form(schedule), problems=problems or {}, status_code=status_code)

    @get("/schedules")
    async def list_schedules(self, request: Request, ws: FromPath[str]) -> Template:
        return await self._schedules(request, ws)

    @post("/schedules")
    async def create_schedule(self, request: Request, ws: FromPath[str],
                              data: URLEncodedBody[ScheduleForm]) -> Template | Redirect:
        _, caller = await page_scope(request, ws)
        inputs, scope, found = _read(data)
        try:
            async with atomic():
                await scheduling.create(caller, name=data.name, agent=data.agent, inputs=inputs, scope=scope,
                                        mode=data.mode, cron=data.cron, found=found)
        except scheduling.Problems as problems:
            return await self._schedules(request, ws, form=data, problems=problems.by_field(),
                                         status_code=problems.status_code)
        except AppError as error:
            return await self._schedules(request, ws, form=data, error=error, status_code=error.status_code)
        return see_other(f"/w/{ws}/schedules")

    @get("/schedules/{schedule_id:uuid}/edit")
    async def edit_schedule(self, request: Request, ws: FromPath[str], schedule_id: FromPath[UUID]) -> Template:
        return await self._edit(request, ws, schedule_id)

    @post("/schedules/{schedule_id:uuid}/edit")
    async def save_schedule(self, request: Request, ws: FromPath[str], schedule_id: FromPath[UUID],
                            data: URLEncodedBody[ScheduleForm]) -> Template | Redirect:
        """Another member's schedule is not found (404), as for delete; an admin may change any."""
        _, caller = await page_scope(request, ws)
        inputs, scope, found = _read(data)
        changes = {"name": data.name, "cron": data.cron, "inputs": inputs, "scope": scope, "mode": data.mode}
        try:
            async with atomic():
                await scheduling.update(caller, schedule_id, changes, found=found)
        except scheduling.Problems as problems:
            return await self._edit(request, ws, schedule_id, form=data, problems=problems.by_field(),
                                    status_code=problems.status_code)
        return see_other(f"/w/{ws}/schedules")

    @post("/schedules/{schedule_id:uuid}/run")
    async def run_schedule(self, request: Request, ws: FromPath[str],
                           schedule_id: FromPath[UUID]) -> Template | Redirect:
        """Start its run now and go to it; a short wallet (402) comes back on the schedules page, in words."""
        _, caller = await page_scope(request, ws)
        return await submit(lambda: scheduling.run_now(caller, schedule_id), lambda run: f"/w/{ws}/executions/{run['id']}",
                            self._refused(request, ws))

    @post("/schedules/{schedule_id:uuid}/toggle")
    async def toggle(self, request: Request, ws: FromPath[str], schedule_id: FromPath[UUID]) -> Template | Redirect:
        _, caller = await page_scope(request, ws)
        return await submit(lambda: scheduling.toggle(caller, schedule_id), f"/w/{ws}/schedules",
                            self._refused(request, ws))

    def _refused(self, request: Request, ws: str) -> Callable[[AppError], Awaitable[Template]]:
        """The schedules page again, saying why a button was refused (with the refusal's status)."""
        return lambda error: self._schedules(request, ws, error=error, status_code=error.status_code)

    @post("/schedules/{schedule_id:uuid}/delete")
    async def delete_schedule(self, request: Request, ws: FromPath[str], schedule_id: FromPath[UUID]) -> Redirect:
        _, caller = await page_scope(request, ws)
        async with atomic():
            await scheduling.delete(caller, schedule_id)
        return see_other(f"/w/{ws}/schedules")

    async def _connectors(self, request: Request, ws: str, *, form: ConnectorForm | None = None,
                          status_code: int = 200, **context: Any) -> Template:
        principal, caller = await page_scope(request, ws)
        return await render(request, "connectors.html", principal=principal, caller=caller,
                            connectors=await connectors.list_all(caller), form=form or ConnectorForm(),
                            status_code=status_code, **context)

    @get("/connectors")
    async def list_connectors(self, request: Request, ws: FromPath[str]) -> Template:
        return await self._connectors(request, ws)

    @post("/connectors")
    async def add_connector(self, request: Request, ws: FromPath[str],
                            data: URLEncodedBody[ConnectorForm]) -> Template | Redirect:
        _, caller = await page_scope(request, ws)
        try:
            async with atomic():
                await connectors.create(caller, data.name, data.base_url.strip(), data.secret)
        except AppError as error:
            return await self._connectors(request, ws, form=ConnectorForm(data.name, data.base_url), error=error,
                                          status_code=error.status_code)
        return see_other(f"/w/{ws}/connectors")

    @post("/connectors/{connector_id:uuid}/remove")
    async def remove_connector(self, request: Request, ws: FromPath[str], connector_id: FromPath[UUID]) -> Redirect:
        _, caller = await page_scope(request, ws)
        async with atomic():
            await connectors.delete(caller, connector_id)
        return see_other(f"/w/{ws}/connectors")
