"""What the ledger must never allow, enforced by PostgreSQL: negative balances, empty or self transfers,
unknown accounts."""

from agentledger.platform.migration_sql import raw_sql_migration

ID = "2026-11-22T02:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger constraints"

ACCOUNTS = "('external', 'available', 'held', 'spent')"
STATEMENTS = [
    "ALTER TABLE wallets ADD CONSTRAINT wallets_available_not_negative CHECK (available >= 0)",
    "ALTER TABLE wallets ADD CONSTRAINT wallets_held_not_negative CHECK (held >= 0)",
    "ALTER TABLE ledger_transfers ADD CONSTRAINT ledger_amount_positive CHECK (amount > 0)",
    f"ALTER TABLE ledger_transfers ADD CONSTRAINT ledger_debit_account CHECK (debit IN {ACCOUNTS})",
    f"ALTER TABLE ledger_transfers ADD CONSTRAINT ledger_credit_account CHECK (credit IN {ACCOUNTS})",
    "ALTER TABLE ledger_transfers ADD CONSTRAINT ledger_two_sides CHECK (debit <> credit)",
    "CREATE INDEX ledger_transfers_workspace_created_idx ON ledger_transfers (workspace, created_at DESC, id DESC)",
    # the ledger is append-only: history cannot be rewritten, even by a bug
    "CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'ledger_transfers is append-only'; END $$",
    "CREATE TRIGGER ledger_transfers_append_only BEFORE UPDATE OR DELETE ON ledger_transfers "
    "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()",
]


forwards = raw_sql_migration(ID, "billing", DESCRIPTION, STATEMENTS)
