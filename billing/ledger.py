"""Credits: reserve, resolve (charge part, release the rest), grant, claw back. Exact integers, never negative.

Each movement is one statement: a guarded UPDATE of the wallet and the INSERT of its ledger transfer,
joined in a CTE, so either both happen or neither. Transfer keys are unique in the database
(``<execution>:reserve``, ``<execution>:charge``, ``<execution>:release``): a duplicated message
cannot move credits twice. The wallet row is the one hot spot; nothing else is done while it is locked.
Grants and clawbacks are rare and decide from the balance (a debt is repaid first, a shortfall is owed), so
they lock the row, read, then write. ``transfers`` reads the ledger back for people, one keyset page at a time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from agentledger.notifications import service as notifications
from agentledger.platform import audit
from agentledger.platform.database import fetch
from agentledger.platform.errors import Invalid, PaymentRequired
from agentledger.platform.pagination import PageRequest, cut, decode_cursor
from agentledger.platform.scoping import workspace_sql

_INSERT_TRANSFER = (
    "INSERT INTO ledger_transfers (id, workspace, key, debit, credit, amount, execution, actor, memo, created_at, "
    "agent, member) "
)

RESERVE_SQL = (
    "WITH moved AS (UPDATE wallets SET available = available - {}, held = held + {}, updated_at = now() "
    f"WHERE {workspace_sql()} AND available >= {{}} AND owed = 0 RETURNING workspace) "
    + _INSERT_TRANSFER
    + "SELECT gen_random_uuid(), workspace, {}, 'available', 'held', {}, {}, NULL, '', now(), {}, {} FROM moved "
    "RETURNING amount"
)

# The low balance is one rule: credits not yet spent (available + held) under the workspace's threshold.
# A hold does not change it (the credits are still the workspace's until charged), so a big run starting
# alerts nobody; a charge, a clawback or a new threshold can cross it. Each crossing disarms the alert and
# counts itself (the caller announces it once, keyed by that count); only money coming in (a grant, a
# purchase) or a new threshold arms it again, when the balance is back above. The alert rides in the
# settling statement itself: no extra round trip on the hot path.
_ALERT = (
    "alert AS (UPDATE billing_accounts a SET low_balance_armed = false, low_balance_alerts = a.low_balance_alerts + 1 "
    f"FROM moved WHERE {workspace_sql('a')} AND a.low_balance_armed "
    "AND a.low_balance_threshold > moved.available + moved.held "
    "RETURNING a.low_balance_alerts AS crossing, a.low_balance_threshold AS threshold, "
    "moved.available + moved.held AS unspent)"
)
_REARM = (
    "rearm AS (UPDATE billing_accounts a SET low_balance_armed = true "
    f"FROM moved WHERE {workspace_sql('a')} AND NOT a.low_balance_armed "
    "AND moved.available + moved.held > a.low_balance_threshold)"
)
_ALERT_COLUMNS = ("(SELECT crossing FROM alert) AS crossing, (SELECT threshold FROM alert) AS threshold, "
                  "(SELECT unspent FROM alert) AS unspent")

RESOLVE_SQL = (
    "WITH moved AS (UPDATE wallets SET held = held - {}, available = available + {}, updated_at = now() "
    f"WHERE {workspace_sql()} AND held >= {{}} RETURNING workspace, available, held), {_ALERT} "
    + _INSERT_TRANSFER
    + "SELECT gen_random_uuid(), moved.workspace, t.key, 'held', t.credit, t.amount, {}, NULL, t.memo, now(), {}, {} "
    "FROM moved, (VALUES ({}::text, 'spent'::text, {}::bigint, ''::text), "
    "({}::text, 'available'::text, {}::bigint, {}::text)) AS t(key, credit, amount, memo) "
    f"WHERE t.amount > 0 RETURNING amount, {_ALERT_COLUMNS}"
)

# After a grant, a clawback or a new threshold (rare, under the wallet's lock): alert or re-arm from the
# balance as it is now.
LOW_BALANCE_SQL = (
    f"WITH moved AS (SELECT workspace, available, held FROM wallets WHERE {workspace_sql()}), {_ALERT}, {_REARM} "
    f"SELECT {_ALERT_COLUMNS}"
)


def is_low(available: int, held: int, threshold: int | None) -> bool:
    """The same rule in Python, for the pages' warnings."""
    return threshold is not None and available + held < threshold


@dataclass(frozen=True, slots=True)
class Balance:
    available: int
    held: int
    owed: int = 0  # clawed back (refund, dispute) beyond what was available; blocks new runs until repaid


class CreditsOwed(PaymentRequired):
    code = "credits_owed"


async def _ensure_wallet(workspace_id: UUID) -> None:
    await fetch(
        "INSERT INTO wallets (id, workspace, available, held, created_at, updated_at) "
        "VALUES (gen_random_uuid(), {}, 0, 0, now(), now()) ON CONFLICT (workspace) DO NOTHING",
        workspace_id,
    )


async def balance(workspace_id: UUID) -> Balance:
    rows = await fetch(f"SELECT available, held, owed FROM wallets WHERE {workspace_sql()}", workspace_id)
    return Balance(**rows[0]) if rows else Balance(0, 0)


def owed_message(owed: int) -> str:
    return (f"{owed} credits are owed after a refund or dispute, so no run can start: buy credits on the "
            "Billing page (the debt is paid from them first) or ask an admin to")


async def reserve(workspace_id: UUID, execution_id: UUID, amount: int, *, agent: str | None = None,
                  member: UUID | None = None) -> None:
    """Hold ``amount`` for the execution, or 402 with nothing written. ``agent`` and ``member`` (who started
    it) are written on the movement for the credit audit."""
    if amount <= 0:
        return
    moved = await fetch(RESERVE_SQL, amount, amount, workspace_id, amount, f"{execution_id}:reserve",
                        amount, execution_id, agent, member)
    if not moved:
        have = await balance(workspace_id)
        if have.owed:
            raise CreditsOwed(owed_message(have.owed))
        raise PaymentRequired(f"insufficient credits: need {amount}, have {have.available}")


async def _announce_low(workspace_id: UUID, alert: dict[str, Any]) -> None:
    """Tell the admins once per crossing (the statement that crossed counted it, under the wallet's lock)."""
    if alert["crossing"] is not None:
        await notifications.emit("credits_low", workspace_id, available=alert["unspent"],
                                 threshold=alert["threshold"], crossing=alert["crossing"])


async def check_low_balance(workspace_id: UUID) -> None:
    """Alert or re-arm from the balance as it is now (after a grant, a clawback, a new threshold)."""
    await _announce_low(workspace_id, (await fetch(LOW_BALANCE_SQL, workspace_id, workspace_id, workspace_id))[0])


async def resolve(workspace_id: UUID, execution_id: UUID, reserved: int, charge: int, *, agent: str | None = None,
                  member: UUID | None = None, reason: str = "") -> None:
    """End a hold: ``charge`` credits are spent, the rest of ``reserved`` goes back to available; the
    release's memo is ``reason`` (why credits came back: the run failed, was canceled, used less scope)."""
    if reserved <= 0:
        return
    charge = max(0, min(charge, reserved))
    release = reserved - charge
    moved = await fetch(RESOLVE_SQL, reserved, release, workspace_id, reserved, workspace_id, execution_id, agent, member,
                        f"{execution_id}:charge", charge, f"{execution_id}:release", release, reason)
    if not moved:
        raise RuntimeError(f"the hold of execution {execution_id} is not in the wallet")
    await _announce_low(workspace_id, moved[0])


async def _locked(workspace_id: UUID) -> Balance:
    """The wallet row, locked for this transaction: grants and clawbacks read, decide, then write."""
    await _ensure_wallet(workspace_id)
    rows = await fetch(f"SELECT available, held, owed FROM wallets WHERE {workspace_sql()} FOR UPDATE", workspace_id)
    return Balance(**rows[0])


async def has_moved(key: str) -> bool:
    """Whether a movement under ``key`` is in the ledger."""
    return bool(await fetch("SELECT 1 FROM ledger_transfers WHERE key = {}", key))


async def _record(workspace_id: UUID, available: int, owed: int, movements: list[tuple[str, str, str, int]],
                  actor_id: UUID | None, memo: str) -> None:
    """Write the locked wallet's new balances and its movements (key, debit, credit, amount; empty ones skipped)."""
    await fetch(f"UPDATE wallets SET available = {{}}, owed = {{}}, updated_at = now() WHERE {workspace_sql()}",
                available, owed, workspace_id)
    for key, debit, credit, amount in movements:
        if amount > 0:
            await fetch(_INSERT_TRANSFER + "VALUES (gen_random_uuid(), {}, {}, {}, {}, {}, NULL, {}, {}, now(), NULL, NULL)",
                        workspace_id, key, debit, credit, amount, actor_id, memo)


async def grant(workspace_id: UUID, amount: int, *, actor_id: UUID | None, memo: str, key: str | None = None) -> Balance:
    """Add credits from outside (an admin grant, a purchase); audited. A debt left by a clawback is paid
    from them first (``<key>:repay``, available -> owed). With ``key`` given, a second grant under the same
    key changes nothing (the key is unique in the ledger; checked under the wallet's lock)."""
    if amount <= 0:
        raise Invalid("credits to grant must be a positive whole number", field="credits")
    key = key or f"grant:{uuid.uuid4()}"
    wallet = await _locked(workspace_id)
    if await has_moved(key):
        return wallet
    repay = min(wallet.owed, wallet.available + amount)
    await _record(workspace_id, wallet.available + amount - repay, wallet.owed - repay,
                  [(key, "external", "available", amount), (f"{key}:repay", "available", "owed", repay)], actor_id, memo)
    await audit.record("credits.granted", workspace_id=workspace_id, actor_id=actor_id, target=key, credits=amount,
                       memo=memo)
    await check_low_balance(workspace_id)
    return await balance(workspace_id)


async def claw_back(workspace_id: UUID, amount: int, *, key: str, memo: str) -> Balance:
    """Take back ``amount`` credits granted earlier (a refund, a dispute): what is available goes back out
    (available -> external); what is not is recorded as owed (``<key>:owed``, owed -> external) and repaid
    from the next grant. Held credits stay with the runs holding them. Once per key."""
    if amount <= 0:
        raise Invalid("credits to take back must be a positive whole number", field="credits")
    wallet = await _locked(workspace_id)
    if await has_moved(key):
        return wallet
    take = min(wallet.available, amount)
    await _record(workspace_id, wallet.available - take, wallet.owed + amount - take,
                  [(key, "available", "external", take), (f"{key}:owed", "owed", "external", amount - take)], None, memo)
    await audit.record("credits.clawed_back", workspace_id=workspace_id, actor_id=None, target=key, credits=amount,
                       owed=amount - take, memo=memo)
    await check_low_balance(workspace_id)
    return await balance(workspace_id)


# The page of movements only: each run's agent and starter are the executions domain's to tell
# (``executions.service.run_names``; billing imports nothing that imports billing).
TRANSFERS_SQL = (
    "SELECT t.id, t.key, t.debit, t.credit, t.amount, t.execution, t.memo, t.created_at "
    "FROM ledger_transfers t WHERE {where} ORDER BY t.created_at DESC, t.id DESC LIMIT {size}"
)


async def transfers(workspace_id: UUID, request: PageRequest, *, since: datetime | None = None,
                    until: datetime | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the workspace's movements, newest first, made in ``[since, until)``; and the next cursor.
    Walks the ``(workspace, created_at, id)`` index from the cursor, so every page costs the same."""
    where, args = [workspace_sql("t")], [workspace_id]
    if since is not None:
        where.append("t.created_at >= {}")
        args.append(since)
    if until is not None:
        where.append("t.created_at < {}")
        args.append(until)
    if request.cursor:
        where.append("(t.created_at, t.id) < ({}, {})")
        args.extend(decode_cursor(request.cursor))
    # the size is an int checked above, written in so one generic plan serves every page (see listing.py)
    text = TRANSFERS_SQL.replace("{where}", " AND ".join(where)).replace("{size}", str(int(request.limit) + 1))
    return cut(await fetch(text, *args), request)


# Each account's balance per workspace: what was credited to it less what was debited from it.
BALANCES_SQL = (
    "SELECT m.workspace, m.account, sum(m.amount)::bigint AS balance FROM ("
    "SELECT workspace, credit AS account, amount FROM ledger_transfers t WHERE {where} UNION ALL "
    "SELECT workspace, debit, -amount FROM ledger_transfers t WHERE {where}) m GROUP BY m.workspace, m.account"
)


async def account_balances(workspace_id: UUID | None = None) -> dict[UUID, dict[str, int]]:
    """The ledger's balance of every account, for one workspace or all of them (``agentledger reconcile``)."""
    where = workspace_sql("t") if workspace_id else "TRUE"
    rows = await fetch(BALANCES_SQL.replace("{where}", where), *([workspace_id, workspace_id] if workspace_id else []))
    found: dict[UUID, dict[str, int]] = {}
    for row in rows:
        found.setdefault(row["workspace"], {})[row["account"]] = row["balance"]
    return found


async def wallets(workspace_id: UUID | None = None) -> dict[UUID, Balance]:
    where = workspace_sql() if workspace_id else "TRUE"
    rows = await fetch(f"SELECT workspace, available, held, owed FROM wallets WHERE {where}",
                       *([workspace_id] if workspace_id else []))
    return {row.pop("workspace"): Balance(**row) for row in rows}


@dataclass(frozen=True, slots=True)
class Movement:
    """One past movement to import, with its own time."""

    key: str
    debit: str
    credit: str
    amount: int
    created_at: datetime
    execution: UUID | None = None
    agent: str | None = None
    member: UUID | None = None
    memo: str = ""


async def import_history(workspace_id: UUID, movements: list[Movement]) -> Balance:
    """Write past movements with their own times (the demo's year of history, an import from another system)
    and move the wallet by their net effect. Each movement is still one double entry with a unique key; the
    wallet's CHECKs still refuse a negative balance; ``reconcile`` agrees afterwards."""
    net = {"available": 0, "held": 0, "owed": 0}
    for m in movements:
        for account, sign in ((m.credit, 1), (m.debit, -1)):
            if account in net:
                net[account] += sign * m.amount
    if net["held"]:
        raise Invalid("imported history must leave nothing held", field="movements")
    wallet = await _locked(workspace_id)
    fields = ("key", "debit", "credit", "amount", "created_at", "execution", "agent", "member", "memo")
    kinds = ("text", "text", "text", "bigint", "timestamptz", "uuid", "text", "uuid", "text")
    await fetch(
        "INSERT INTO ledger_transfers (id, workspace, actor, key, debit, credit, amount, created_at, execution, agent, "
        "member, memo) SELECT gen_random_uuid(), {}, NULL, * FROM unnest("
        + ", ".join(f"{{}}::{k}[]" for k in kinds) + ")",
        workspace_id, *[[getattr(m, f) for m in movements] for f in fields])
    await _record(workspace_id, wallet.available + net["available"], wallet.owed - net["owed"], [], None, "")
    await audit.record("credits.history_imported", workspace_id=workspace_id, actor_id=None,
                       movements=len(movements))
    return await balance(workspace_id)
