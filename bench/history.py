"""The run list at scale: 1,000,000 executions over 100 workspaces, loaded with COPY, then
`GET /api/v1/workspaces/{ws}/executions` over real HTTP (one uvicorn worker, one keep-alive connection,
one request at a time) against the very same SQL text (``listing.sql``) sent raw through asyncpg as a
prepared statement with the same arguments, in the same run. Prints p50/p95 per case and the ratio
(goals: API p95 <= 20 ms at any depth, API median <= 2x raw median).

Run with `./run bench history`. BENCH_SAMPLES (default 200) sets requests per case and side.

The data: workspaces are skewed as real ones are: the measured workspace holds 100,000 runs (page
1,000 of 20 needs more than 20,000), the other 99 share the remaining 900,000 (about 9,100 each). Rows
are interleaved across workspaces in time order over one year, as inserts arrive, so a workspace's runs
are spread over the whole table. Mix: six agents, nine statuses, four triggers, live and test mode;
a quarter of the successful runs of result-producing agents carry results (a score and/or a few
recommendations), so the preview subqueries find something.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agentledger.platform.embedded import free_port, wait_for_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261122
TOTAL = int(os.environ.get("BENCH_ROWS", "1000000"))
WORKSPACES = 100
BIG_SHARE = 0.10  # the measured workspace: 100,000 of 1,000,000
USERS_PER_WORKSPACE = 10
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "200"))
LIMIT = 20
DEEP_PAGE = int(os.environ.get("BENCH_DEEP_PAGE", "1000"))
GOAL_P95_MS = 20.0
GOAL_RATIO = 2.0
LIVE = ("queued", "running", "paused", "awaiting_review")  # the run page's "Running" tab

AGENTS = {  # name: (share of runs, makes results)
    "url-check": (0.30, False), "seo-audit": (0.22, True), "link-checker": (0.18, True),
    "content-writer": (0.14, True), "analytics-report": (0.10, True), "noop": (0.06, False)}
STATUSES = {"completed": 0.74, "partial": 0.07, "failed": 0.10, "canceled": 0.04, "timed_out": 0.02,
            "awaiting_review": 0.02, "paused": 0.01}  # waiting: the last day only; queued, running: 5 minutes
TRIGGERS = {"user": 0.45, "api": 0.30, "schedule": 0.20, "rerun": 0.05}
TRACEBACK = ("Traceback (most recent call last):\n"
             + '  File "/app/agents/runner.py", line 212, in run_step\n    output = await step(ctx)\n' * 6
             + "agentledger.agents.net.FetchError: https://shop.example.com/ answered 503 after 3 tries\n")


def weighted(rng: random.Random, table: dict[str, Any]) -> Any:
    names = list(table)
    weights = [v[0] if isinstance(v, tuple) else v for v in table.values()]
    cumulative, total = [], 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    return lambda: rng.choices(names, cum_weights=cumulative)[0]


@dataclass
class Fixture:
    slug: str
    workspace_id: uuid.UUID
    admin_id: uuid.UUID
    member_id: uuid.UUID
    newcomer_id: uuid.UUID
    admin_token: str
    member_token: str
    newcomer_token: str
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


async def prepare() -> Fixture:
    """Migrate; the measured workspace, its admin and one member (with tokens) through the services."""
    from agentledger.platform import accounts, tokens, workspaces
    from agentledger.platform.database import atomic
    from agentledger.platform.migrate import migrate
    from agentledger.platform.scoping import resolve_scope

    await migrate()
    tag = uuid.uuid4().hex[:6]
    async with atomic():
        admin = await accounts.create_user(f"history-admin-{tag}@example.com", "Ada Admin", "bench password 123")
        member = await accounts.create_user(f"history-member-{tag}@example.com", "Max Member", "bench password 123")
        newcomer = await accounts.create_user(f"history-new-{tag}@example.com", "Nia Newcomer", "bench password 123")
        info = await workspaces.create_workspace(f"history-{tag}", "History bench", admin.id)
        tokens_ = []
        for user in (admin, member, newcomer):
            if user is not admin:
                await workspaces.add_member(info.id, user.id, "member", admin.id)
            tokens_.append((await tokens.create_token(await resolve_scope(info.slug, user.id), "bench"))[1])
    return Fixture(info.slug, info.id, admin.id, member.id, newcomer.id, *tokens_)


async def load(conn: Any, fx: Fixture) -> None:
    """Everything else with COPY: 99 workspaces, their users and memberships, agent versions, 1M runs,
    their results; then VACUUM ANALYZE (so autovacuum does not start on the fresh rows mid-measurement)
    and a CHECKPOINT (so the checkpointer is not writing them out mid-measurement)."""
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    year_ago = now - timedelta(days=365)
    tag = fx.slug.removeprefix("history-")
    started = time.monotonic()

    workspace_ids = [fx.workspace_id] + [uuid.uuid4() for _ in range(WORKSPACES - 1)]
    await conn.copy_records_to_table(
        "workspaces", columns=["id", "slug", "name", "created_at"],
        records=[(w, f"h{tag}-{i:03}", f"Workspace {i}", year_ago) for i, w in enumerate(workspace_ids) if i])
    users: dict[uuid.UUID, list[uuid.UUID]] = {}
    user_rows, member_rows = [], []
    for i, w in enumerate(workspace_ids):
        fresh = [uuid.uuid4() for _ in range(USERS_PER_WORKSPACE - (3 if i == 0 else 0))]
        users[w] = ([fx.admin_id, fx.member_id, fx.newcomer_id] if i == 0 else []) + fresh
        for j, u in enumerate(fresh):
            user_rows.append((u, f"u{tag}-{i:03}-{j}@example.com", f"User {i}.{j}", year_ago))
            member_rows.append((uuid.uuid4(), w, u, "admin" if i and j == 0 else "member", year_ago))
    await conn.copy_records_to_table("users", columns=["id", "email", "name", "created_at"], records=user_rows)
    await conn.copy_records_to_table("memberships", columns=["id", "workspace", "user", "role", "created_at"],
                                     records=member_rows)
    # who starts runs: in the measured workspace the admin 30%, the measured member 25%, a newcomer about
    # five runs, seven others the rest
    starter_weights = {w: ([0.30, 0.25, 0.00005] + [0.45 / 7] * 7 if i == 0 else [1 / (k + 1) for k in range(10)])
                       for i, w in enumerate(workspace_ids)}
    versions = {a: [uuid.uuid4() for _ in range(3)] for a in AGENTS}
    await conn.copy_records_to_table(
        "agent_versions", columns=["id", "agent", "label", "sha256", "source", "created_at"],
        records=[(v, a, f"v{k + 1}-{tag}", uuid.uuid4().hex + uuid.uuid4().hex, f"# {a} v{k + 1}\n", year_ago)
                 for a, vs in versions.items() for k, v in enumerate(vs)])
    fx.timings["workspaces, users, memberships"] = time.monotonic() - started

    agent_of, status_of, trigger_of = weighted(rng, AGENTS), weighted(rng, STATUSES), weighted(rng, TRIGGERS)
    span = (now - year_ago).total_seconds()
    offsets = sorted(rng.random() * span for _ in range(TOTAL))
    results: list[tuple] = []
    counts = {"executions": 0, "measured workspace": 0, "results": 0}

    def executions():
        for offset in offsets:
            created = year_ago + timedelta(seconds=offset)
            big = rng.random() < BIG_SHARE
            w = fx.workspace_id if big else workspace_ids[1 + rng.randrange(WORKSPACES - 1)]
            agent = agent_of()
            if big and agent == "noop" and rng.random() > 0.003:
                agent = "url-check"  # an agent run only a few times in the measured workspace
            age = (now - created).total_seconds()
            status = rng.choice(("queued", "running")) if age < 300 else status_of()
            if status in ("awaiting_review", "paused") and age > 86400:
                status = "completed"  # runs wait on a person for a day, not for months
            trigger = trigger_of()
            starter = rng.choices(users[w], weights=starter_weights[w])[0]
            scope = rng.randint(1, 40)
            estimate = 1 + scope
            processed = failed_items = charged = refunded = 0
            started_at = finished_at = heartbeat = error = traceback = None
            if status != "queued":
                started_at = created + timedelta(seconds=0.05 + rng.random() * 2)
                heartbeat = started_at + timedelta(seconds=rng.random() * 30)
            if status in ("completed", "partial", "failed", "canceled", "timed_out"):
                finished_at = started_at + timedelta(seconds=1 + rng.random() * 300)
                heartbeat = finished_at
            if status == "completed":
                processed, charged = scope, estimate
            elif status == "partial":
                failed_items = rng.randint(1, scope)
                processed = scope - failed_items
                charged, refunded = 1 + processed, estimate - 1 - processed
            elif status in ("failed", "timed_out"):
                refunded = estimate
                error = "the site answered 503 three times" if status == "failed" else "ran past its time limit"
                traceback = TRACEBACK if status == "failed" else None
            elif status == "canceled":
                processed = rng.randint(0, scope)
                charged, refunded = processed, estimate - processed
            run_id = uuid.uuid4()
            if status in ("completed", "partial") and AGENTS[agent][1] and rng.random() < 0.25:
                if agent in ("seo-audit", "analytics-report"):
                    results.append((uuid.uuid4(), w, run_id, "score", "Score", None, None, None,
                                    json.dumps({"value": rng.randint(20, 100)}), finished_at, finished_at))
                for _ in range(rng.randint(1, 3)):
                    kind = "content" if agent == "content-writer" else "recommendation"
                    results.append((uuid.uuid4(), w, run_id, kind, "Add a meta description to /pricing",
                                    "https://shop.example.com/pricing", rng.choice(("high", "medium", "low")),
                                    "open", json.dumps({"detail": "The page has no meta description."}),
                                    finished_at, finished_at))
            counts["executions"] += 1
            counts["measured workspace"] += big
            site = f"https://shop{rng.randrange(50)}.example.com/"
            inputs = {"urls": [site, "https://example.com/"]} if agent in ("url-check", "noop") else {"start_url": site}
            yield (run_id, w, starter, trigger, agent, rng.choice(versions[agent]), json.dumps(inputs),
                   "test" if rng.random() < 0.08 else "live", status, scope, processed, failed_items, estimate,
                   estimate if status != "queued" else 0, charged, refunded, error, traceback, 1, 600, created,
                   started_at, finished_at, heartbeat, created, 1, 1, processed, scope,
                   status == "awaiting_review")

    step = time.monotonic()
    await conn.copy_records_to_table(
        "executions", records=executions(),
        columns=["id", "workspace", "started_by", "triggered_by", "agent", "agent_version", "inputs", "mode",
                 "status", "scope", "items_processed", "items_failed", "estimate", "credits_reserved",
                 "credits_charged", "credits_refunded", "error_message", "error_traceback", "attempts",
                 "time_limit_seconds", "queued_at", "started_at", "finished_at", "heartbeat_at", "created_at",
                 "base_cost", "per_item_cost", "progress_done", "progress_total", "awaited_review"])
    fx.timings["executions (generate + COPY)"] = time.monotonic() - step
    step = time.monotonic()
    await conn.copy_records_to_table(
        "execution_results", records=results,
        columns=["id", "workspace", "execution", "kind", "title", "target", "priority", "status", "body",
                 "created_at", "updated_at"])
    counts["results"] = len(results)
    fx.timings["execution_results (COPY)"] = time.monotonic() - step
    step = time.monotonic()
    for table in ("workspaces", "users", "memberships", "agent_versions", "executions", "execution_results"):
        await conn.execute(f"VACUUM ANALYZE {table}")
    fx.timings["VACUUM ANALYZE"] = time.monotonic() - step
    step = time.monotonic()
    try:  # write the loaded pages out now rather than while measuring (needs superuser or pg_checkpoint)
        await conn.execute("CHECKPOINT")
        fx.timings["CHECKPOINT"] = time.monotonic() - step
    except Exception:  # noqa: BLE001 - not allowed on a managed database: measure with the writes pending
        pass
    fx.timings["load in all"] = time.monotonic() - started
    fx.counts = counts


class Http:
    """One keep-alive HTTP/1.1 connection; the least client there is, so the time is the server's."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def get(self, path: str, token: str) -> tuple[int, bytes]:
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                          f"Authorization: Bearer {token}\r\n\r\n".encode())
        status = int((await self.reader.readline()).split()[1])
        length, chunked = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        body = b""
        while size := int((await self.reader.readline()).strip(), 16):
            body += await self.reader.readexactly(size)
            await self.reader.readline()
        await self.reader.readline()
        return status, body


@dataclass
class Case:
    name: str
    role: str  # admin | member
    params: dict[str, Any]
    filters: Any
    page: int = 1
    cursor: str | None = None


def ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] / 1e6


async def cursor_at(conn: Any, scope: Any, filters: Any, page: int) -> str:
    """The cursor the API hands out at the end of page ``page - 1``: the (created_at, id) of row
    ``20 * (page - 1)`` in list order. Read with OFFSET once, instead of walking 999 pages."""
    from agentledger.platform.database import _numbered_placeholders
    from agentledger.platform.executions import listing
    from agentledger.platform.pagination import PageRequest, encode_cursor

    text, args = listing.sql(scope, filters, PageRequest(limit=1))
    inner = text[text.index("FROM (SELECT * FROM executions e WHERE ") + 6: text.index(" LIMIT {}) e ")]
    row = await conn.fetchrow(_numbered_placeholders(f"SELECT e.created_at, e.id FROM ({inner} "
                                                     f"OFFSET {LIMIT * (page - 1) - 1} LIMIT 1) e"), *args[:-1])
    assert row is not None, f"fewer than {LIMIT * (page - 1)} rows for page {page}"
    return encode_cursor(row["created_at"], row["id"])


async def api_ids(http: Http, path: str, token: str, name: str) -> list[str]:
    status, body = await http.get(path, token)
    if status != 200:
        raise RuntimeError(f"{name}: HTTP {status}: {body[:300]!r}")
    return [item["id"] for item in json.loads(body)["items"]]


async def raw_ids(statement: Any, args: list[Any]) -> list[str]:
    return [str(r["id"]) for r in (await statement.fetch(*args))[:LIMIT]]


async def measure(fx: Fixture, port: int) -> list[tuple[Case, dict[str, Any]]]:
    import asyncpg

    from agentledger.platform.database import _numbered_placeholders
    from agentledger.platform.executions import listing
    from agentledger.platform.pagination import PageRequest
    from agentledger.platform.scoping import Scope

    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    scopes = {role: Scope(fx.workspace_id, fx.slug, "History bench", user, "admin" if role == "admin" else "member")
              for role, user in (("admin", fx.admin_id), ("member", fx.member_id), ("newcomer", fx.newcomer_id))}
    tokens = {"admin": fx.admin_token, "member": fx.member_token, "newcomer": fx.newcomer_token}
    since = (datetime.now(UTC) - timedelta(days=30)).replace(microsecond=0)
    none, failure = listing.Filters(), listing.Filters(outcome="failure")
    cases = [
        Case("first page", "admin", {}, none),
        Case(f"page {DEEP_PAGE:,}", "admin", {}, none, DEEP_PAGE),
        Case("agent+failed+30 days", "admin", {"agent": "seo-audit", "status": "failed", "since": since.isoformat()},
             listing.Filters(agent="seo-audit", statuses=("failed",), since=since)),
        Case("member's own, first page", "member", {}, none),
        Case(f"member's own, page {DEEP_PAGE:,}", "member", {}, none, DEEP_PAGE),
        Case("newcomer's own (~5 runs)", "newcomer", {}, none),
        Case("Running tab (live, waiting)", "admin", {"status": list(LIVE)}, listing.Filters(statuses=LIVE)),
        Case("Failed tab, first page", "admin", {"outcome": "failure"}, failure),
        Case(f"Failed tab, page {DEEP_PAGE // 2:,}", "admin", {"outcome": "failure"}, failure, DEEP_PAGE // 2),
        Case("timed_out+analytics-report", "admin", {"agent": "analytics-report", "status": "timed_out"},
             listing.Filters(agent="analytics-report", statuses=("timed_out",))),
        Case("agent run ~18 times here", "admin", {"agent": "noop"}, listing.Filters(agent="noop")),
    ]
    for case in cases:
        if case.page > 1:
            case.cursor = await cursor_at(conn, scopes[case.role], case.filters, case.page)

    http = Http(port)
    await http.open()
    out = []
    for case in cases:
        params = {**case.params, "limit": LIMIT, **({"cursor": case.cursor} if case.cursor else {})}
        path = f"/api/v1/workspaces/{fx.slug}/executions?{urlencode(params, doseq=True)}"
        text, args = listing.sql(scopes[case.role], case.filters, PageRequest(case.cursor, LIMIT))
        statement = await conn.prepare(_numbered_placeholders(text))
        api = partial(api_ids, http, path, tokens[case.role], case.name)
        raw = partial(raw_ids, statement, args)

        got, expected = await api(), await raw()
        if got != expected:
            raise RuntimeError(f"{case.name}: the API and the raw SQL disagree:\n{got}\n{expected}")
        for _ in range(20):  # warm-up: caches, plans, connections
            await api()
            await raw()
        api_ns, raw_ns = [], []
        for i in range(SAMPLES):  # interleaved, so machine noise hits both alike
            for side, times in ((api, api_ns), (raw, raw_ns)) if i % 2 else ((raw, raw_ns), (api, api_ns)):
                t = time.perf_counter_ns()
                await side()
                times.append(time.perf_counter_ns() - t)
        plan = await explain(conn, _numbered_placeholders(text), args)
        out.append((case, {"rows": len(got), "api": api_ns, "raw": raw_ns, "db": plan["Execution Time"],
                           "plan": plan, "bytes": len((await http.get(path, tokens[case.role]))[1])}))
    me = []  # the fixed cost of an authenticated API call: GET /api/v1/me, no query (grant cache warm)
    for i in range(SAMPLES + 20):
        t = time.perf_counter_ns()
        status, _ = await http.get("/api/v1/me", fx.admin_token)
        if status != 200:
            raise RuntimeError(f"GET /api/v1/me: HTTP {status}")
        if i >= 20:
            me.append(time.perf_counter_ns() - t)
    http.writer.close()
    await conn.close()
    return out, me


def literal(value: Any) -> str:
    if isinstance(value, list):
        return f"ARRAY[{', '.join(literal(v) for v in value)}]::text[]"
    if isinstance(value, int):
        return str(value)
    kind = {uuid.UUID: "::uuid", datetime: "::timestamptz"}.get(type(value), "")
    return "'" + str(value).replace("'", "''") + "'" + kind


async def explain(conn: Any, query: str, args: list[Any]) -> dict[str, Any]:
    """EXPLAIN ANALYZE of the statement as a prepared statement runs it after warm-up: PostgreSQL plans
    the first five executions for their values, then may settle on one generic plan for all values
    (asyncpg and so the API reuse prepared statements, so that is the plan they get)."""
    await conn.execute(f"PREPARE bench_list AS {query}")
    try:
        call = f"EXECUTE bench_list({', '.join(literal(a) for a in args)})"
        for _ in range(6):
            await conn.execute(call)
        plan = await conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {call}")
        plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]
        if os.environ.get("BENCH_EXPLAIN"):
            text = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {call}")
            print("\n".join(r[0] for r in text), "\n")
        return plan
    finally:
        await conn.execute("DEALLOCATE bench_list")


def scans(node: dict[str, Any]) -> list[str]:
    """The plan's scans of executions, with the rows they kept and threw away."""
    found = []
    if node.get("Relation Name") == "executions" or node.get("Index Name", "").startswith("executions_"):
        removed = node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
        found.append(f"{node['Node Type']} {node.get('Index Name', '')}".rstrip()
                     + f" ({node['Actual Rows'] * node['Actual Loops']:,} rows"
                     + (f", {removed:,} filtered out)" if removed else ")"))
    for child in node.get("Plans", []):
        found += scans(child)
    return found


def serve(port: int) -> subprocess.Popen:
    args = [sys.executable, "-m", "uvicorn", "agentledger.web.app:create_app", "--factory", "--port", str(port),
            "--no-access-log", "--log-level", "warning", "--workers", "1"]
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL)
    wait_for_port(port, timeout=30)
    return process


def main() -> int:
    import asyncpg

    fx = asyncio.run(prepare())

    async def do_load() -> None:
        conn = await asyncpg.connect(os.environ["DATABASE_URL"])
        try:
            await load(conn, fx)
        finally:
            await conn.close()

    asyncio.run(do_load())
    print(f"loaded {fx.counts['executions']:,} executions over {WORKSPACES} workspaces "
          f"(measured workspace: {fx.counts['measured workspace']:,}), {fx.counts['results']:,} results, with COPY:")
    print("  " + "; ".join(f"{name} {seconds:.1f}s" for name, seconds in fx.timings.items()))

    port = free_port()
    server = serve(port)
    try:
        results, me = asyncio.run(measure(fx, port))
    finally:
        server.terminate()
        server.wait(10)

    print(f"GET /api/v1/workspaces/{{ws}}/executions?limit={LIMIT} over HTTP (one uvicorn worker, one keep-alive "
          f"connection, sequential) vs the same SQL raw through asyncpg (prepared); {SAMPLES} interleaved samples each")
    print(f"goals: API p95 <= {GOAL_P95_MS:.0f} ms; API median <= {GOAL_RATIO:.0f}x raw median. "
          "db = server-side execution time (EXPLAIN ANALYZE EXECUTE of the warmed-up prepared statement)")
    head = (f"{'case':<32} {'rows':>4} {'bytes':>6} | {'API p50':>7} {'p95':>6} | {'raw p50':>7} {'p95':>6} | "
            f"{'db':>5} | {'ratio p50':>9} {'p95':>5} | verdict")
    print(head)
    print("-" * len(head))
    for case, r in results:
        a50, a95, r50, r95 = ms(r["api"], 0.5), ms(r["api"], 0.95), ms(r["raw"], 0.5), ms(r["raw"], 0.95)
        missed = [what for what, bad in (("p95", a95 > GOAL_P95_MS), ("ratio", a50 / r50 > GOAL_RATIO)) if bad]
        verdict = "GOAL MET" if not missed else f"goal missed ({', '.join(missed)})"
        print(f"{case.name:<32} {r['rows']:>4} {r['bytes']:>6} | {a50:>7.2f} {a95:>6.2f} | {r50:>7.2f} {r95:>6.2f} | "
              f"{r['db']:>5.2f} | {a50 / r50:>8.1f}x {a95 / r95:>4.1f}x | {verdict}")
        plan = r["plan"]["Plan"]
        print(f"{'':<32} plan: {', '.join(scans(plan))}; buffers hit {plan.get('Shared Hit Blocks', 0)}, "
              f"read {plan.get('Shared Read Blocks', 0)}")
    print(f"times in ms; for scale, GET /api/v1/me on the same connection: p50 {ms(me, 0.5):.2f}, "
          f"p95 {ms(me, 0.95):.2f} (HTTP, middleware, bearer auth; no query)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
