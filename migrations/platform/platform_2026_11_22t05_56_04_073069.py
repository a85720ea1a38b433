from piccolo.columns.column_types import Timestamptz

from agentledger.platform.migration_sql import column_migration

ID = "2026-11-22T05:56:04:073069"
VERSION = "1.38.0"
DESCRIPTION = ""

forwards = column_migration(ID, "platform", ('Execution', 'executions', 'deleted_at', Timestamptz, {'default': None, 'null': True}))
