"""Indexes the reaper can use: live runs by heartbeat (all three live states), queued runs by age."""

from agentledger.platform.migration_sql import raw_sql_migration

ID = "2026-11-22T03:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reaper indexes"

STATEMENTS = [
    "DROP INDEX IF EXISTS executions_live_heartbeat_idx",
    "CREATE INDEX executions_live_heartbeat_idx ON executions (heartbeat_at) "
    "WHERE status IN ('running', 'paused', 'awaiting_review')",
    "CREATE INDEX executions_queued_idx ON executions (queued_at) WHERE status = 'queued'",
]


forwards = raw_sql_migration(ID, "platform", DESCRIPTION, STATEMENTS)
