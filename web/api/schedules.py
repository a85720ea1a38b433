"""API: schedules (run an agent with fixed inputs on a cron expression, in UTC): create, read with their
cost, change, run now, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from msgspec import UNSET, UnsetType

from agentledger.agents import scheduling
from agentledger.platform.database import atomic
from agentledger.platform.errors import Conflict, PaymentRequired
from agentledger.platform.executions.present import present
from agentledger.platform.executions.schemas import ExecutionOut, Mode
from agentledger.platform.schemas import Input, PageOut
from agentledger.web.auth import Caller
from agentledger.web.responses import shaped

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
    """Only the fields given change (the agent does not: make a new schedule for another agent); a scope
    of null goes back to the agent's default."""

    name: str | UnsetType = UNSET
    cron: str | UnsetType = UNSET
    inputs: dict[str, Any] | UnsetType = UNSET
    scope: int | None | UnsetType = UNSET
    mode: Mode | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET


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
    cost_per_run: int | None  # credits a run holds (the run form's estimate); null when it cannot run
    runs_per_month: int  # how often the cron fires in the next 30 days, exactly
    cost_per_month: int | None  # runs_per_month x cost_per_run
    cost_note: str | None  # why there is no price (its agent or inputs no longer work)


def _out(row: dict[str, Any]) -> ScheduleOut:
    return shaped(ScheduleOut, row)


class SchedulesController(Controller):
    path = "/api/v1/workspaces/{ws:str}/schedules"
    tags = ["schedules"]

    @get("/", summary="Schedules (members: the ones they created; admins: all), all in one page")
    async def list_schedules(self, caller: Caller) -> PageOut[ScheduleOut]:
        return PageOut([_out(row) for row in await scheduling.list_all(caller)])

    @post("/", raises=[Conflict], status_code=HTTP_201_CREATED,
          summary="Schedule an agent; runs show 'triggered by: schedule', a run that cannot start is recorded failed")
    async def create(self, caller: Caller, data: JSONBody[ScheduleIn]) -> ScheduleOut:
        async with atomic():
            row = await scheduling.create(caller, name=data.name, agent=data.agent, inputs=data.inputs,
                                          scope=data.scope, mode=data.mode, cron=data.cron, enabled=data.enabled)
            return _out(await scheduling.priced(caller, row))

    @get("/{schedule_id:uuid}", summary="One schedule, with its cost per run and per 30 days")
    async def read(self, caller: Caller, schedule_id: Id) -> ScheduleOut:
        return _out(await scheduling.get(caller, schedule_id))

    @patch("/{schedule_id:uuid}", raises=[Conflict], summary="Change a schedule's name, cron, inputs, scope or mode, or turn it on or "
           "off; checked like a new one (422 naming the field), its next run worked out again")
    async def change(self, caller: Caller, schedule_id: Id, data: JSONBody[SchedulePatchIn]) -> ScheduleOut:
        changes = {f: getattr(data, f) for f in SchedulePatchIn.__struct_fields__ if getattr(data, f) is not UNSET}
        async with atomic():
            return _out(await scheduling.priced(caller, await scheduling.update(caller, schedule_id, changes)))

    @post("/{schedule_id:uuid}/run", raises=[PaymentRequired, Conflict], status_code=HTTP_202_ACCEPTED,
          summary="Run the schedule now, as its firing would (triggered by: schedule); credits for the estimate are "
          "reserved (402 when the wallet is short); its next run stays")
    async def run_now(self, caller: Caller, schedule_id: Id) -> ExecutionOut:
        async with atomic():
            return present(await scheduling.run_now(caller, schedule_id))

    @delete("/{schedule_id:uuid}", status_code=HTTP_204_NO_CONTENT, summary="Delete a schedule (its runs stay)")
    async def remove(self, caller: Caller, schedule_id: Id) -> None:
        async with atomic():
            await scheduling.delete(caller, schedule_id)


controllers = [SchedulesController]
