from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete
from piccolo.columns.base import OnUpdate
from piccolo.columns.column_types import BigInt
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Text
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import UUID
from piccolo.columns.column_types import Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class User(Table, tablename="users", schema=None):
    id = UUID(
        default=UUID4(),
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name=None,
        secret=False,
    )


class Workspace(Table, tablename="workspaces", schema=None):
    id = UUID(
        default=UUID4(),
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name=None,
        secret=False,
    )


ID = "2026-11-22T02:49:50:056619"
VERSION = "1.38.0"
DESCRIPTION = ""

COLUMN_DEFAULTS = {
    "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree,
    "choices": None, "db_column_name": None, "secret": False,
}


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="billing", description=DESCRIPTION
    )

    def column(table_class_name, tablename, name, column_class, **params):
        """Piccolo"s add_column with its default parameters filled in (keeps this file readable)."""
        manager.add_column(
            table_class_name=table_class_name, tablename=tablename, column_name=name, db_column_name=name,
            column_class_name=column_class.__name__, column_class=column_class,
            params={**COLUMN_DEFAULTS, **params}, schema=None,
        )

    manager.add_table(
        class_name="LedgerTransfer",
        tablename="ledger_transfers",
        schema=None,
        columns=None,
    )

    manager.add_table(
        class_name="Wallet", tablename="wallets", schema=None, columns=None
    )

    column("LedgerTransfer", "ledger_transfers", "id", UUID, default=UUID4(), primary_key=True)
    column("LedgerTransfer", "ledger_transfers", "workspace", ForeignKey, references=Workspace, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, index=True)
    column("LedgerTransfer", "ledger_transfers", "key", Varchar, length=120, default="", unique=True)
    column("LedgerTransfer", "ledger_transfers", "debit", Varchar, length=16, default="")
    column("LedgerTransfer", "ledger_transfers", "credit", Varchar, length=16, default="")
    column("LedgerTransfer", "ledger_transfers", "amount", BigInt, default=0)
    column("LedgerTransfer", "ledger_transfers", "execution", UUID, default=None, null=True, index=True)
    column("LedgerTransfer", "ledger_transfers", "actor", ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, null=True)
    column("LedgerTransfer", "ledger_transfers", "memo", Text, default="")
    column("LedgerTransfer", "ledger_transfers", "created_at", Timestamptz, default=TimestamptzNow())
    column("Wallet", "wallets", "id", UUID, default=UUID4(), primary_key=True)
    column("Wallet", "wallets", "workspace", ForeignKey, references=Workspace, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, unique=True)
    column("Wallet", "wallets", "available", BigInt, default=0)
    column("Wallet", "wallets", "held", BigInt, default=0)
    column("Wallet", "wallets", "created_at", Timestamptz, default=TimestamptzNow())
    column("Wallet", "wallets", "updated_at", Timestamptz, default=TimestamptzNow())
    return manager

