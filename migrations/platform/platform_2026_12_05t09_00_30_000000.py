"""Retention's indexes: a pass finds a workspace's due runs by finish time among the runs not yet
archived (a partial index: archived runs, the bulk of an old workspace, are not in it); one open restore
request per run; a workspace's requests and alerts newest first."""

from agentledger.platform.migration_sql import raw_sql_migration

ID = "2026-12-05T09:00:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "retention: due-run index, one open restore request per run"

STATEMENTS = [
    "CREATE INDEX executions_retention_due_idx ON executions (workspace, finished_at, id) "
    "WHERE archived_at IS NULL AND finished_at IS NOT NULL",
    "CREATE INDEX executions_archived_files_idx ON executions (workspace, finished_at) "
    "WHERE archived_at IS NOT NULL AND archive_files > 0 AND files_removed_at IS NULL",
    "CREATE UNIQUE INDEX restore_requests_open_idx ON restore_requests (execution) "
    "WHERE status IN ('pending', 'approved')",
    "CREATE INDEX restore_requests_workspace_idx ON restore_requests (workspace, created_at)",
    "CREATE INDEX retention_alerts_workspace_idx ON retention_alerts (workspace, created_at)",
    "ALTER TABLE retention_policies ADD CONSTRAINT retention_policies_bounds CHECK ("
    "completed_days BETWEEN 1 AND 3650 AND failed_days BETWEEN 1 AND 3650 AND files_days BETWEEN 1 AND 3650 "
    "AND downloads_days BETWEEN 1 AND 3650 AND restore_grace_days BETWEEN 1 AND 3650)",
]

forwards = raw_sql_migration(ID, "platform", DESCRIPTION, STATEMENTS)
