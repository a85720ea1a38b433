"""API: the credit audit. Usage grouped by member, agent, day, week or month, and the ledger as CSV with
each movement's run, agent and member. Admins see the workspace, members their own runs. Thin: billing's
usage service reads the ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, get
from litestar.params import QueryParameter
from litestar.response import Stream

from agentledger.billing import usage
from agentledger.billing.schemas import UsageGroupOut, UsageOut
from agentledger.web.auth import Caller
from agentledger.web.responses import shaped

Since = Annotated[datetime | None, QueryParameter(description="ISO 8601 with a time zone, inclusive; "
                                                  "default 30 days before until")]
Until = Annotated[datetime | None, QueryParameter(description="ISO 8601 with a time zone, exclusive; default now")]


class CreditsController(Controller):
    path = "/api/v1/workspaces/{ws:str}/credits"
    tags = ["billing"]

    @get("/usage", summary="Credits charged and refunded, grouped (admins: the workspace; members: their own runs)")
    async def usage(self, caller: Caller, since: Since = None, until: Until = None,
                    group_by: Annotated[Literal["member", "agent", "day", "week", "month"], QueryParameter(
                        description="how to group (days, weeks and months in UTC; weeks start on Monday)")] = "day",
                    ) -> UsageOut:
        groups, total, span = await usage.usage(caller, group_by, since, until)
        return UsageOut([shaped(UsageGroupOut, g) for g in groups], shaped(UsageGroupOut, total), span.since, span.until)

    @get("/export", summary="The ledger of a period as CSV, each movement with its run, agent and member "
         "(members: their own runs' movements)", media_type="text/csv")
    async def export(self, caller: Caller, since: Since = None, until: Until = None) -> Stream:
        chunks: Any = await usage.export_csv(caller, since, until)
        return Stream(chunks, media_type="text/csv; charset=utf-8",
                      headers={"Content-Disposition": f'attachment; filename="credits-{caller.workspace_slug}.csv"'})


controllers = [CreditsController]
