"""At most one live (not accepted, not revoked) invitation per email and workspace, so two admins
inviting the same person at once cannot leave two working links."""

from agentledger.platform.migration_sql import raw_sql_migration

ID = "2026-11-22T03:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one live invitation per email"

STATEMENTS = [
    "CREATE UNIQUE INDEX invitations_live_email_key ON invitations (workspace, email) "
    "WHERE accepted_at IS NULL AND revoked_at IS NULL",
]


forwards = raw_sql_migration(ID, "platform", DESCRIPTION, STATEMENTS)
