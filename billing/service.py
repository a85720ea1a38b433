"""Wallet and ledger reads for admins (the credit movements themselves live in ``ledger``)."""

from __future__ import annotations

from agentledger.billing import ledger
from agentledger.billing.tables import LedgerTransfer
from agentledger.platform.pagination import Page, PageRequest, keyset
from agentledger.platform.scoping import Scope, in_workspace


async def wallet(scope: Scope) -> ledger.Balance:
    scope.require_admin()
    return await ledger.balance(scope.workspace_id)


async def transfers(scope: Scope, request: PageRequest) -> Page[dict]:
    scope.require_admin()
    query = LedgerTransfer.select(
        LedgerTransfer.id, LedgerTransfer.key, LedgerTransfer.debit, LedgerTransfer.credit, LedgerTransfer.amount,
        LedgerTransfer.execution, LedgerTransfer.memo, LedgerTransfer.created_at,
    ).where(in_workspace(LedgerTransfer, scope))
    rows, next_cursor = await keyset(query, LedgerTransfer, request)
    return Page(rows, next_cursor)
