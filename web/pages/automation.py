"""Pages for what runs by itself or reaches outside: schedules (cron, inputs, on/off) and connectors
(where approved changes are pushed; admins add and remove them)."""

from __future__ import annotations

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
from agentledger.platform.errors import AppError
from agentledger.platform.schedules import repository as schedules
from agentledger.web.pages.common import page_scope, render, see_other
from agentledger.web.pages.runs import StartForm, start_request


@dataclass
class ScheduleForm(StartForm):
    name: str = ""
    cron: str = "0 6 * * 1"


@dataclass
class ConnectorForm:
    name: str = ""
    base_url: str = ""
    secret: str = ""


class AutomationPages(Controller):
    path = "/w/{ws:str}"
    include_in_schema = False

    async def _schedules(self, request: Request, ws: str, *, form: ScheduleForm | None = None,
                         status_code: int = 200, **context: Any) -> Template:
        principal, caller = await page_scope(request, ws)
        return await render(request, "schedules.html", principal=principal, caller=caller,
                            schedules=await schedules.list_all(caller),
                            agents=[a for a in all_agents() if not a.name.startswith("test-")],
                            form=form or ScheduleForm(agent="seo-audit"), status_code=status_code, **context)

    @get("/schedules")
    async def list_schedules(self, request: Request, ws: FromPath[str]) -> Template:
        return await self._schedules(request, ws)

    @post("/schedules")
    async def create_schedule(self, request: Request, ws: FromPath[str],
                              data: URLEncodedBody[ScheduleForm]) -> Template | Redirect:
        _, caller = await page_scope(request, ws)
        try:
            run = start_request(data)
            async with atomic():
                await scheduling.create(caller, name=data.name, agent=run.agent, inputs=run.inputs, scope=run.scope,
                                        mode=run.mode, cron=data.cron)
        except AppError as error:
            return await self._schedules(request, ws, form=data, error=error, status_code=error.status_code)
        return see_other(f"/w/{ws}/schedules")

    @post("/schedules/{schedule_id:uuid}/toggle")
    async def toggle(self, request: Request, ws: FromPath[str], schedule_id: FromPath[UUID]) -> Template | Redirect:
        _, caller = await page_scope(request, ws)
        try:
            async with atomic():
                current = await schedules.get(caller, schedule_id)
                await scheduling.update(caller, schedule_id, {"enabled": not current["enabled"]})
        except AppError as error:
            return await self._schedules(request, ws, error=error, status_code=error.status_code)
        return see_other(f"/w/{ws}/schedules")

    @post("/schedules/{schedule_id:uuid}/delete")
    async def delete_schedule(self, request: Request, ws: FromPath[str], schedule_id: FromPath[UUID]) -> Redirect:
        _, caller = await page_scope(request, ws)
        async with atomic():
            await schedules.delete(caller, schedule_id)
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
