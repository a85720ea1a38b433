"""Migrations written as SQL: constraints, indexes and triggers the column definitions cannot express.

Each such migration file is its ID, a description and its statements; this builds Piccolo's
``forwards``. Keep it stable: every raw migration in ``migrations/`` depends on it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder


def raw_sql_migration(migration_id: str, app_name: str, description: str,
                      statements: Sequence[str]) -> Callable[[], Awaitable[MigrationManager]]:
    async def forwards() -> MigrationManager:
        manager = MigrationManager(migration_id=migration_id, app_name=app_name, description=description)

        async def run() -> None:
            engine = engine_finder()
            for statement in statements:
                await engine.run_ddl(statement)

        manager.add_raw(run)
        return manager

    return forwards
