"""API: agents, executions (start, estimate, read, cancel, pause, resume, rerun, resume from failed step).
The wallet and the ledger are billing's (``web/api/billing.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from agentledger.agents import launch
from agentledger.agents.registry import all_agents, source_version
from agentledger.platform.database import atomic
from agentledger.platform.errors import Conflict, PaymentRequired
from agentledger.platform.executions import listing, service
from agentledger.platform.executions.present import listed, present
from agentledger.platform.executions.schemas import (
    AgentOut,
    CodeOut,
    ContinuationOut,
    CostOut,
    EstimateOut,
    ExecutionOut,
    Mode,
    RerunIn,
    StartIn,
)
from agentledger.platform.pagination import DEFAULT_LIMIT, PageRequest
from agentledger.platform.schemas import PageOut
from agentledger.web.api.paging import Cursor, Limit
from agentledger.web.auth import Caller, SignedIn
from agentledger.web.responses import shaped

Id = FromPath[UUID]


class AgentsController(Controller):
    path = "/api/v1/workspaces/{ws:str}/agents"
    tags = ["executions"]

    @get("/", summary="The agents this workspace can run, with their cost and input schema; all in one page")
    async def list_agents(self, caller: Caller) -> PageOut[AgentOut]:
        return PageOut([
            shaped(AgentOut, a, sha256=source_version(a.name).sha256, cost=CostOut(a.base_cost, a.per_item_cost),
                   input_schema=msgspec.json.schema(a.inputs))
            for a in all_agents()
        ])


class ExecutionsController(Controller):
    path = "/api/v1/workspaces/{ws:str}/executions"
    tags = ["executions"]

    @post("/", raises=[PaymentRequired, Conflict], status_code=HTTP_202_ACCEPTED,
          summary="Start a run: credits for the estimate are reserved (402 when the wallet is short)")
    async def start(self, caller: Caller, principal: SignedIn, data: JSONBody[StartIn]) -> ExecutionOut:
        request, _ = await launch.with_preview(launch.Request(data.agent, data.inputs, data.scope, data.mode))
        async with atomic():
            row = await launch.start(caller, request, triggered_by="api" if principal.via_token else "user",
                                     trigger_token=principal.token_id)
        return present(row)

    @get("/", summary="Runs the caller may see, newest first (members: their own and those shared with them; "
         "admins: all), filtered")
    async def list_executions(
        self, caller: Caller, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT,
        agent: Annotated[str | None, QueryParameter(description="agent name")] = None,
        status: Annotated[list[str] | None, QueryParameter(description="repeat for several")] = None,
        outcome: Annotated[Literal["success", "failure"] | None, QueryParameter(
            description="success: completed or partial; failure: failed or timed out")] = None,
        since: Annotated[datetime | None, QueryParameter(description="ISO 8601, inclusive")] = None,
        until: Annotated[datetime | None, QueryParameter(description="ISO 8601, exclusive")] = None,
        triggered_by: Annotated[Literal["user", "schedule", "api", "rerun"] | None, QueryParameter()] = None,
        mode: Annotated[Mode | None, QueryParameter()] = None,
        started_by: Annotated[UUID | None, QueryParameter(description="a member's user id")] = None,
    ) -> PageOut[ExecutionOut]:
        filters = listing.Filters(agent, tuple(status or ()), outcome, since, until, triggered_by, mode, started_by)
        rows, next_cursor = await listing.page(caller, filters, PageRequest(cursor, limit))
        return PageOut([listed(row) for row in rows], next_cursor)

    @post("/estimate", status_code=HTTP_200_OK, summary="What a run would reserve; nothing is reserved")
    async def estimate(self, caller: Caller, data: JSONBody[StartIn]) -> EstimateOut:
        return shaped(EstimateOut, await launch.estimate(caller, launch.Request(data.agent, data.inputs, data.scope,
                                                                                  data.mode)))

    @get("/{execution_id:uuid}", summary="One run with its steps, log and items")
    async def read(self, caller: Caller, execution_id: Id) -> ExecutionOut:
        row, children = await service.read(caller, execution_id)
        return present(row, children)

    @get("/{execution_id:uuid}/code", summary="The exact agent code the run was started with")
    async def code(self, caller: Caller, execution_id: Id) -> CodeOut:
        return shaped(CodeOut, await service.code(caller, execution_id))

    @post("/{execution_id:uuid}/cancel", raises=[Conflict], status_code=HTTP_200_OK,
          summary="Cancel: a queued, paused or waiting run stops now; a running one within a second (status_note "
          "says 'canceling…' until then). Processed items are charged, the rest refunded")
    async def cancel(self, caller: Caller, execution_id: Id) -> ExecutionOut:
        async with atomic():
            return present(await service.cancel(caller, execution_id))

    @delete("/{execution_id:uuid}", raises=[Conflict], status_code=HTTP_204_NO_CONTENT,
            summary="Delete a finished run (hidden for good; nothing is refunded, the ledger keeps its credits)")
    async def delete(self, caller: Caller, execution_id: Id) -> None:
        async with atomic():
            await service.delete(caller, execution_id)

    @post("/{execution_id:uuid}/pause", raises=[Conflict], status_code=HTTP_200_OK,
          summary="Pause at the agent's next safe point ('pausing…'); the paused run holds no worker")
    async def pause(self, caller: Caller, execution_id: Id) -> ExecutionOut:
        async with atomic():
            return present(await service.pause(caller, execution_id))

    @post("/{execution_id:uuid}/resume", raises=[Conflict], status_code=HTTP_200_OK,
          summary="Resume a paused run: it is queued again and continues from its recorded steps and items")
    async def resume(self, caller: Caller, execution_id: Id) -> ExecutionOut:
        async with atomic():
            return present(await service.resume(caller, execution_id))

    @post("/{execution_id:uuid}/rerun", raises=[PaymentRequired, Conflict], status_code=HTTP_202_ACCEPTED,
          summary="Run again with the same inputs unless overridden; linked to the original")
    async def rerun(self, caller: Caller, execution_id: Id, data: JSONBody[RerunIn | None] = None) -> ExecutionOut:
        data = data or RerunIn()
        async with atomic():
            return present(await launch.rerun(caller, execution_id, data.inputs, data.scope, data.mode))

    @get("/{execution_id:uuid}/continuation", raises=[Conflict],
         summary="How a finished run can go on (resume from the failed step, resume where it stopped, or retry "
         "the failed items) and what that would hold; nothing is reserved. 409 when nothing is left to do")
    async def continuation(self, caller: Caller, execution_id: Id) -> ContinuationOut:
        return shaped(ContinuationOut, await launch.continuation(caller, execution_id))

    @post("/{execution_id:uuid}/resume-from-failed-step", raises=[PaymentRequired, Conflict], status_code=HTTP_202_ACCEPTED,
          summary="A new linked run from the step that failed (or from where a cancel or the time limit stopped "
          "it), reusing the outputs of the steps before; 409 when no step failed and nothing was stopped")
    async def resume_from_failed_step(self, caller: Caller, execution_id: Id) -> ExecutionOut:
        async with atomic():
            return present(await launch.resume_from_failed_step(caller, execution_id))

    @post("/{execution_id:uuid}/retry-failed-items", raises=[PaymentRequired, Conflict], status_code=HTTP_202_ACCEPTED,
          summary="A new linked run of only the items that failed (for a run where no step failed); 409 otherwise")
    async def retry_failed_items(self, caller: Caller, execution_id: Id) -> ExecutionOut:
        async with atomic():
            return present(await launch.retry_failed_items(caller, execution_id))


controllers = [AgentsController, ExecutionsController]
