"""The ledger names a run's agent and the member who started it on each of the run's movements, so the
credit audit groups the books by them alone (the next migration fills in the movements made before)."""

from piccolo.columns.column_types import UUID, Varchar

from agentledger.platform.migration_sql import column_migration

ID = "2026-12-04T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger: agent and member of each run's movement"



forwards = column_migration(
    ID, "billing",
    ("LedgerTransfer", "ledger_transfers", "agent", Varchar, {"length": 64, "default": None, "null": True}),
    ("LedgerTransfer", "ledger_transfers", "member", UUID, {"default": None, "null": True}),
)
