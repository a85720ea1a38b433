"""Billing tables: one wallet per workspace and the append-only, double-entry ledger of credit transfers."""

from piccolo.columns import UUID, BigInt, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from agentledger.platform.tables import User, Workspace


class Wallet(Table, tablename="wallets"):
    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False, unique=True)
    available = BigInt(default=0)  # whole credits; CHECK >= 0 in the migration
    held = BigInt(default=0)  # reserved by runs that have not finished
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class LedgerTransfer(Table, tablename="ledger_transfers"):
    """One movement of ``amount`` credits from account ``debit`` to account ``credit``.

    Accounts per workspace: ``external`` (where grants and purchases come from), ``available``,
    ``held`` and ``spent``. Every transfer leaves the sum over all accounts at zero; ``key`` is unique,
    so a retried or duplicated message cannot move credits twice (``<execution>:reserve`` …)."""

    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False, index=True)
    key = Varchar(length=120, unique=True)
    debit = Varchar(length=16)
    credit = Varchar(length=16)
    amount = BigInt()  # > 0
    execution = UUID(null=True, default=None, index=True)
    actor = ForeignKey(User, null=True, default=None)
    memo = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
