"""Movements made before the ledger named agent and member get them from their runs, once; and the
index the credit audit reads (a run's settlements, by workspace and time, covering what it sums)."""

from agentledger.platform.migration_sql import raw_sql_migration

ID = "2026-12-04T16:00:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger: fill in agent and member; the usage index"

STATEMENTS = [
    # the ledger refuses UPDATE (its append-only trigger); this one fill-in of new columns is the exception
    "ALTER TABLE ledger_transfers DISABLE TRIGGER ledger_transfers_append_only",
    "UPDATE ledger_transfers t SET agent = e.agent, member = e.started_by FROM executions e WHERE e.id = t.execution",
    "ALTER TABLE ledger_transfers ENABLE TRIGGER ledger_transfers_append_only",
    "CREATE INDEX ledger_transfers_usage_idx ON ledger_transfers (workspace, created_at) "
    "INCLUDE (credit, amount, agent, member, execution) WHERE debit = 'held'",
]

forwards = raw_sql_migration(ID, "billing", DESCRIPTION, STATEMENTS)
