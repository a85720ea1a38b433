"""Indexes the reaper can use: live runs by heartbeat (all three live states), queued runs by age."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T03:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reaper indexes"

STATEMENTS = [
    "DROP INDEX IF EXISTS executions_live_heartbeat_idx",
    "CREATE INDEX executions_live_heartbeat_idx ON executions (heartbeat_at) "
    "WHERE status IN ('running', 'paused', 'awaiting_review')",
    "CREATE INDEX executions_queued_idx ON executions (queued_at) WHERE status = 'queued'",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="platform", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
