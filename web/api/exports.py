"""API: download a run as JSON (the whole record), CSV (its tables, zipped when several) or PDF (a
designed report, stored in S3; the answer is a 303 to an expiring link)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, get
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Stream
from litestar.status_codes import HTTP_303_SEE_OTHER

from agentledger.agents.registry import get_agent
from agentledger.platform.errors import Conflict, NotFound
from agentledger.platform.executions import repository, states
from agentledger.platform.executions.present import present
from agentledger.platform.exports import csv_export, json_export, pdf_export
from agentledger.platform.exports.reading import Run
from agentledger.platform.scoping import Scope
from agentledger.web.auth import Caller

Format = Literal["csv", "json", "pdf"]


def _agent_title(name: str) -> str:
    try:
        return get_agent(name).title
    except NotFound:  # an agent since removed: its runs still export
        return name


class Download(Stream):
    """A streamed file. Litestar's ``Stream`` lets the handler's media type (JSON, for this handler) win over
    its own (``media_type or self.media_type``, unlike ``Response``); a download keeps the type it was given."""

    def to_asgi_response(self, *args: Any, media_type: Any = None, **kwargs: Any) -> Any:
        return super().to_asgi_response(*args, media_type=self.media_type, **kwargs)


def _download(chunks: Any, media_type: str, filename: str) -> Download:
    return Download(chunks, media_type=media_type, headers={
        "content-disposition": f'attachment; filename="{filename}"', "cache-control": "private, no-store"})


class ExportsController(Controller):
    path = "/api/v1/workspaces/{ws:str}/executions"
    tags = ["executions"]

    @get("/{execution_id:uuid}/export", raises=[Conflict], responses={
        303: ResponseSpec(None, description="format=pdf: Location is a link to the PDF that expires")},
         summary="Download a run: json (whole record), csv (tables; a zip when several) or pdf (303 to an "
         "expiring link)")
    async def export(
        self, caller: Caller, execution_id: FromPath[UUID],
        format: Annotated[Format, QueryParameter(description="json, csv or pdf")],  # noqa: A002 - the API's name
    ) -> Any:
        return await export_response(caller, execution_id, format)


async def export_response(scope: Scope, execution_id: UUID, format: Format,  # noqa: A002
                          *, shared: bool = False) -> Any:
    """A run's download for anyone who may see it (the API, and the pages of a shared link: ``shared``
    makes the PDF's edition without credits, errors and steps)."""
    row = await repository.get_in_full(scope, execution_id)  # 404 unless the caller may see the run
    run = Run(scope, present(row, await repository.children(execution_id)), _agent_title(row["agent"]))
    if format == "pdf":
        if row["status"] not in states.FINAL:
            raise Conflict("the PDF report is made when the run ends; download JSON or CSV meanwhile",
                           field="format")
        return Redirect(await pdf_export.link(run, shared=shared), status_code=HTTP_303_SEE_OTHER)
    if format == "json":
        return _download(json_export.stream(run), json_export.MEDIA_TYPE, run.filename("json"))
    csv = await csv_export.export(run)
    return _download(csv.chunks, csv.media_type, csv.filename)


controllers = [ExportsController]
