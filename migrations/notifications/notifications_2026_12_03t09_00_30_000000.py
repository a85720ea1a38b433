"""The outbox's dedupe key is unique (``notifications.repository.insert`` answers ON CONFLICT DO NOTHING,
so an event emitted twice queues one email) and never empty. Rows queued before event kinds existed get
their event from their category and a key of their own id, so they stay unique and are never folded."""

from agentledger.platform.migration_sql import raw_sql_migration

ID = "2026-12-03T09:00:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "outbox dedupe key: backfill, unique, never empty"

STATEMENTS = [
    "UPDATE email_outbox SET event = CASE kind WHEN 'invitation' THEN 'invited' ELSE kind END "
    "WHERE event = ''",
    "UPDATE email_outbox SET dedupe_key = 'legacy:' || id WHERE dedupe_key = ''",
    "ALTER TABLE email_outbox ADD CONSTRAINT email_outbox_dedupe_key_key UNIQUE (dedupe_key)",
    "ALTER TABLE email_outbox ADD CONSTRAINT email_outbox_dedupe_key_set CHECK (dedupe_key <> '')",
]

forwards = raw_sql_migration(ID, "notifications", DESCRIPTION, STATEMENTS)
