"""Retention: each run's tombstone columns (an archived run keeps its row, its record goes to a pack in
object storage), each workspace's policy, restore requests and retention alerts."""

from functools import partial

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import UUID, BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

from agentledger.platform.migration_sql import add_column


class User(Table, tablename="users", schema=None):
    id = UUID(default=UUID4(), null=False, primary_key=True, unique=False, index=False,
              index_method=IndexMethod.btree, choices=None, db_column_name=None, secret=False)


class Workspace(Table, tablename="workspaces", schema=None):
    id = UUID(default=UUID4(), null=False, primary_key=True, unique=False, index=False,
              index_method=IndexMethod.btree, choices=None, db_column_name=None, secret=False)


ID = "2026-12-05T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "retention: tombstone columns, policies, restore requests, alerts"
CASCADE = {"on_delete": OnDelete.cascade, "on_update": OnUpdate.cascade, "target_column": None}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="platform", description=DESCRIPTION)
    column = partial(add_column, manager)

    runs = "Execution", "executions"
    column(*runs, "archived_at", Timestamptz, default=None, null=True)
    column(*runs, "archive_key", Varchar, length=300, default=None, null=True)
    column(*runs, "archive_offset", BigInt, default=None, null=True)
    column(*runs, "archive_size", BigInt, default=None, null=True)
    column(*runs, "archive_sha256", Varchar, length=64, default=None, null=True)
    column(*runs, "archive_files", Integer, default=0)
    column(*runs, "restored_at", Timestamptz, default=None, null=True)
    column(*runs, "files_removed_at", Timestamptz, default=None, null=True)

    table = "RetentionPolicy", "retention_policies"
    manager.add_table(class_name=table[0], tablename=table[1], schema=None, columns=None)
    column(*table, "id", UUID, default=UUID4(), primary_key=True)
    column(*table, "workspace", ForeignKey, references=Workspace, unique=True, **CASCADE)
    for name, days in (("completed_days", 365), ("failed_days", 90), ("files_days", 90), ("downloads_days", 30),
                       ("restore_grace_days", 7)):
        column(*table, name, Integer, default=days)
    column(*table, "auto_approve", Boolean, default=False)
    column(*table, "updated_by", ForeignKey, references=User, null=True, default=None, **CASCADE)
    column(*table, "updated_at", Timestamptz, default=TimestamptzNow())

    table = "RestoreRequest", "restore_requests"
    manager.add_table(class_name=table[0], tablename=table[1], schema=None, columns=None)
    column(*table, "id", UUID, default=UUID4(), primary_key=True)
    column(*table, "workspace", ForeignKey, references=Workspace, **CASCADE)
    column(*table, "execution", UUID, default=UUID4())
    column(*table, "agent", Varchar, length=64, default="")
    column(*table, "requested_by", ForeignKey, references=User, null=True, default=None, **CASCADE)
    column(*table, "status", Varchar, length=12, default="pending")
    column(*table, "error", Text, default=None, null=True)
    column(*table, "decided_by", ForeignKey, references=User, null=True, default=None, **CASCADE)
    column(*table, "decided_at", Timestamptz, default=None, null=True)
    column(*table, "finished_at", Timestamptz, default=None, null=True)
    column(*table, "created_at", Timestamptz, default=TimestamptzNow())

    table = "RetentionAlert", "retention_alerts"
    manager.add_table(class_name=table[0], tablename=table[1], schema=None, columns=None)
    column(*table, "id", UUID, default=UUID4(), primary_key=True)
    column(*table, "workspace", ForeignKey, references=Workspace, **CASCADE)
    column(*table, "kind", Varchar, length=24, default="")
    column(*table, "message", Text, default="")
    column(*table, "runs", Integer, default=0)
    column(*table, "dismissed_at", Timestamptz, default=None, null=True)
    column(*table, "created_at", Timestamptz, default=TimestamptzNow())
    return manager
