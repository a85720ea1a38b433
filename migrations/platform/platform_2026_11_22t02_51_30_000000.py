"""Execution integrity: known states and modes, exact non-negative credits, one version row per source,
one item row per key, and the indexes the runner, the reaper and the lists use."""

from agentledger.platform.migration_sql import raw_sql_migration

ID = "2026-11-22T02:51:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "execution constraints"

STATES = "('queued', 'running', 'paused', 'awaiting_review', 'completed', 'partial', 'failed', 'canceled', 'timed_out')"
STATEMENTS = [
    f"ALTER TABLE executions ADD CONSTRAINT executions_status_check CHECK (status IN {STATES})",
    "ALTER TABLE executions ADD CONSTRAINT executions_mode_check CHECK (mode IN ('live', 'test'))",
    "ALTER TABLE executions ADD CONSTRAINT executions_triggered_by_check "
    "CHECK (triggered_by IN ('user', 'schedule', 'api', 'rerun'))",
    "ALTER TABLE executions ADD CONSTRAINT executions_credits_check CHECK (credits_reserved >= 0 AND "
    "credits_charged >= 0 AND credits_refunded >= 0 AND credits_charged + credits_refunded <= credits_reserved)",
    "ALTER TABLE executions ADD CONSTRAINT executions_scope_check CHECK (scope >= 1)",
    "ALTER TABLE executions ADD CONSTRAINT executions_rerun_fkey FOREIGN KEY (rerun_of) REFERENCES executions (id)",
    "CREATE INDEX executions_workspace_created_idx ON executions (workspace, created_at DESC, id DESC)",
    "CREATE INDEX executions_live_heartbeat_idx ON executions (heartbeat_at) WHERE status IN ('running', 'paused')",
    "ALTER TABLE agent_versions ADD CONSTRAINT agent_versions_source_key UNIQUE (agent, sha256)",
    "ALTER TABLE execution_steps ADD CONSTRAINT execution_steps_execution_fkey "
    "FOREIGN KEY (execution) REFERENCES executions (id) ON DELETE CASCADE",
    "CREATE INDEX execution_steps_execution_idx ON execution_steps (execution, attempt, position)",
    "ALTER TABLE execution_logs ADD CONSTRAINT execution_logs_execution_fkey "
    "FOREIGN KEY (execution) REFERENCES executions (id) ON DELETE CASCADE",
    "ALTER TABLE execution_items ADD CONSTRAINT execution_items_execution_fkey "
    "FOREIGN KEY (execution) REFERENCES executions (id) ON DELETE CASCADE",
    "ALTER TABLE execution_items ADD CONSTRAINT execution_items_key UNIQUE (execution, key)",
    "ALTER TABLE execution_items ADD CONSTRAINT execution_items_status_check CHECK (status IN ('done', 'failed'))",
]


forwards = raw_sql_migration(ID, "platform", DESCRIPTION, STATEMENTS)
