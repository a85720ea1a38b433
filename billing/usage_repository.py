"""The credit audit's reads of the ledger: a run's settlement movements (debit ``held``: credited to
``spent`` when charged, to ``available`` when refunded) carry the run's agent and member, so every figure
is one aggregate over the ledger alone, read through ``ledger_transfers_usage_idx``. Grouping keys and
filters come from fixed lists written into the SQL text; values are bound."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from uuid import UUID

from agentledger.platform.database import fetch
from agentledger.platform.scoping import workspace_sql

Row = dict[str, Any]
KEYS = {  # group_by -> the key's SQL (times in UTC; weeks are ISO weeks, Monday first)
    "member": "COALESCE(t.member::text, '')",
    "agent": "COALESCE(t.agent, '')",
    "day": "to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    "week": "to_char(date_trunc('week', t.created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
    "month": "to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM')",
}
SETTLED = ("count(DISTINCT t.execution) AS runs, "
           "COALESCE(sum(t.amount) FILTER (WHERE t.credit = 'spent'), 0)::bigint AS credits_charged, "
           "COALESCE(sum(t.amount) FILTER (WHERE t.credit = 'available'), 0)::bigint AS credits_refunded")


def _period(workspace_id: UUID, since: datetime, until: datetime, member: UUID | None) -> tuple[str, list[Any]]:
    where = f"t.debit = 'held' AND {workspace_sql('t')} AND t.created_at >= {{}} AND t.created_at < {{}}"
    args: list[Any] = [workspace_id, since, until]
    if member is not None:
        where += " AND t.member = {}"
        args.append(member)
    return where, args


async def grouped(workspace_id: UUID, group_by: str, since: datetime, until: datetime,
                  member: UUID | None = None) -> list[Row]:
    """Runs settled, credits charged and refunded per key in ``[since, until)``; ``member``: theirs only."""
    where, args = _period(workspace_id, since, until, member)
    return await fetch(f"SELECT {KEYS[group_by]} AS key, {SETTLED} FROM ledger_transfers t WHERE {where} "
                       "GROUP BY 1 ORDER BY 1", *args)


async def total(workspace_id: UUID, since: datetime, until: datetime, member: UUID | None = None) -> Row:
    where, args = _period(workspace_id, since, until, member)
    return (await fetch(f"SELECT {SETTLED} FROM ledger_transfers t WHERE {where}", *args))[0]


async def costliest(workspace_id: UUID, since: datetime, until: datetime, member: UUID | None,
                    limit: int = 10) -> list[Row]:
    """The runs charged most in the period (one charge movement per run)."""
    where, args = _period(workspace_id, since, until, member)
    return await fetch(f"SELECT t.execution, t.agent, t.member, t.amount, t.created_at FROM ledger_transfers t "
                       f"WHERE {where} AND t.credit = 'spent' ORDER BY t.amount DESC, t.created_at DESC "
                       f"LIMIT {int(limit)}", *args)


async def refund_reasons(workspace_id: UUID, since: datetime, until: datetime, member: UUID | None) -> list[Row]:
    where, args = _period(workspace_id, since, until, member)
    return await fetch(f"SELECT COALESCE(NULLIF(t.memo, ''), 'unused scope') AS reason, count(*) AS runs, "
                       f"sum(t.amount)::bigint AS credits FROM ledger_transfers t WHERE {where} "
                       "AND t.credit = 'available' GROUP BY 1 ORDER BY 3 DESC", *args)


async def outside(workspace_id: UUID, since: datetime, until: datetime, limit: int = 100) -> list[Row]:
    """Credits that came in or went out of the workspace: purchases and grants, clawbacks and debts."""
    return await fetch(
        f"SELECT t.key, t.debit, t.credit, t.amount, t.memo, t.created_at FROM ledger_transfers t "
        f"WHERE {workspace_sql('t')} AND t.created_at >= {{}} AND t.created_at < {{}} "
        f"AND (t.debit = 'external' OR t.credit = 'external' OR t.credit = 'owed') "
        f"ORDER BY t.created_at DESC LIMIT {int(limit)}", workspace_id, since, until)


async def names(user_ids: list[UUID]) -> dict[UUID, str]:
    if not user_ids:
        return {}
    rows = await fetch("SELECT id, name FROM users WHERE id = ANY({})", list(set(user_ids)))
    return {r["id"]: r["name"] for r in rows}


EXPORT_BATCH = 2000


async def movements(workspace_id: UUID, since: datetime, until: datetime,
                    member: UUID | None = None) -> AsyncIterator[list[Row]]:
    """Every movement of the period, oldest first, in keyset batches (an export of a year stays small in
    memory), each with the name of the member behind it."""
    after: tuple[datetime, UUID] | None = None
    member_sql = " AND t.member = {}" if member is not None else ""
    while True:
        args: list[Any] = [workspace_id, since, until] + ([member] if member is not None else [])
        keyset = ""
        if after is not None:
            keyset = " AND (t.created_at, t.id) > ({}, {})"
            args += list(after)
        rows = await fetch(
            "SELECT t.id, t.created_at, t.key, t.debit, t.credit, t.amount, t.execution, t.agent, t.member, "
            "u.name AS member_name, t.memo FROM ledger_transfers t LEFT JOIN users u ON u.id = t.member "
            f"WHERE {workspace_sql('t')} AND t.created_at >= {{}} AND t.created_at < {{}}{member_sql}{keyset} "
            f"ORDER BY t.created_at, t.id LIMIT {EXPORT_BATCH}", *args)
        if not rows:
            return
        yield rows
        after = (rows[-1]["created_at"], rows[-1]["id"])
