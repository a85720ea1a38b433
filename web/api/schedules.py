"""API: schedules (run an agent with fixed inputs on a cron expression, in UTC)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from agentledger.agents import scheduling
from agentledger.platform.database import atomic
from agentledger.platform.executions.schemas import Mode
from agentledger.platform.schedules import repository
from agentledger.platform.schemas import Input
from agentledger.web.auth import Caller

Id = FromPath[UUID]


class ScheduleIn(Input):
    name: str
    agent: str
    cron: str
    inputs: dict[str, Any] = {}
    scope: int | None = None
    mode: Mode = "live"
    enabled: bool = True


class SchedulePatchIn(Input):
    name: str | None = None
    cron: str | None = None
    inputs: dict[str, Any] | None = None
    scope: int | None = None
    mode: Mode | None = None
    enabled: bool | None = None


class ScheduleOut(msgspec.Struct):
    id: UUID
    name: str
    agent: str
    inputs: dict[str, Any]
    scope: int | None
    mode: Mode
    cron: str
    enabled: bool
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_execution: UUID | None
    created_by: UUID | None
    created_at: datetime


def _out(row: dict[str, Any]) -> ScheduleOut:
    return ScheduleOut(**{field: row[field] for field in ScheduleOut.__struct_fields__})


class SchedulesController(Controller):
    path = "/api/v1/workspaces/{ws:str}/schedules"
    tags = ["schedules"]

    @get("/", summary="Schedules (members: the ones they created; admins: all)")
    async def list_schedules(self, caller: Caller) -> list[ScheduleOut]:
        return [_out(row) for row in await repository.list_all(caller)]

    @post("/", status_code=HTTP_201_CREATED,
          summary="Schedule an agent; runs show 'triggered by: schedule', a run that cannot start is recorded failed")
    async def create(self, caller: Caller, data: JSONBody[ScheduleIn]) -> ScheduleOut:
        async with atomic():
            return _out(await scheduling.create(caller, name=data.name, agent=data.agent, inputs=data.inputs,
                                                scope=data.scope, mode=data.mode, cron=data.cron,
                                                enabled=data.enabled))

    @get("/{schedule_id:uuid}", summary="One schedule")
    async def read(self, caller: Caller, schedule_id: Id) -> ScheduleOut:
        return _out(await repository.get(caller, schedule_id))

    @patch("/{schedule_id:uuid}", summary="Change a schedule, or enable/disable it")
    async def change(self, caller: Caller, schedule_id: Id, data: JSONBody[SchedulePatchIn]) -> ScheduleOut:
        changes = {f: getattr(data, f) for f in SchedulePatchIn.__struct_fields__ if getattr(data, f) is not None}
        async with atomic():
            return _out(await scheduling.update(caller, schedule_id, changes))

    @delete("/{schedule_id:uuid}", status_code=HTTP_204_NO_CONTENT, summary="Delete a schedule (its runs stay)")
    async def remove(self, caller: Caller, schedule_id: Id) -> None:
        async with atomic():
            await repository.delete(caller, schedule_id)


controllers = [SchedulesController]
