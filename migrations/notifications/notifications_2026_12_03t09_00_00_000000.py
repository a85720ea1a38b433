from piccolo.columns.column_types import Varchar

from agentledger.platform.migration_sql import column_migration

ID = "2026-12-03T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "outbox: the event kind behind each email and its dedupe key"

forwards = column_migration(
    ID, "notifications",
    ('EmailOutbox', 'email_outbox', 'event', Varchar, {'length': 40, 'default': ''}),
    ('EmailOutbox', 'email_outbox', 'dedupe_key', Varchar, {'length': 400, 'default': ''}),
)
