from piccolo.columns.column_types import Integer

from agentledger.platform.migration_sql import column_migration

ID = "2026-11-22T06:30:54:961250"
VERSION = "1.38.0"
DESCRIPTION = ""

forwards = column_migration(ID, "platform", ('Execution', 'executions', 'lost_workers', Integer, {'default': 0}))
