"""At most one live (not accepted, not revoked) invitation per email and workspace, so two admins
inviting the same person at once cannot leave two working links."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T03:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one live invitation per email"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="platform", description=DESCRIPTION)

    async def run():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX invitations_live_email_key ON invitations (workspace, email) "
            "WHERE accepted_at IS NULL AND revoked_at IS NULL"
        )

    manager.add_raw(run)
    return manager
