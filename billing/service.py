"""Wallet and ledger reads for admins (the credit movements themselves live in ``ledger``)."""

from __future__ import annotations

from datetime import datetime

from agentledger.billing import ledger
from agentledger.platform.errors import Invalid
from agentledger.platform.pagination import Page, PageRequest
from agentledger.platform.scoping import Scope


async def wallet(scope: Scope) -> ledger.Balance:
    scope.require_admin()
    return await ledger.balance(scope.workspace_id)


async def transfers(scope: Scope, request: PageRequest, *, since: datetime | None = None,
                    until: datetime | None = None) -> Page[dict]:
    """The ledger, newest first: movements made at or after ``since`` and before ``until`` (both with a
    time zone: a bare local time would mean a different hour on every server)."""
    scope.require_admin()
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise Invalid(f"{name} needs a time zone, e.g. 2026-11-01T00:00:00Z", field=name)
    if since is not None and until is not None and since >= until:
        raise Invalid("since must be before until", field="since")
    rows, next_cursor = await ledger.transfers(scope.workspace_id, request, since=since, until=until)
    return Page(rows, next_cursor)
