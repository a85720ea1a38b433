"""Check the books: wallet rows agree with the ledger, nothing is negative, every hold is accounted for."""

from __future__ import annotations

import asyncio
import time
from uuid import UUID

from agentledger.platform.database import fetch
from agentledger.platform.executions import states


async def account_balances(workspace_id: UUID) -> dict[str, int]:
    rows = await fetch(
        "SELECT account, sum(amount)::bigint AS balance FROM ("
        " SELECT credit AS account, amount FROM ledger_transfers WHERE workspace = {}"
        " UNION ALL SELECT debit, -amount FROM ledger_transfers WHERE workspace = {}) t GROUP BY account",
        workspace_id, workspace_id)
    return {r["account"]: r["balance"] for r in rows}


async def assert_books_balance(workspace_id: UUID) -> dict[str, int]:
    balances = await account_balances(workspace_id)
    wallets = await fetch("SELECT available, held FROM wallets WHERE workspace = {}", workspace_id)
    wallet = wallets[0] if wallets else {"available": 0, "held": 0}
    assert sum(balances.values()) == 0, balances  # double entry: the ledger sums to zero
    assert wallet["available"] == balances.get("available", 0) >= 0, (wallet, balances)
    assert wallet["held"] == balances.get("held", 0) >= 0, (wallet, balances)
    open_holds = (await fetch(
        "SELECT COALESCE(sum(credits_reserved), 0)::bigint AS held FROM executions WHERE workspace = {} "
        "AND status <> ALL({})", workspace_id, list(states.FINAL)))[0]["held"]
    assert wallet["held"] == open_holds, (wallet, open_holds)
    settled = (await fetch(
        "SELECT COALESCE(sum(credits_charged), 0)::bigint AS charged FROM executions WHERE workspace = {}",
        workspace_id))[0]["charged"]
    assert balances.get("spent", 0) == settled, (balances, settled)
    return {**balances, "wallet_available": wallet["available"], "wallet_held": wallet["held"]}


async def wait_for_status(execution_id: UUID, wanted: tuple[str, ...] = states.FINAL, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = await fetch("SELECT * FROM executions WHERE id = {}", execution_id)
        if rows and rows[0]["status"] in wanted:
            return rows[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"execution {execution_id} did not reach {wanted}: {rows[0]['status'] if rows else None}")
