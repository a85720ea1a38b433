"""The credit audit at scale: 1,000,000 ledger movements in 100 workspaces (90 days), loaded with COPY, then
`GET /api/v1/workspaces/{ws}/credits/usage?group_by=member|agent|day` for the whole 90 days over real HTTP
(one uvicorn worker, one keep-alive connection, one request at a time) against the same aggregation as one
plain GROUP BY over the raw ledger (asyncpg, prepared), in the same run. Prints p50/p95 per grouping and the
ratio; the goal (the issue's) is API p95 <= 50 ms. Before timing, each grouping's API answer is checked
against the raw GROUP BY: the same groups, runs and credits.

Run with `./run bench usage`. BENCH_SAMPLES (default 200) sets requests per case and side; BENCH_MOVEMENTS
(default 1,000,000) the ledger's size.

The data: each workspace's runs spread over 90 days, each run a reserve, a charge and (when it used less
than its hold, failed or was canceled) a release, carrying the run's agent and member as live runs do;
10 members and 5 agents per workspace, plus a purchase a week. The measured workspace is one of the 100
(about 10,000 movements).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from history import Http, ms, serve  # noqa: E402

from agentledger.platform.embedded import free_port  # noqa: E402

SAMPLES = int(os.environ.get("BENCH_SAMPLES", "200"))
TOTAL = int(os.environ.get("BENCH_MOVEMENTS", "1000000"))
WORKSPACES, MEMBERS, DAYS = 100, 10, 90
AGENTS = ("seo-audit", "link-checker", "content-writer", "analytics-report", "url-check")
GOAL_P95_MS = 50.0
RAW = {  # the same aggregation, written plainly over the raw ledger
    "member": "t.member::text", "agent": "t.agent", "day": "to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"}
RAW_SQL = ("SELECT {key} AS key, count(DISTINCT t.execution) AS runs, "
           "COALESCE(sum(t.amount) FILTER (WHERE t.credit = 'spent'), 0) AS charged, "
           "COALESCE(sum(t.amount) FILTER (WHERE t.credit = 'available'), 0) AS refunded "
           "FROM ledger_transfers t WHERE t.workspace = $1 AND t.created_at >= $2 AND t.created_at < $3 "
           "AND t.debit = 'held' GROUP BY 1")


async def prepare() -> tuple[uuid.UUID, str, str, list[uuid.UUID]]:
    """The measured workspace, its admin (with an API token) and members, through the services."""
    from agentledger.platform import accounts, tokens, workspaces
    from agentledger.platform.database import atomic
    from agentledger.platform.migrate import migrate
    from agentledger.platform.scoping import resolve_scope

    await migrate()
    tag = uuid.uuid4().hex[:6]
    async with atomic():
        admin = await accounts.create_user(f"usage-admin-{tag}@example.com", "Ada Admin", "bench password 123")
        info = await workspaces.create_workspace(f"usage-{tag}", "Usage bench", admin.id)
        members = [admin.id]
        for n in range(MEMBERS - 1):
            person = await accounts.create_user(f"usage-{tag}-{n}@example.com", f"Member {n}", "bench password 123")
            await workspaces.add_member(info.id, person.id, "member", admin.id)
            members.append(person.id)
        token = (await tokens.create_token(await resolve_scope(info.slug, admin.id), "bench"))[1]
    return info.id, info.slug, token, members


async def load(conn, measured: uuid.UUID, members: list[uuid.UUID], until: datetime) -> float:
    rng = random.Random(20261204)
    started = time.monotonic()
    since = until - timedelta(days=DAYS)
    ids = [measured] + [uuid.uuid4() for _ in range(WORKSPACES - 1)]
    await conn.copy_records_to_table("workspaces", columns=["id", "slug", "name", "created_at"], records=[
        (w, f"u{w.hex[:10]}", f"Workspace {i}", since) for i, w in enumerate(ids) if i])
    people = {w: (members if w == measured else [uuid.uuid4() for _ in range(MEMBERS)]) for w in ids}

    def movements():
        made = 0
        while made < TOTAL:
            w = ids[rng.randrange(WORKSPACES)]
            at = since + timedelta(seconds=rng.random() * DAYS * 86400)
            run, agent, member = uuid.uuid4(), rng.choice(AGENTS), rng.choice(people[w])
            hold = rng.randint(5, 200)
            outcome = rng.random()
            charge = hold if outcome < 0.7 else int(hold * 0.6) if outcome < 0.9 else 0
            finished = at + timedelta(seconds=rng.randint(10, 1200))
            rows = [(f"{run}:reserve", "available", "held", hold, at, ""),
                    (f"{run}:charge", "held", "spent", charge, finished, ""),
                    (f"{run}:release", "held", "available", hold - charge, finished,
                     "run failed" if charge == 0 else "unused scope")]
            for key, debit, credit, amount, when, memo in rows:
                if amount > 0:
                    yield (uuid.uuid4(), w, key, debit, credit, amount, run, agent, member, memo, when)
                    made += 1
            if rng.random() < 0.002:
                yield (uuid.uuid4(), w, f"grant:{uuid.uuid4()}", "external", "available", 5000, None, None, None,
                       "purchase", at)
                made += 1

    await conn.copy_records_to_table(
        "ledger_transfers", records=movements(),
        columns=["id", "workspace", "key", "debit", "credit", "amount", "execution", "agent", "member", "memo",
                 "created_at"])
    await conn.execute("VACUUM ANALYZE ledger_transfers")
    await conn.execute("CHECKPOINT")
    return time.monotonic() - started


async def measure(port: int, workspace_id: uuid.UUID, slug: str, token: str, since: datetime,
                  until: datetime) -> dict[str, dict[str, list[float]]]:
    import asyncpg

    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    http = Http(port)
    await http.open()
    found: dict[str, dict[str, list[float]]] = {}
    try:
        for group_by, key in RAW.items():
            statement = await conn.prepare(RAW_SQL.format(key=key))
            path = (f"/api/v1/workspaces/{slug}/credits/usage?"
                    + urlencode({"group_by": group_by, "since": since.isoformat(), "until": until.isoformat()}))
            status, body = await http.get(path, token)
            raw = {r["key"] or "": (r["runs"], r["charged"], r["refunded"]) for r in await statement.fetch(
                workspace_id, since, until)}
            api = {g["key"]: (g["runs"], g["credits_charged"], g["credits_refunded"])
                   for g in json.loads(body)["groups"]}
            if status != 200 or api != raw:
                raise RuntimeError(f"{group_by}: the API's groups differ from the raw GROUP BY (HTTP {status})")
            times = found[group_by] = {"api": [], "raw": [], "groups": [float(len(api))]}
            for _ in range(SAMPLES):  # interleaved, so both sides meet the same machine
                started = time.perf_counter_ns()
                await http.get(path, token)
                times["api"].append(time.perf_counter_ns() - started)
                started = time.perf_counter_ns()
                await statement.fetch(workspace_id, since, until)
                times["raw"].append(time.perf_counter_ns() - started)
    finally:
        await conn.close()
    return found


def main() -> int:
    import asyncpg

    workspace_id, slug, token, members = asyncio.run(prepare())
    until = datetime.now(UTC).replace(microsecond=0)
    since = until - timedelta(days=DAYS)

    async def do_load() -> float:
        conn = await asyncpg.connect(os.environ["DATABASE_URL"])
        try:
            return await load(conn, workspace_id, members, until)
        finally:
            await conn.close()

    seconds = asyncio.run(do_load())
    print(f"loaded {TOTAL:,} ledger movements over {WORKSPACES} workspaces and {DAYS} days with COPY in {seconds:.1f}s")
    port = free_port()
    server = serve(port)
    try:
        results = asyncio.run(measure(port, workspace_id, slug, token, since, until))
    finally:
        server.terminate()
        server.wait(10)
    print(f"GET …/credits/usage over {DAYS} days, HTTP (one uvicorn worker, one keep-alive connection, sequential) "
          f"vs the same GROUP BY raw through asyncpg (prepared); {SAMPLES} interleaved samples each; goal: API p95 "
          f"<= {GOAL_P95_MS:.0f} ms")
    head = f"{'group_by':<10} {'groups':>6} | {'API p50':>7} {'p95':>6} | {'raw p50':>7} {'p95':>6} | {'ratio p95':>9} | verdict"
    print(head)
    print("-" * len(head))
    met = True
    for group_by, r in results.items():
        a50, a95, r50, r95 = ms(r["api"], 0.5), ms(r["api"], 0.95), ms(r["raw"], 0.5), ms(r["raw"], 0.95)
        ok = a95 <= GOAL_P95_MS
        met = met and ok
        print(f"{group_by:<10} {int(r['groups'][0]):>6} | {a50:>7.2f} {a95:>6.2f} | {r50:>7.2f} {r95:>6.2f} | "
              f"{a95 / r95:>8.2f}x | {'GOAL MET' if ok else 'goal missed'}")
    print(f"all goals {'MET' if met else 'NOT met'} (times in ms; the API answers were checked equal to the raw GROUP BY)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
