"""Data for bench/notify.py's digest part: people, workspaces, a million runs over six weeks with their
ledger movements, wallets and results, loaded with set-based SQL (INSERT … SELECT generate_series)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

PEOPLE = int(os.environ.get("BENCH_PEOPLE", "10000"))
RUNS = int(os.environ.get("BENCH_DIGEST_RUNS", "1000000"))
WORKSPACES, ADMINS_EACH, WEEKS = 100, 2, 6
QUIET_EVERY = 10  # one person in ten started no run (admins still get their workspace's week)
GRANT = 10**8
AGENTS = "ARRAY['url-check', 'seo-audit', 'link-checker', 'content-writer', 'analytics-report', 'noop']"


def last_monday_nine() -> datetime:
    """The latest Monday 09:00 UTC that has passed: the moment of the digest pass."""
    today = datetime.now(UTC)
    moment = datetime(today.year, today.month, today.day, 9, tzinfo=UTC) - timedelta(days=today.weekday())
    return moment if moment <= today else moment - timedelta(days=7)


async def load(conn, tag: str, moment: datetime) -> dict[str, float]:
    """Everything with set-based SQL on one connection (its temporary tables number the people and
    workspaces); answers the seconds per step."""
    week_end = moment.replace(hour=0)
    since, until = week_end - timedelta(weeks=WEEKS - 1, days=7), moment
    before = since - timedelta(days=1)
    found: dict[str, float] = {}
    started = time.monotonic()
    await conn.execute("SELECT setseed(0.2026)")
    await conn.execute("CREATE TEMP TABLE bench_spaces AS SELECT w, gen_random_uuid() AS id "
                       "FROM generate_series(0, $1::int - 1) w", WORKSPACES)
    await conn.execute("CREATE TEMP TABLE bench_people AS SELECT n, gen_random_uuid() AS id, n % $1::int AS w "
                       "FROM generate_series(0, $2::int - 1) n", WORKSPACES, PEOPLE)
    await conn.execute("CREATE UNIQUE INDEX ON bench_people (n)")
    # who starts runs: everyone but one rank in QUIET_EVERY of each workspace (a different rank in each)
    await conn.execute("CREATE TEMP TABLE bench_active AS SELECT (row_number() OVER (ORDER BY n))::int - 1 AS k, n "
                       "FROM bench_people WHERE (n / $1::int + n) % $2::int <> $2::int - 1", WORKSPACES, QUIET_EVERY)
    await conn.execute("CREATE UNIQUE INDEX ON bench_active (k)")
    active = await conn.fetchval("SELECT count(*) FROM bench_active")
    await conn.execute("INSERT INTO workspaces (id, slug, name, timezone, created_at) SELECT id, "
                       "'n' || $1 || '-' || w, 'Digest workspace ' || w, 'UTC', $2 FROM bench_spaces", tag, before)
    await conn.execute("INSERT INTO users (id, email, name, created_at) SELECT id, 'notify-' || $1 || '-' || n || "
                       "'@example.com', 'Person ' || n, $2 FROM bench_people", tag, before)
    await conn.execute(
        "INSERT INTO memberships (id, workspace, \"user\", role, created_at) SELECT gen_random_uuid(), s.id, p.id, "
        "CASE WHEN p.n < $1::int THEN 'admin' ELSE 'member' END, $2 FROM bench_people p JOIN bench_spaces s ON s.w = p.w",
        WORKSPACES * ADMINS_EACH, before)
    found["people, workspaces, memberships"] = time.monotonic() - started

    step = time.monotonic()
    # who: one of the active people; st: the status; x: how far it got; at: when it was queued, anywhere in
    # the six weeks and the Monday morning after
    await conn.execute(f"""
        INSERT INTO executions (id, workspace, started_by, triggered_by, agent, mode, status, scope, items_processed,
            items_failed, base_cost, per_item_cost, estimate, credits_reserved, credits_charged, credits_refunded,
            error_message, attempts, time_limit_seconds, queued_at, started_at, finished_at, heartbeat_at, created_at,
            progress_done, progress_total)
        SELECT gen_random_uuid(), s.id, p.id, q.triggered_by, q.agent, CASE WHEN q.test THEN 'test' ELSE 'live' END,
            q.status, q.scope, q.processed, CASE WHEN q.status = 'partial' THEN q.scope - q.processed ELSE 0 END,
            CASE WHEN q.test THEN 0 ELSE 1 END, CASE WHEN q.test THEN 0 ELSE 1 END, q.estimate, q.estimate,
            q.charged, q.estimate - q.charged,
            CASE q.status WHEN 'failed' THEN 'The site answered 503 three times' WHEN 'timed_out'
                 THEN 'ran past its time limit' END,
            1, 600, q.at, q.at + interval '1 second', q.at + q.took, q.at + q.took, q.at, q.processed, q.scope
        FROM (
            SELECT r.*, CASE WHEN r.test THEN 0 WHEN r.status = 'completed' THEN r.estimate
                             WHEN r.status = 'partial' THEN 1 + r.processed
                             WHEN r.status = 'canceled' THEN r.processed ELSE 0 END AS charged
            FROM (
                SELECT g.*, CASE WHEN g.st < 0.75 THEN 'completed' WHEN g.st < 0.83 THEN 'partial'
                                 WHEN g.st < 0.93 THEN 'failed' WHEN g.st < 0.97 THEN 'canceled' ELSE 'timed_out' END
                            AS status,
                       CASE WHEN g.st < 0.75 THEN g.scope WHEN g.st < 0.83 OR (g.st >= 0.93 AND g.st < 0.97)
                            THEN floor(g.x * g.scope)::int ELSE 0 END AS processed,
                       CASE WHEN g.test THEN 0 ELSE 1 + g.scope END AS estimate
                FROM (
                    SELECT floor(random() * $1::int)::int AS who,
                           random() AS st, random() AS x, 1 + floor(random() * 40)::int AS scope,
                           random() < 0.05 AS test,
                           (ARRAY['user', 'user', 'user', 'api', 'schedule'])[1 + floor(random() * 5)::int]
                               AS triggered_by,
                           ({AGENTS})[1 + floor(random() * 6)::int] AS agent,
                           $3::timestamptz + random() * ($4::timestamptz - $3::timestamptz) AS at,
                           interval '1 second' * (2 + floor(random() * 600)) AS took
                    FROM generate_series(1, $2::int)
                ) g
            ) r
        ) q
        JOIN bench_active a ON a.k = q.who JOIN bench_people p ON p.n = a.n JOIN bench_spaces s ON s.w = p.w
        ORDER BY s.id, q.at""", active, RUNS, since, until)  # in index order: half the time of random order
    found["executions"] = time.monotonic() - step

    step = time.monotonic()
    await conn.execute(
        "INSERT INTO ledger_transfers (id, workspace, key, debit, credit, amount, memo, created_at) "
        "SELECT gen_random_uuid(), id, 'grant:' || id, 'external', 'available', $1, 'bench grant', $2 FROM bench_spaces",
        GRANT, before)
    await conn.execute("""
        INSERT INTO ledger_transfers (id, workspace, key, debit, credit, amount, execution, agent, member, memo, created_at)
        SELECT gen_random_uuid(), e.workspace, e.id || m.suffix, m.debit, m.credit, m.amount, e.id, e.agent,
               e.started_by, m.memo, m.at
        FROM executions e JOIN bench_spaces s ON s.id = e.workspace
        CROSS JOIN LATERAL (VALUES
            (':reserve', 'available', 'held', e.credits_reserved, '', e.queued_at),
            (':charge', 'held', 'spent', e.credits_charged, '', e.finished_at),
            (':release', 'held', 'available', e.credits_refunded,
             CASE WHEN e.status IN ('failed', 'timed_out') THEN 'run failed' WHEN e.status = 'canceled'
                  THEN 'canceled' ELSE 'unused scope' END, e.finished_at)
        ) AS m(suffix, debit, credit, amount, memo, at)
        WHERE m.amount > 0
        ORDER BY e.id, m.suffix""")  # the key and execution indexes filled in order: faster to load
    await conn.execute("""
        INSERT INTO wallets (id, workspace, available, held, owed, created_at, updated_at)
        SELECT gen_random_uuid(), s.id,
               COALESCE(sum(t.amount) FILTER (WHERE t.credit = 'available'), 0)
                 - COALESCE(sum(t.amount) FILTER (WHERE t.debit = 'available'), 0),
               COALESCE(sum(t.amount) FILTER (WHERE t.credit = 'held'), 0)
                 - COALESCE(sum(t.amount) FILTER (WHERE t.debit = 'held'), 0), 0, $1, $1
        FROM bench_spaces s JOIN ledger_transfers t ON t.workspace = s.id GROUP BY s.id""", before)
    found["ledger movements, wallets"] = time.monotonic() - step

    step = time.monotonic()
    await conn.execute("""
        INSERT INTO execution_results (id, workspace, execution, kind, title, status, body, created_at, updated_at)
        SELECT gen_random_uuid(), e.workspace, e.id, 'score',
               CASE e.agent WHEN 'seo-audit' THEN 'SEO score' ELSE 'Conversion' END, NULL,
               CASE e.agent WHEN 'seo-audit' THEN jsonb_build_object('value', 20 + floor(random() * 80), 'scale', 100,
                    'explanation', 'weighted page checks', 'unit', NULL)
                    ELSE jsonb_build_object('value', round((random() * 4)::numeric, 2), 'scale', 100,
                    'explanation', 'orders per visit', 'unit', '%') END,
               e.finished_at, e.finished_at
        FROM executions e JOIN bench_spaces s ON s.id = e.workspace
        WHERE e.status IN ('completed', 'partial') AND e.agent IN ('seo-audit', 'analytics-report') AND random() < 0.3""")
    await conn.execute("""
        INSERT INTO execution_results (id, workspace, execution, kind, title, target, priority, status, body,
                                       created_at, updated_at)
        SELECT gen_random_uuid(), e.workspace, e.id, 'recommendation', 'Add a meta description to /pricing',
               'https://shop.example.com/pricing', 'medium', CASE WHEN random() < 0.4 THEN 'applied' ELSE 'open' END,
               '{"detail": "The page has no meta description."}'::jsonb, e.finished_at, e.finished_at
        FROM executions e JOIN bench_spaces s ON s.id = e.workspace, generate_series(1, 2)
        WHERE e.status IN ('completed', 'partial') AND e.agent IN ('seo-audit', 'link-checker') AND random() < 0.2""")
    found["execution results"] = time.monotonic() - step

    step = time.monotonic()
    for table in ("workspaces", "users", "memberships", "executions", "ledger_transfers", "wallets",
                  "execution_results", "digest_weeks", "notification_preferences", "email_outbox"):
        await conn.execute(f"VACUUM ANALYZE {table}")
    try:  # write the loaded pages out now rather than while measuring (needs superuser or pg_checkpoint)
        await conn.execute("CHECKPOINT")
    except Exception:  # noqa: BLE001 - not allowed on a managed database: measure with the writes pending
        pass
    found["VACUUM ANALYZE, CHECKPOINT"] = time.monotonic() - step
    found["load in all"] = time.monotonic() - started
    return found
