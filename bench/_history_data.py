"""Data for bench/history.py: the measured workspace made through the services, and a million more runs
(99 other workspaces, their people, versions and results) loaded with COPY."""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

SEED = 20261122
TOTAL = int(os.environ.get("BENCH_ROWS", "1000000"))
WORKSPACES = 100
BIG_SHARE = 0.10  # the measured workspace: 100,000 of 1,000,000
SHARED_WITH_MEMBER = 0.002  # of the other members' runs there: about 150 shared with the measured member
USERS_PER_WORKSPACE = 10
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
    shares: list[tuple] = []
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
            if big and starter != fx.member_id and rng.random() < SHARED_WITH_MEMBER:
                shares.append((uuid.uuid4(), w, run_id, fx.member_id, starter, created, created))
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
    await conn.copy_records_to_table("execution_shares", records=shares,
                                     columns=["id", "workspace", "execution", "user", "shared_by", "created_at",
                                              "run_created_at"])
    counts["shared with the member"] = len(shares)
    fx.timings["execution_results, execution_shares (COPY)"] = time.monotonic() - step
    step = time.monotonic()
    for table in ("workspaces", "users", "memberships", "agent_versions", "executions", "execution_results",
                  "execution_shares"):
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
