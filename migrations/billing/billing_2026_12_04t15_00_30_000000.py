"""What buying credits must never allow, enforced by PostgreSQL: a negative debt, an account the ledger does
not know (``owed`` joins them: a clawback the wallet could not cover), a purchase of nothing; and the
indexes the purchase list and the inbox's problems read by."""

from agentledger.platform.migration_sql import raw_sql_migration

ID = "2026-12-04T15:00:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "buying credits: constraints and indexes"

ACCOUNTS = "('external', 'available', 'held', 'spent', 'owed')"
STATEMENTS = [
    "ALTER TABLE wallets ADD CONSTRAINT wallets_owed_not_negative CHECK (owed >= 0)",
    "ALTER TABLE ledger_transfers DROP CONSTRAINT ledger_debit_account",
    "ALTER TABLE ledger_transfers DROP CONSTRAINT ledger_credit_account",
    f"ALTER TABLE ledger_transfers ADD CONSTRAINT ledger_debit_account CHECK (debit IN {ACCOUNTS})",
    f"ALTER TABLE ledger_transfers ADD CONSTRAINT ledger_credit_account CHECK (credit IN {ACCOUNTS})",
    "ALTER TABLE purchases ADD CONSTRAINT purchases_something_bought CHECK (credits > 0 AND amount > 0)",
    "ALTER TABLE purchases ADD CONSTRAINT purchases_granted_within_pack "
    "CHECK (credits_granted >= 0 AND credits_granted <= credits)",
    "ALTER TABLE purchases ADD CONSTRAINT purchases_outcome CHECK (outcome IN ('pending', 'paid', 'failed'))",
    "CREATE INDEX purchases_workspace_created_idx ON purchases (workspace, created_at DESC, id DESC)",
    "CREATE INDEX stripe_events_workspace_received_idx ON stripe_events (workspace, received_at DESC)",
]

forwards = raw_sql_migration(ID, "billing", DESCRIPTION, STATEMENTS)
