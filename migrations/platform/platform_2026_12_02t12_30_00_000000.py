from piccolo.columns.column_types import BigInt, Boolean, Integer, Timestamptz

from agentledger.platform.migration_sql import column_migration

ID = "2026-12-02T12:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "run control: paused time, the failed step, skipping processed items"

forwards = column_migration(
    ID, "platform",
    ('Execution', 'executions', 'paused_at', Timestamptz, {'default': None, 'null': True}),
    ('Execution', 'executions', 'paused_ms', BigInt, {'default': 0}),
    ('Execution', 'executions', 'failed_step', Integer, {'default': None, 'null': True}),
    ('Execution', 'executions', 'skip_processed', Boolean, {'default': False}),
)
