"""The archive benchmark's data: three workspaces made through the services (so tokens and memberships
are real), their runs and every child row written by INSERT … SELECT generate_series.

- ``small``: two fifths of BENCH_ARCHIVE_RUNS, all past the default policy (the pass the list is timed beside);
- ``big``: BENCH_ARCHIVE_RUNS runs (default 100,000), all past it (the measured pass);
- ``hot``: 10,000 recent runs nobody archives, whose list the latency part reads while ``big`` is archived.

Each run is shaped like a real finished one: 4 steps with JSON input and output, 8 log lines, 3 items,
3 results (a recommendation, a score, a generated text of about 400 characters with its first revision),
inputs, a version. One run in ten failed (with its error)."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

RUNS = int(os.environ.get("BENCH_ARCHIVE_RUNS", "100000"))
SMALL_RUNS = RUNS * 2 // 5  # the pass the list is timed beside: about 6,000 requests long (bench/archive.py)
HOT_RUNS = 10_000
ROWS_PER_RUN = 1 + 4 + 8 + 3 + 3 + 1  # the run, steps, log lines, items, results, a revision


@dataclass
class World:
    small: uuid.UUID
    big: uuid.UUID
    hot: uuid.UUID
    hot_slug: str
    admin_token: str
    admin_id: uuid.UUID
    timings: dict[str, float] = field(default_factory=dict)


async def prepare() -> World:
    from agentledger.platform import accounts, storage, tokens, workspaces
    from agentledger.platform.database import atomic
    from agentledger.platform.migrate import migrate
    from agentledger.platform.scoping import resolve_scope

    await migrate()
    import asyncio

    await asyncio.to_thread(storage.ensure_bucket)
    tag = uuid.uuid4().hex[:6]
    async with atomic():
        admin = await accounts.create_user(f"archive-admin-{tag}@example.com", "Ada Admin", "bench password 123")
        made = [await workspaces.create_workspace(f"archive-{name}-{tag}", f"Archive {name}", admin.id)
                for name in ("small", "big", "hot")]
        token = (await tokens.create_token(await resolve_scope(made[2].slug, admin.id), "bench"))[1]
    return World(made[0].id, made[1].id, made[2].id, made[2].slug, token, admin.id)


# A run's id as the product makes it (``platform/executions/ids.py``: a UUIDv7 of the moment it was made), here
# from the run's created_at ``t``: 48 bits of milliseconds, the version (7), 12 random bits, the variant (8)
# and 60 more random bits, as 32 hex digits (PostgreSQL reads a uuid without its hyphens; version 16 has no
# ``uuidv7()``)
RUN_ID_SQL = ("(lpad(to_hex(floor(extract(epoch FROM t) * 1000)::bigint), 12, '0') || '7' "
              "|| substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid")

RUNS_SQL = f"""
INSERT INTO executions (id, workspace, started_by, triggered_by, agent, agent_version, inputs, mode, status, scope,
  progress_done, progress_total, items_processed, items_failed, base_cost, per_item_cost, estimate, credits_reserved,
  credits_charged, credits_refunded, error_message, queued_at, started_at, finished_at, created_at)
SELECT {RUN_ID_SQL}, $1, $2, 'user', 'seo-audit', $3,
  jsonb_build_object('site', 'https://shop' || g || '.example/', 'max_pages', 50), 'live',
  CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'completed' END, 3, 3, 3, 3, 0, 1, 1, 4, 4,
  CASE WHEN g % 10 = 0 THEN 0 ELSE 4 END, CASE WHEN g % 10 = 0 THEN 4 ELSE 0 END,
  CASE WHEN g % 10 = 0 THEN 'The site answered 503 Service Unavailable for /products' END,
  t, t + interval '1 second', t + interval '40 seconds', t
FROM generate_series(1, $4) AS g, LATERAL (SELECT $5::timestamptz - g * interval '1 minute' AS t) AS x
"""

CHILDREN_SQL = [
    """INSERT INTO execution_steps (id, execution, position, attempt, name, status, retries, input, output, started_at,
         finished_at, duration_ms)
       SELECT gen_random_uuid(), e.id, p, 1, 'step ' || p, 'succeeded', 0, jsonb_build_object('pages', p * 10),
         jsonb_build_object('found', p * 3, 'notes', 'a few words of output from this step'), e.started_at,
         e.finished_at, 5000 + p
       FROM executions e, generate_series(1, 4) AS p WHERE e.workspace = ANY($1)""",
    """INSERT INTO execution_logs (execution, at, level, message)
       SELECT e.id, e.started_at + p * interval '3 seconds', CASE WHEN p = 8 THEN 'warning' ELSE 'info' END,
         'Fetched https://shop.example/products/' || p || ' in 212 ms: 200 OK, 48 KB, 31 links found'
       FROM executions e, generate_series(1, 8) AS p WHERE e.workspace = ANY($1)""",
    """INSERT INTO execution_items (id, execution, key, status, reason, detail, at)
       SELECT gen_random_uuid(), e.id, 'https://shop.example/page/' || p, 'done', NULL,
         jsonb_build_object('status', 200, 'bytes', 48000 + p), e.started_at + p * interval '5 seconds'
       FROM executions e, generate_series(1, 3) AS p WHERE e.workspace = ANY($1)""",
    """INSERT INTO execution_results (id, workspace, execution, step, kind, title, target, field, priority, status,
         body, created_at, updated_at)
       SELECT gen_random_uuid(), e.workspace, e.id, 3, k.kind, k.title, 'https://shop.example/', k.field, k.priority,
         k.status, k.body, e.finished_at, e.finished_at
       FROM executions e, (VALUES
         ('recommendation', 'Add a title', 'title', 'high', 'open',
          '{"before": "", "after": "Northwind Outfitters: trail gear", "reason": "The page has no title."}'::jsonb),
         ('score', 'SEO score', NULL, NULL, NULL, '{"value": 72.5, "scale": 100, "unit": "points"}'::jsonb),
         ('content', 'Product description', 'description', NULL, 'open', jsonb_build_object('text',
          repeat('A sturdy pack for long days on the trail, with room for what matters. ', 6), 'version', 1))
       ) AS k(kind, title, field, priority, status, body)
       WHERE e.workspace = ANY($1)""",
    """INSERT INTO result_revisions (id, result, execution, version, text, created_at)
       SELECT gen_random_uuid(), r.id, r.execution, 1, r.body->>'text', r.created_at FROM execution_results r
       WHERE r.workspace = ANY($1) AND r.kind = 'content'""",
]


async def load(conn: Any, world: World) -> dict[str, int]:
    """The runs and their rows; then VACUUM ANALYZE and a CHECKPOINT (nothing left for the background to do
    mid-measurement). Answers row counts per table."""
    from datetime import UTC, datetime, timedelta

    started = time.monotonic()
    version = uuid.uuid4()
    await conn.execute("INSERT INTO agent_versions (id, agent, label, sha256, source, created_at) VALUES "
                       "($1, 'seo-audit', 'bench', $2, $3, now())", version, uuid.uuid4().hex * 2,
                       "# the seo-audit agent as it ran\n" * 40)
    old = datetime.now(UTC) - timedelta(days=400)
    for workspace, runs, newest in ((world.small, SMALL_RUNS, old), (world.big, RUNS, old),
                                    (world.hot, HOT_RUNS, datetime.now(UTC))):
        await conn.execute(RUNS_SQL, workspace, world.admin_id, version, runs, newest)
    world.timings["runs"] = time.monotonic() - started
    spaces = [world.small, world.big, world.hot]
    for statement in CHILDREN_SQL:
        await conn.execute(statement, spaces)
    world.timings["children"] = time.monotonic() - started - world.timings["runs"]
    for table in ("executions", "execution_steps", "execution_logs", "execution_items", "execution_results",
                  "result_revisions"):
        await conn.execute(f"VACUUM ANALYZE {table}")
    await conn.execute("CHECKPOINT")
    world.timings["load in all"] = time.monotonic() - started
    counts = {}
    for table in ("executions", "execution_steps", "execution_logs", "execution_items", "execution_results",
                  "result_revisions"):
        counts[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return counts
