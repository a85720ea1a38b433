"""Shared pieces of migration files: SQL-only migrations (constraints, indexes and triggers the column
definitions cannot express), and Piccolo's ``add_column`` with its defaults filled in, so a generated
migration that adds a column reads as one line. Keep it stable: migrations in ``migrations/`` depend on it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

COLUMN_DEFAULTS = {
    "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree,
    "choices": None, "db_column_name": None, "secret": False,
}


def add_column(manager: MigrationManager, table_class_name: str, tablename: str, name: str, column_class: Any,
               **params: Any) -> None:
    """Piccolo's ``add_column`` with its default parameters filled in."""
    manager.add_column(
        table_class_name=table_class_name, tablename=tablename, column_name=name, db_column_name=name,
        column_class_name=column_class.__name__, column_class=column_class,
        params={**COLUMN_DEFAULTS, **params}, schema=None,
    )


def column_migration(migration_id: str, app_name: str,
                     *columns: tuple[Any, ...]) -> Callable[[], Awaitable[MigrationManager]]:
    """A migration that adds columns: each ``(table_class_name, tablename, name, column_class, params)``."""
    async def forwards() -> MigrationManager:
        manager = MigrationManager(migration_id=migration_id, app_name=app_name, description="")
        for table_class_name, tablename, name, column_class, column_params in columns:
            add_column(manager, table_class_name, tablename, name, column_class, **column_params)
        return manager

    return forwards


def raw_sql_migration(migration_id: str, app_name: str, description: str, statements: Sequence[str], *,
                      in_transaction: bool = True) -> Callable[[], Awaitable[MigrationManager]]:
    """A migration of SQL statements, run in order, in one transaction; ``in_transaction=False`` runs each
    on its own, for what PostgreSQL will not run in a transaction (``CREATE INDEX CONCURRENTLY``: an index on
    a big table built while the old version keeps writing to it). Such statements must be safe to run
    again, since a crash between them leaves the migration unrecorded."""
    async def forwards() -> MigrationManager:
        manager = MigrationManager(migration_id=migration_id, app_name=app_name, description=description,
                                   wrap_in_transaction=in_transaction)

        async def run() -> None:
            engine = engine_finder()
            for statement in statements:
                await engine.run_ddl(statement)

        manager.add_raw(run)
        return manager

    return forwards
