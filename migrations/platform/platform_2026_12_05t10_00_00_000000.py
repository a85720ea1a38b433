"""Finding a push in flight by index: a pass skips runs with a change being applied to a site right now
(``apply_started_at`` set), and without an index each batch read the whole results table to learn that
none was (at 100,000 runs, a sequential scan of 360,000 rows per batch of 500). Pushes in flight are
few at any moment, so the partial index holds almost nothing.

Built concurrently, outside a transaction: the build reads the whole results table, and a plain CREATE
INDEX would hold off every write to it (runs saving their results) until it ended. A concurrent build cut
short (a crash, a cancel) leaves an invalid index behind, which the planner never uses: the drop first
makes running this again build it whole."""

from agentledger.platform.migration_sql import raw_sql_migration

ID = "2026-12-05T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "retention: index of results with a push in flight"

STATEMENTS = [
    "DROP INDEX CONCURRENTLY IF EXISTS execution_results_applying_idx",
    "CREATE INDEX CONCURRENTLY execution_results_applying_idx ON execution_results (execution) "
    "WHERE apply_started_at IS NOT NULL",
]

forwards = raw_sql_migration(ID, "platform", DESCRIPTION, STATEMENTS, in_transaction=False)
