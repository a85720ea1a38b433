"""Results, reviews, connectors and schedules: known kinds and states, cascades with their execution,
one revision number per content version, one review per review step, and the indexes their lists use.
Runs awaiting review hold no worker, so the reaper's index covers running and paused runs only."""

from agentledger.platform.migration_sql import raw_sql_migration

ID = "2026-11-22T05:03:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "results, reviews, connectors, schedules constraints"

KINDS = "('recommendation', 'report', 'score', 'content', 'action_item', 'extracted', 'artifact')"
RESULT_STATES = "('open', 'approved', 'rejected', 'applied', 'apply_failed', 'done')"
STATEMENTS = [
    "ALTER TABLE execution_results ADD CONSTRAINT execution_results_execution_fkey "
    "FOREIGN KEY (execution) REFERENCES executions (id) ON DELETE CASCADE",
    f"ALTER TABLE execution_results ADD CONSTRAINT execution_results_kind_check CHECK (kind IN {KINDS})",
    f"ALTER TABLE execution_results ADD CONSTRAINT execution_results_status_check "
    f"CHECK (status IS NULL OR status IN {RESULT_STATES})",
    "ALTER TABLE execution_results ADD CONSTRAINT execution_results_priority_check "
    "CHECK (priority IS NULL OR priority IN ('high', 'medium', 'low'))",
    "CREATE INDEX execution_results_execution_idx ON execution_results (execution, seq)",
    "CREATE INDEX execution_results_kind_idx ON execution_results (execution, kind, seq)",
    "ALTER TABLE result_revisions ADD CONSTRAINT result_revisions_result_fkey "
    "FOREIGN KEY (result) REFERENCES execution_results (id) ON DELETE CASCADE",
    "ALTER TABLE result_revisions ADD CONSTRAINT result_revisions_version_key UNIQUE (result, version)",
    "ALTER TABLE execution_reviews ADD CONSTRAINT execution_reviews_execution_fkey "
    "FOREIGN KEY (execution) REFERENCES executions (id) ON DELETE CASCADE",
    "ALTER TABLE execution_reviews ADD CONSTRAINT execution_reviews_step_key UNIQUE (execution, step)",
    "ALTER TABLE execution_reviews ADD CONSTRAINT execution_reviews_status_check "
    "CHECK (status IN ('pending', 'approved', 'rejected'))",
    "ALTER TABLE connectors ADD CONSTRAINT connectors_base_url_key UNIQUE (workspace, base_url)",
    "ALTER TABLE schedules ADD CONSTRAINT schedules_mode_check CHECK (mode IN ('live', 'test'))",
    "CREATE INDEX schedules_due_idx ON schedules (next_run_at) WHERE enabled",
    "ALTER TABLE executions ADD CONSTRAINT executions_schedule_fkey "
    "FOREIGN KEY (schedule) REFERENCES schedules (id) ON DELETE SET NULL",
    "DROP INDEX IF EXISTS executions_live_heartbeat_idx",
    "CREATE INDEX executions_live_heartbeat_idx ON executions (heartbeat_at) WHERE status IN ('running', 'paused')",
]


forwards = raw_sql_migration(ID, "platform", DESCRIPTION, STATEMENTS)
