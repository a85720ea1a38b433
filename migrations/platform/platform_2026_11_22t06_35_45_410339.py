from piccolo.columns.column_types import Timestamptz

from agentledger.platform.migration_sql import column_migration

ID = "2026-11-22T06:35:45:410339"
VERSION = "1.38.0"
DESCRIPTION = ""

forwards = column_migration(ID, "platform", ('ExecutionResult', 'execution_results', 'apply_started_at', Timestamptz, {'default': None, 'null': True}))
