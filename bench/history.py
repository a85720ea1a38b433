"""The run list at scale: 1,000,000 executions over 100 workspaces, loaded with COPY, then
`GET /api/v1/workspaces/{ws}/executions` over real HTTP (one uvicorn worker, one keep-alive connection,
one request at a time) against the very same SQL text (``listing.sql``) sent raw through asyncpg as a
prepared statement with the same arguments, in the same run. Prints p50/p95 per case and the ratio.
Goals (the issue's): API p95 <= 20 ms at any depth; API median <= 2x raw median for the first page,
page 1,000 and a filtered query. The other cases (a member's pages, the Running tab, rare filters) show
their ratio without a goal: their raw queries take 0.1-0.4 ms, under the fixed cost of one
authenticated HTTP request (printed at the end as GET /api/v1/me). An API call is timed from the
request to the response's last byte; a raw call from the statement to the last row decoded.

Run with `./run bench history`. BENCH_SAMPLES (default 200) sets requests per case and side.

The data: workspaces are skewed as real ones are: the measured workspace holds 100,000 runs (page
1,000 of 20 needs more than 20,000), the other 99 share the remaining 900,000 (about 9,100 each). Rows
are interleaved across workspaces in time order over one year, as inserts arrive, so a workspace's runs
are spread over the whole table. Mix: six agents, nine statuses, four triggers, live and test mode;
a quarter of the successful runs of result-producing agents carry results (a score and/or a few
recommendations), so the preview subqueries find something; about 150 of the other members' runs are
shared with the measured member, so a member's list merges their own runs with shared ones.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agentledger.platform.embedded import free_port, wait_for_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "200"))
LIMIT = 20
DEEP_PAGE = int(os.environ.get("BENCH_DEEP_PAGE", "1000"))
GOAL_P95_MS = 20.0
GOAL_RATIO = 2.0
LIVE = ("queued", "running", "paused", "awaiting_review")  # the run page's "Running" tab


from _history_data import WORKSPACES, Fixture, load, prepare  # noqa: E402


class Http:
    """One keep-alive HTTP/1.1 connection; the least client there is, so the time is the server's."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def get(self, path: str, token: str) -> tuple[int, bytes]:
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                          f"Authorization: Bearer {token}\r\n\r\n".encode())
        head = (await self.reader.readuntil(b"\r\n\r\n")).lower()  # status line and headers, in one read
        status = int(head.split(maxsplit=2)[1])
        chunked = b"\r\ntransfer-encoding: chunked" in head
        length = head.partition(b"\r\ncontent-length:")[2].split(b"\r\n", 1)[0]
        length = int(length) if length and not chunked else 0
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
    goal: bool = False  # the cases: first page, page 1,000, a filtered query


def ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] / 1e6


async def cursor_at(conn: Any, scope: Any, filters: Any, page: int) -> str:
    """The cursor the API hands out at the end of page ``page - 1``: the (created_at, id) of row
    ``20 * (page - 1)`` in list order, found by walking the list 250 rows at a time."""
    from agentledger.platform.database import _numbered_placeholders
    from agentledger.platform.executions import listing
    from agentledger.platform.pagination import MAX_LIMIT, PageRequest, encode_cursor

    before, seen, cursor = LIMIT * (page - 1), 0, None
    while True:
        text, args = listing.sql(scope, filters, PageRequest(cursor, MAX_LIMIT))
        rows = (await conn.fetch(_numbered_placeholders(text), *args))[:MAX_LIMIT]
        assert rows, f"fewer than {before} rows for page {page}"
        if seen + len(rows) >= before:
            row = rows[before - seen - 1]
            return encode_cursor(row["created_at"], row["id"])
        seen, cursor = seen + len(rows), encode_cursor(rows[-1]["created_at"], rows[-1]["id"])


async def api_ids(http: Http, path: str, token: str, name: str) -> tuple[list[str], bytes]:
    status, body = await http.get(path, token)
    if status != 200:
        raise RuntimeError(f"{name}: HTTP {status}: {body[:300]!r}")
    return [item["id"] for item in json.loads(body)["items"]], body


TICKING = re.compile(rb'"duration_ms":\d+')
"""A running run's duration goes on until now, so two reads of the same page differ there and only there."""


def same_page(body: bytes, expected: bytes) -> bool:
    return body == expected or TICKING.sub(b"", body) == TICKING.sub(b"", expected)


async def api_call(http: Http, path: str, token: str, expected: bytes) -> None:
    """One timed API call: the request out, the whole response in (what curl or a browser waits for).
    Parsing the JSON is the consumer's work, not the API's latency, so it stays out of the timing; the
    response must be byte for byte the one whose ids were checked against the raw rows (running runs'
    durations aside; comparing bytes first keeps the usual case to one memcmp)."""
    status, body = await http.get(path, token)
    if status != 200 or not same_page(body, expected):
        raise RuntimeError(f"{path}: HTTP {status}, or a response other than the checked one")


async def raw_call(statement: Any, args: list[Any], rows: int) -> None:
    """One timed raw call: the prepared statement out, every row in and decoded by asyncpg."""
    if len(await statement.fetch(*args)) != rows:
        raise RuntimeError("the raw statement answered a different number of rows")


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
        Case("first page", "admin", {}, none, goal=True),
        Case(f"page {DEEP_PAGE:,}", "admin", {}, none, DEEP_PAGE, goal=True),
        Case("agent+failed+30 days", "admin", {"agent": "seo-audit", "status": "failed", "since": since.isoformat()},
             listing.Filters(agent="seo-audit", statuses=("failed",), since=since), goal=True),
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
        got, body = await api_ids(http, path, tokens[case.role], case.name)
        raw_rows = await statement.fetch(*args)
        expected = [str(r["id"]) for r in raw_rows[:LIMIT]]
        if got != expected:
            raise RuntimeError(f"{case.name}: the API and the raw SQL disagree:\n{got}\n{expected}")
        api = partial(api_call, http, path, tokens[case.role], body)
        raw = partial(raw_call, statement, args, len(raw_rows))
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
                           "plan": plan, "bytes": len(body)}))
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
          f"(measured workspace: {fx.counts['measured workspace']:,}, {fx.counts['shared with the member']} of them "
          f"shared with the member), {fx.counts['results']:,} results, with COPY:")
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
    print(f"goals: API p95 <= {GOAL_P95_MS:.0f} ms in every case; API median <= {GOAL_RATIO:.0f}x raw median for the "
          "goal cases (*: first page, deep page, a filtered query). db = server-side execution time (EXPLAIN ANALYZE "
          "EXECUTE of the warmed-up prepared statement)")
    head = (f"{'case':<34} {'rows':>4} {'bytes':>6} | {'API p50':>7} {'p95':>6} | {'raw p50':>7} {'p95':>6} | "
            f"{'db':>5} | {'ratio p50':>9} {'p95':>5} | verdict")
    print(head)
    print("-" * len(head))
    missed_any = False
    for case, r in results:
        a50, a95, r50, r95 = ms(r["api"], 0.5), ms(r["api"], 0.95), ms(r["raw"], 0.5), ms(r["raw"], 0.95)
        missed = [what for what, bad in (("p95", a95 > GOAL_P95_MS),
                                         ("ratio", case.goal and a50 / r50 > GOAL_RATIO)) if bad]
        missed_any = missed_any or bool(missed)
        verdict = f"goal missed ({', '.join(missed)})" if missed else "GOAL MET" if case.goal else "p95 goal met"
        name = ("* " if case.goal else "  ") + case.name
        print(f"{name:<34} {r['rows']:>4} {r['bytes']:>6} | {a50:>7.2f} {a95:>6.2f} | {r50:>7.2f} {r95:>6.2f} | "
              f"{r['db']:>5.2f} | {a50 / r50:>8.1f}x {a95 / r95:>4.1f}x | {verdict}")
        plan, planning = r["plan"]["Plan"], r["plan"].get("Planning Time")
        kind = f"custom plan, planned each call ({planning:.2f} ms)" if (planning or 0) > 0.05 else "generic plan"
        print(f"{'':<34} {kind}: {', '.join(scans(plan))}; buffers hit {plan.get('Shared Hit Blocks', 0)}, "
              f"read {plan.get('Shared Read Blocks', 0)}")
    print(f"all goals {'MET' if not missed_any else 'NOT met'}")
    print(f"times in ms; for scale, GET /api/v1/me on the same connection: p50 {ms(me, 0.5):.2f}, "
          f"p95 {ms(me, 0.95):.2f} (HTTP, middleware, bearer auth; no query)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
