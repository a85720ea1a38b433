"""One digest per person and ISO week (the claim is the unique pair); the Emails page lists a workspace's
mail newest first by keyset, and the sweep finds rows whose backoff is over."""

from agentledger.platform.migration_sql import raw_sql_migration

ID = "2026-12-04T18:00:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "digest claim unique per user and week; outbox list and sweep indexes"

STATEMENTS = [
    "ALTER TABLE digest_weeks ADD CONSTRAINT digest_weeks_user_week_key UNIQUE (\"user\", week)",
    "CREATE INDEX email_outbox_workspace_listing_idx ON email_outbox (workspace, created_at DESC, id DESC)",
    "CREATE INDEX email_outbox_unsent_idx ON email_outbox (created_at) WHERE sent_at IS NULL AND failed_at IS NULL",
    "UPDATE email_outbox SET message_id = '<legacy.' || id || '@agentledger>' WHERE message_id = ''",
]

forwards = raw_sql_migration(ID, "notifications", DESCRIPTION, STATEMENTS)
