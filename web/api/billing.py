"""API: the workspace's wallet (credits available and held) and its ledger (every credit movement), for
admins. Thin: billing's service checks the role and the period and reads the ledger; the executions
service names the run behind each movement (billing knows runs only by id)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from agentledger.billing import service as billing
from agentledger.billing.schemas import TransferOut, WalletOut
from agentledger.platform.errors import Forbidden
from agentledger.platform.executions import service as executions
from agentledger.platform.pagination import DEFAULT_LIMIT, PageRequest
from agentledger.platform.schemas import PageOut
from agentledger.web.api.paging import Cursor, Limit
from agentledger.web.auth import Caller
from agentledger.web.responses import shaped


class WalletController(Controller):
    path = "/api/v1/workspaces/{ws:str}"
    tags = ["billing"]

    @get("/wallet", raises=[Forbidden], summary="Credits available and held by running runs (admins)")
    async def wallet(self, caller: Caller) -> WalletOut:
        return shaped(WalletOut, await billing.wallet(caller))

    @get("/ledger", raises=[Forbidden], summary="Every credit movement, newest first, with the run's agent and who started it, "
         "or the grant's reason (admins)")
    async def ledger(
        self, caller: Caller, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT,
        since: Annotated[datetime | None, QueryParameter(description="ISO 8601 with a time zone, inclusive")] = None,
        until: Annotated[datetime | None, QueryParameter(description="ISO 8601 with a time zone, exclusive")] = None,
    ) -> PageOut[TransferOut]:
        page = await billing.transfers(caller, PageRequest(cursor, limit), since=since, until=until)
        runs = await executions.run_names(caller, [row["execution"] for row in page.items if row["execution"]])
        return PageOut([TransferOut(**row, **runs.get(row["execution"], {})) for row in page.items], page.next_cursor)


controllers = [WalletController]
