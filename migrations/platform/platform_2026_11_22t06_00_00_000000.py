"""Indexes for the run list's filters (``platform/executions/listing.py``), so that a filtered page is a
keyset walk over matching rows only. Without them a filter that matches few of a workspace's runs (the
Running tab when a handful of runs are live, a member who started five runs, an agent rarely run there)
walks the workspace's whole history on ``executions_workspace_created_idx`` to fill one page: 100-150 ms
at 100,000 runs, and growing with the workspace. ``bench/history.py`` measures each case.

- status: the status tabs and ``?status=``; a rare status is read from this index (sorted after, since
  the rows are few), a common one still walks ``executions_workspace_created_idx``.
- started_by: a member's own list (members see only their runs) and ``?started_by=``; equality on both
  leading columns keeps it a keyset walk in list order.
- agent: ``?agent=`` and the agent picker, likewise.

Each costs one more index entry per insert and per status change; status changes were already not HOT
updates (status is in the predicate of ``executions_live_heartbeat_idx``)."""

from agentledger.platform.migration_sql import raw_sql_migration

ID = "2026-11-22T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "executions list filter indexes (status, started_by, agent)"

STATEMENTS = [
    "CREATE INDEX executions_workspace_status_created_idx ON executions (workspace, status, created_at DESC, id DESC)",
    "CREATE INDEX executions_workspace_started_by_created_idx "
    "ON executions (workspace, started_by, created_at DESC, id DESC)",
    "CREATE INDEX executions_workspace_agent_created_idx ON executions (workspace, agent, created_at DESC, id DESC)",
]


forwards = raw_sql_migration(ID, "platform", DESCRIPTION, STATEMENTS)
