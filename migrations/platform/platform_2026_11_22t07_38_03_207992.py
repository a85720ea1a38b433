from functools import partial

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

from agentledger.platform.migration_sql import add_column


class Execution(Table, tablename="executions", schema=None):
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


class Workspace(Table, tablename="workspaces", schema=None):
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


ID = "2026-11-22T07:38:03:207992"
VERSION = "1.38.0"
DESCRIPTION = "sharing: execution_shares, share_links"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="platform", description=DESCRIPTION
    )
    column = partial(add_column, manager)

    manager.add_table(
        class_name="ShareLink", tablename="share_links", schema=None, columns=None
    )

    manager.add_table(
        class_name="ExecutionShare",
        tablename="execution_shares",
        schema=None,
        columns=None,
    )

    column('ShareLink', 'share_links', 'id', UUID, default=UUID4(), primary_key=True)
    column('ShareLink', 'share_links', 'workspace', ForeignKey, references=Workspace, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None)
    column('ShareLink', 'share_links', 'execution', ForeignKey, references=Execution, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None)
    column('ShareLink', 'share_links', 'token_hash', Varchar, length=64, default='', unique=True)
    column('ShareLink', 'share_links', 'prefix', Varchar, length=12, default='')
    column('ShareLink', 'share_links', 'password_hash', Text, default='')
    column('ShareLink', 'share_links', 'created_by', ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, null=True)
    column('ShareLink', 'share_links', 'created_at', Timestamptz, default=TimestamptzNow())
    column('ShareLink', 'share_links', 'expires_at', Timestamptz, default=TimestamptzNow())
    column('ShareLink', 'share_links', 'revoked_at', Timestamptz, default=None, null=True)
    column('ShareLink', 'share_links', 'opened_at', Timestamptz, default=None, null=True)
    column('ShareLink', 'share_links', 'opens', Integer, default=0)
    column('ExecutionShare', 'execution_shares', 'id', UUID, default=UUID4(), primary_key=True)
    column('ExecutionShare', 'execution_shares', 'workspace', ForeignKey, references=Workspace, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None)
    column('ExecutionShare', 'execution_shares', 'execution', ForeignKey, references=Execution, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None)
    column('ExecutionShare', 'execution_shares', 'user', ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None)
    column('ExecutionShare', 'execution_shares', 'shared_by', ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, null=True)
    column('ExecutionShare', 'execution_shares', 'created_at', Timestamptz, default=TimestamptzNow())
    column('ExecutionShare', 'execution_shares', 'run_created_at', Timestamptz, default=TimestamptzNow())
    return manager

