"""Constraints the column definitions cannot say: one membership per person and workspace, known roles,
one account per OIDC identity."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

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


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="platform", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
