from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-22T06:35:45:410339"
VERSION = "1.38.0"
DESCRIPTION = ""

COLUMN_DEFAULTS = {
    "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree,
    "choices": None, "db_column_name": None, "secret": False,
}


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="platform", description=DESCRIPTION
    )


    def column(table_class_name, tablename, name, column_class, **params):
        """Piccolo's add_column with its default parameters filled in (keeps this file readable)."""
        manager.add_column(
            table_class_name=table_class_name, tablename=tablename, column_name=name, db_column_name=name,
            column_class_name=column_class.__name__, column_class=column_class,
            params={**COLUMN_DEFAULTS, **params}, schema=None,
        )

    column('ExecutionResult', 'execution_results', 'apply_started_at', Timestamptz, default=None, null=True)
    return manager

