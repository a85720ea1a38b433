"""Password resets: a "forgot password" link's digest, its expiry and when it was used (once)."""

from functools import partial

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import UUID, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

from agentledger.platform.migration_sql import add_column


class User(Table, tablename="users", schema=None):
    id = UUID(
        default=UUID4(),
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name=None,
        secret=False,
    )


ID = "2026-12-02T13:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "password_resets"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="platform", description=DESCRIPTION)
    column = partial(add_column, manager)

    manager.add_table(class_name="PasswordReset", tablename="password_resets", schema=None, columns=None)

    column('PasswordReset', 'password_resets', 'id', UUID, default=UUID4(), primary_key=True)
    column('PasswordReset', 'password_resets', 'user', ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, index=True)
    column('PasswordReset', 'password_resets', 'token_hash', Varchar, length=64, default='', unique=True)
    column('PasswordReset', 'password_resets', 'expires_at', Timestamptz, default=TimestamptzNow())
    column('PasswordReset', 'password_resets', 'used_at', Timestamptz, default=None, null=True)
    column('PasswordReset', 'password_resets', 'created_at', Timestamptz, default=TimestamptzNow())
    return manager
