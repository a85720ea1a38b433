"""Sharing's rules the column definitions cannot express: a run is shared with a member once; the
visibility check (``executions.repository.visible``) looks shares up by member and run, and a member's
run list walks their shares newest run first (``run_created_at`` is the run's ``created_at``), so the
shared half of the list is a keyset walk like the own half; a run's links are listed by run. Expiry
must come after creation."""

from agentledger.platform.migration_sql import raw_sql_migration

ID = "2026-11-22T07:39:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sharing constraints and indexes"

STATEMENTS = [
    'ALTER TABLE execution_shares ADD CONSTRAINT execution_shares_once UNIQUE ("user", execution)',
    "CREATE INDEX execution_shares_execution_idx ON execution_shares (execution)",
    'CREATE INDEX execution_shares_user_run_idx ON execution_shares ("user", run_created_at DESC, execution DESC)',
    "CREATE INDEX share_links_execution_idx ON share_links (execution, created_at DESC)",
    "ALTER TABLE share_links ADD CONSTRAINT share_links_expiry CHECK (expires_at > created_at)",
]


forwards = raw_sql_migration(ID, "platform", DESCRIPTION, STATEMENTS)
