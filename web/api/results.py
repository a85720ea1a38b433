"""API: a run's results (list, approve, reject, edit, tick off, download), applying approved changes,
deciding a review step, and the workspace's connectors."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from typing_extensions import Annotated

from agentledger.platform.connectors import service as connectors
from agentledger.platform.database import atomic
from agentledger.platform.errors import BadGateway, Conflict, Forbidden, Gone, Invalid
from agentledger.platform.executions import reviews
from agentledger.platform.executions.present import present as present_execution
from agentledger.platform.executions.schemas import ExecutionOut
from agentledger.platform.pagination import DEFAULT_LIMIT, PageRequest
from agentledger.platform.results import service
from agentledger.platform.results.present import present
from agentledger.platform.results.schemas import (
    ApplyOut,
    ConnectorIn,
    ConnectorOut,
    Kind,
    OutcomeOut,
    Priority,
    ResultIdsIn,
    ResultOut,
    ResultPatchIn,
    ReviewIn,
)
from agentledger.platform.schemas import PageOut
from agentledger.platform.scoping import Scope
from agentledger.web.api.paging import Cursor, Limit
from agentledger.web.auth import Caller
from agentledger.web.responses import artifact_response, shaped

Id = FromPath[UUID]
Status = Literal["open", "approved", "rejected", "applied", "apply_failed", "done"]


def _out(caller: Scope, row: dict, revisions: list[dict] | None = None) -> ResultOut:
    return present(row, workspace_slug=caller.workspace_slug, revisions=revisions)


class RunResultsController(Controller):
    path = "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}"
    tags = ["results"]

    @get("/results", summary="The run's results in the order the agent produced them, filtered by kind/status")
    async def list_results(
        self, caller: Caller, execution_id: Id, kind: Annotated[Kind | None, QueryParameter()] = None,
        status: Annotated[Status | None, QueryParameter()] = None,
        priority: Annotated[Priority | None, QueryParameter()] = None, cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> PageOut[ResultOut]:
        rows, next_cursor = await service.page(caller, execution_id, PageRequest(cursor, limit), kind=kind,
                                                  status=status, priority=priority)
        return PageOut([_out(caller, row) for row in rows], next_cursor)

    @post("/results/approve", raises=[Conflict], status_code=HTTP_200_OK, summary="Approve many results of this run at once")
    async def approve_many(
            self, caller: Caller, execution_id: Id, data: JSONBody[ResultIdsIn]) -> PageOut[ResultOut]:
        return await _decide_many(caller, execution_id, data.result_ids, "approve")

    @post("/results/reject", raises=[Conflict], status_code=HTTP_200_OK, summary="Reject many results of this run at once")
    async def reject_many(
            self, caller: Caller, execution_id: Id, data: JSONBody[ResultIdsIn]) -> PageOut[ResultOut]:
        return await _decide_many(caller, execution_id, data.result_ids, "reject")

    @post("/apply", raises=[Conflict, BadGateway], status_code=HTTP_200_OK,
          summary="Push approved changes through the workspace's connector; one outcome per result")
    async def apply(self, caller: Caller, execution_id: Id, data: JSONBody[ResultIdsIn]) -> ApplyOut:
        outcomes = await service.apply(caller, execution_id, data.result_ids)
        return ApplyOut([shaped(OutcomeOut, o) for o in outcomes],
                        sum(o.outcome == "applied" for o in outcomes),
                        sum(o.outcome == "apply_failed" for o in outcomes))

    @post("/review", raises=[Conflict], status_code=HTTP_200_OK,
          summary="Approve or reject the run's pending review step; the run then continues")
    async def review(self, caller: Caller, execution_id: Id, data: JSONBody[ReviewIn]) -> ExecutionOut:
        async with atomic():
            return present_execution(await reviews.decide(caller, execution_id, data.decision, data.comment))


async def _decide_many(caller: Scope, execution_id: UUID, result_ids: list[UUID],
                       decision: Literal["approve", "reject"]) -> PageOut[ResultOut]:
    """Approve or reject many of a run's results in one transaction; the bulk buttons' one answer."""
    async with atomic():
        rows = await service.decide_many(caller, execution_id, result_ids, decision)
    return PageOut([_out(caller, row) for row in rows])


class ResultsController(Controller):
    path = "/api/v1/workspaces/{ws:str}/results"
    tags = ["results"]

    @get("/{result_id:uuid}", summary="One result (content with all its revisions)")
    async def read(self, caller: Caller, result_id: Id) -> ResultOut:
        row = await service.get(caller, result_id)
        revisions = await service.revisions(result_id) if row["kind"] == "content" else None
        return _out(caller, row, revisions)

    @post("/{result_id:uuid}/approve", raises=[Conflict], status_code=HTTP_200_OK, summary="Approve a recommendation or content")
    async def approve(self, caller: Caller, result_id: Id) -> ResultOut:
        async with atomic():
            return _out(caller, await service.decide(caller, result_id, "approve"))

    @post("/{result_id:uuid}/reject", raises=[Conflict], status_code=HTTP_200_OK, summary="Reject a recommendation or content")
    async def reject(self, caller: Caller, result_id: Id) -> ResultOut:
        async with atomic():
            return _out(caller, await service.decide(caller, result_id, "reject"))

    @patch("/{result_id:uuid}", raises=[Conflict], summary="Edit generated content (a new revision) or tick an action item")
    async def edit(self, caller: Caller, result_id: Id, data: JSONBody[ResultPatchIn]) -> ResultOut:
        if (data.text is None) == (data.done is None):
            raise Invalid("send either text (content) or done (action items)", field="text")
        async with atomic():
            if data.text is not None:
                row = await service.edit_content(caller, result_id, data.text)
                return _out(caller, row, await service.revisions(result_id))
            return _out(caller, await service.set_done(caller, result_id, bool(data.done)))

    @get("/{result_id:uuid}/download", raises=[Conflict, Gone], summary="Download an artifact file (?inline=1 shows a picture in place)")
    async def download(self, caller: Caller, result_id: Id,
                       inline: Annotated[bool, QueryParameter(description="pictures only")] = False) -> Response[bytes]:
        return await artifact_response(await service.get(caller, result_id), inline)


class ConnectorsController(Controller):
    path = "/api/v1/workspaces/{ws:str}/connectors"
    tags = ["connectors"]

    @get("/", summary="Where approved changes are pushed (secrets are never returned); all in one page")
    async def list_connectors(self, caller: Caller) -> PageOut[ConnectorOut]:
        return PageOut([ConnectorOut(**row) for row in await connectors.list_all(caller)])

    @post("/", raises=[Forbidden, Conflict], status_code=HTTP_201_CREATED, summary="Connect a site (admins); the secret is stored encrypted")
    async def create(self, caller: Caller, data: JSONBody[ConnectorIn]) -> ConnectorOut:
        async with atomic():
            return ConnectorOut(**await connectors.create(caller, data.name, data.base_url, data.secret))

    @delete("/{connector_id:uuid}", raises=[Forbidden], status_code=HTTP_204_NO_CONTENT, summary="Remove a connector (admins)")
    async def remove(self, caller: Caller, connector_id: Id) -> None:
        async with atomic():
            await connectors.delete(caller, connector_id)


controllers = [RunResultsController, ResultsController, ConnectorsController]
