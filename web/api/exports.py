"""API: download a run as JSON (the whole record), CSV (its tables, zipped when several) or PDF (a
designed report, stored in S3; the answer is a 303 to an expiring link). The download itself is
``web/responses.export_response``, which a shared link's pages send too."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, get
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, QueryParameter

from agentledger.platform.errors import Conflict
from agentledger.web.auth import Caller
from agentledger.web.responses import Format, export_response


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


controllers = [ExportsController]
