"""Notifications grow up: the outbox keeps each message's Message-ID and headers, its backoff and its
failure; each address gets its preferences; the weekly digest is claimed once per person and ISO week."""

from functools import partial

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import JSONB, UUID, BigInt, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

from agentledger.platform.migration_sql import add_column


class User(Table, tablename="users", schema=None):
    id = UUID(default=UUID4(), null=False, primary_key=True, unique=False, index=False,
              index_method=IndexMethod.btree, choices=None, db_column_name=None, secret=False)


ID = "2026-12-04T18:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notifications: outbox delivery facts, preferences, digest weeks"
CASCADE = {"on_delete": OnDelete.cascade, "on_update": OnUpdate.cascade, "target_column": None}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)
    column = partial(add_column, manager)

    column("EmailOutbox", "email_outbox", "message_id", Varchar, length=255, default="")
    column("EmailOutbox", "email_outbox", "headers", JSONB, default="{}")
    column("EmailOutbox", "email_outbox", "next_attempt_at", Timestamptz, default=None, null=True)
    column("EmailOutbox", "email_outbox", "failed_at", Timestamptz, default=None, null=True)

    table = "NotificationPreference", "notification_preferences"
    manager.add_table(class_name=table[0], tablename=table[1], schema=None, columns=None)
    column(*table, "id", UUID, default=UUID4(), primary_key=True)
    column(*table, "email", Varchar, length=254, default="", unique=True)
    for name, default in (("run_finished", True), ("run_failed", True), ("credit_threshold", False),
                          ("low_balance", True), ("purchase_receipt", True), ("weekly_digest", True),
                          ("review_requested", True), ("run_shared", True), ("invitation", True)):
        column(*table, name, Boolean, default=default)
    column(*table, "run_finished_minutes", Integer, default=5)
    column(*table, "credit_threshold_credits", BigInt, default=None, null=True)
    column(*table, "timezone", Varchar, length=64, default=None, null=True)
    column(*table, "updated_at", Timestamptz, default=TimestamptzNow())

    table = "DigestWeek", "digest_weeks"
    manager.add_table(class_name=table[0], tablename=table[1], schema=None, columns=None)
    column(*table, "id", UUID, default=UUID4(), primary_key=True)
    column(*table, "user", ForeignKey, references=User, **CASCADE)
    column(*table, "week", Varchar, length=10, default="")
    column(*table, "sent", Boolean, default=False)
    column(*table, "created_at", Timestamptz, default=TimestamptzNow())
    return manager
