"""Constraints the column definitions cannot say: one membership per person and workspace, known roles,
one account per OIDC identity."""

from agentledger.platform.migration_sql import raw_sql_migration

ID = "2026-11-22T02:10:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "people constraints"

STATEMENTS = [
    "ALTER TABLE memberships ADD CONSTRAINT memberships_workspace_user_key UNIQUE (workspace, \"user\")",
    "ALTER TABLE memberships ADD CONSTRAINT memberships_role_check CHECK (role IN ('member', 'admin'))",
    "ALTER TABLE invitations ADD CONSTRAINT invitations_role_check CHECK (role IN ('member', 'admin'))",
    "CREATE UNIQUE INDEX users_oidc_identity_key ON users (oidc_issuer, oidc_subject) "
    "WHERE oidc_subject IS NOT NULL",
    "CREATE INDEX invitations_workspace_email_idx ON invitations (workspace, email)",
    "CREATE INDEX api_tokens_workspace_user_idx ON api_tokens (workspace, \"user\")",
]


forwards = raw_sql_migration(ID, "platform", DESCRIPTION, STATEMENTS)
