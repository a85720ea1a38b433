"""The weekly digest reads each person's own live runs of a week, many people per statement: an index by
who started a run and when, so a batch of 500 people reads their runs instead of the whole table
(measured by bench/notify.py: a 10,000-person pass over 1,000,000 runs spent 20 s scanning without it)."""

from agentledger.platform.migration_sql import raw_sql_migration

ID = "2026-12-04T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "executions: index by starter and queue time for the weekly digest"

STATEMENTS = [
    "CREATE INDEX executions_started_by_queued_idx ON executions (started_by, queued_at) "
    "INCLUDE (workspace, status, credits_charged) WHERE mode = 'live'",
]

forwards = raw_sql_migration(ID, "platform", DESCRIPTION, STATEMENTS)
