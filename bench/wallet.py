"""Reserve + settle pairs on ONE hot wallet, 32 concurrent clients: agentledger's ledger functions against
the very same SQL statements sent raw through asyncpg, in the same run. Prints pairs/s and the ratio
(goal: 80% or more), then proves the wallet never went negative and the books balance.

Run with `./run bench wallet`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

CLIENTS = 32
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
FUNDS = 10**12


async def prepare():
    from agentledger.billing import ledger
    from agentledger.platform import accounts, workspaces
    from agentledger.platform.database import atomic, start_pool
    from agentledger.platform.migrate import migrate

    await migrate()
    await start_pool(max_size=CLIENTS)
    async with atomic():
        user = await accounts.create_user(f"wallet-{uuid.uuid4().hex[:8]}@example.com", "Bench", "bench password 123")
        info = await workspaces.create_workspace(f"w-{uuid.uuid4().hex[:8]}", "Wallet bench", user.id)
        await ledger.grant(info.id, FUNDS, actor_id=None, memo="bench")
    return info.id


async def run_clients(pair) -> float:
    done = 0
    deadline = time.monotonic() + SECONDS

    async def client() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            await pair(uuid.uuid4())
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return done / (time.monotonic() - started)


async def main() -> None:
    import asyncpg

    from agentledger.billing import ledger
    from agentledger.platform.database import _numbered_placeholders, atomic

    workspace_id = await prepare()

    async def ours(execution_id) -> None:
        async with atomic():
            await ledger.reserve(workspace_id, execution_id, 3, agent="bench")
        async with atomic():
            await ledger.resolve(workspace_id, execution_id, 3, 2, agent="bench", reason="unused scope")

    reserve_sql = _numbered_placeholders(ledger.RESERVE_SQL)
    resolve_sql = _numbered_placeholders(ledger.RESOLVE_SQL)
    pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=CLIENTS, max_size=CLIENTS)

    async def raw(execution_id) -> None:
        async with pool.acquire() as conn:
            async with conn.transaction():
                rows = await conn.fetch(reserve_sql, 3, 3, workspace_id, 3, f"{execution_id}:reserve", 3,
                                        execution_id, "bench", None)
                assert rows
            async with conn.transaction():
                await conn.fetch(resolve_sql, 3, 1, workspace_id, 3, workspace_id, execution_id, "bench", None,
                                 f"{execution_id}:charge", 2, f"{execution_id}:release", 1, "unused scope")

    await run_clients(raw)  # warm-up both paths
    raw_rate, ours_rate = [], []
    for _ in range(2):  # alternate, so machine noise hits both alike
        raw_rate.append(await run_clients(raw))
        ours_rate.append(await run_clients(ours))
    best_raw, best_ours = max(raw_rate), max(ours_rate)

    # never negative: a small wallet under the same load refuses rather than going below zero
    refused = accepted = 0
    small = await _small_wallet(ledger)

    async def drain(execution_id) -> None:
        nonlocal refused, accepted
        try:
            async with atomic():
                await ledger.reserve(small, execution_id, 7)
            accepted += 1
        except Exception:  # noqa: BLE001 - PaymentRequired is the expected answer once it is empty
            refused += 1

    await asyncio.gather(*(drain(uuid.uuid4()) for _ in range(2000)))
    lowest = await pool.fetchval("SELECT min(available) FROM wallets")
    total = await pool.fetchval("SELECT sum(x) FROM (SELECT sum(amount) AS x FROM ledger_transfers "
                                "UNION ALL SELECT -sum(amount) FROM ledger_transfers) t")
    await pool.close()
    print(f"{CLIENTS} clients on one wallet, {SECONDS:.0f}s rounds, best of 2 alternating rounds")
    print(f"raw asyncpg, same SQL      {best_raw:9.0f} reserve+settle pairs/s  ({', '.join(f'{r:.0f}' for r in raw_rate)})")
    print(f"agentledger ledger calls   {best_ours:9.0f} reserve+settle pairs/s  ({', '.join(f'{r:.0f}' for r in ours_rate)})")
    print(f"ratio ours/raw             {best_ours / best_raw:9.1%}  (goal >= 80%)")
    print(f"small wallet of 700: {accepted} reserves of 7 accepted, {refused} refused; lowest balance seen {lowest}; "
          f"ledger debits minus credits = {total} (books {'balance' if total == 0 and lowest >= 0 else 'DO NOT balance'})")
    assert lowest >= 0 and total == 0 and accepted == 100


async def _small_wallet(ledger) -> uuid.UUID:
    from agentledger.platform import accounts, workspaces
    from agentledger.platform.database import atomic

    async with atomic():
        user = await accounts.create_user(f"small-{uuid.uuid4().hex[:8]}@example.com", "Small", "bench password 123")
        info = await workspaces.create_workspace(f"s-{uuid.uuid4().hex[:8]}", "Small wallet", user.id)
        await ledger.grant(info.id, 700, actor_id=None, memo="bench")
    return info.id


if __name__ == "__main__":
    asyncio.run(main())
