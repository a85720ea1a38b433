from piccolo.columns.column_types import UUID

from agentledger.platform.migration_sql import column_migration

ID = "2026-12-02T13:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the API token that started a run"

forwards = column_migration(ID, "platform", ('Execution', 'executions', 'trigger_token', UUID,
                                             {'default': None, 'null': True}))
