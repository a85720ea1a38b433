from functools import partial

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import (
    JSONB,
    UUID,
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
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


ID = "2026-11-22T05:02:18:377149"
VERSION = "1.38.0"
DESCRIPTION = ""



async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="platform", description=DESCRIPTION
    )

    column = partial(add_column, manager)

    manager.add_table(
        class_name="Connector", tablename="connectors", schema=None, columns=None
    )

    manager.add_table(
        class_name="ResultRevision",
        tablename="result_revisions",
        schema=None,
        columns=None,
    )

    manager.add_table(
        class_name="ExecutionReview",
        tablename="execution_reviews",
        schema=None,
        columns=None,
    )

    manager.add_table(
        class_name="Schedule", tablename="schedules", schema=None, columns=None
    )

    manager.add_table(
        class_name="ExecutionResult",
        tablename="execution_results",
        schema=None,
        columns=None,
    )

    column('Connector', 'connectors', 'id', UUID, default=UUID4(), primary_key=True)
    column('Connector', 'connectors', 'workspace', ForeignKey, references=Workspace, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None)
    column('Connector', 'connectors', 'name', Varchar, length=80, default='')
    column('Connector', 'connectors', 'kind', Varchar, length=16, default='http-json')
    column('Connector', 'connectors', 'base_url', Text, default='')
    column('Connector', 'connectors', 'secret_ciphertext', Text, default='')
    column('Connector', 'connectors', 'secret_hint', Varchar, length=8, default='')
    column('Connector', 'connectors', 'created_by', ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, null=True)
    column('Connector', 'connectors', 'created_at', Timestamptz, default=TimestamptzNow())
    column('ResultRevision', 'result_revisions', 'id', UUID, default=UUID4(), primary_key=True)
    column('ResultRevision', 'result_revisions', 'result', UUID, default=UUID4())
    column('ResultRevision', 'result_revisions', 'version', Integer, default=0)
    column('ResultRevision', 'result_revisions', 'text', Text, default='')
    column('ResultRevision', 'result_revisions', 'edited_by', ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, null=True)
    column('ResultRevision', 'result_revisions', 'created_at', Timestamptz, default=TimestamptzNow())
    column('ExecutionReview', 'execution_reviews', 'id', UUID, default=UUID4(), primary_key=True)
    column('ExecutionReview', 'execution_reviews', 'workspace', ForeignKey, references=Workspace, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None)
    column('ExecutionReview', 'execution_reviews', 'execution', UUID, default=UUID4())
    column('ExecutionReview', 'execution_reviews', 'step', Integer, default=0)
    column('ExecutionReview', 'execution_reviews', 'title', Varchar, length=200, default='')
    column('ExecutionReview', 'execution_reviews', 'summary', Text, default=None, null=True)
    column('ExecutionReview', 'execution_reviews', 'status', Varchar, length=16, default='pending')
    column('ExecutionReview', 'execution_reviews', 'comment', Text, default=None, null=True)
    column('ExecutionReview', 'execution_reviews', 'decided_by', ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, null=True)
    column('ExecutionReview', 'execution_reviews', 'decided_at', Timestamptz, default=None, null=True)
    column('ExecutionReview', 'execution_reviews', 'created_at', Timestamptz, default=TimestamptzNow())
    column('Schedule', 'schedules', 'id', UUID, default=UUID4(), primary_key=True)
    column('Schedule', 'schedules', 'workspace', ForeignKey, references=Workspace, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None)
    column('Schedule', 'schedules', 'created_by', ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, null=True)
    column('Schedule', 'schedules', 'name', Varchar, length=120, default='')
    column('Schedule', 'schedules', 'agent', Varchar, length=64, default='')
    column('Schedule', 'schedules', 'inputs', JSONB, default='{}')
    column('Schedule', 'schedules', 'scope', Integer, default=None, null=True)
    column('Schedule', 'schedules', 'mode', Varchar, length=8, default='live')
    column('Schedule', 'schedules', 'cron', Varchar, length=120, default='')
    column('Schedule', 'schedules', 'enabled', Boolean, default=True)
    column('Schedule', 'schedules', 'next_run_at', Timestamptz, default=None, null=True)
    column('Schedule', 'schedules', 'last_run_at', Timestamptz, default=None, null=True)
    column('Schedule', 'schedules', 'last_execution', UUID, default=None, null=True)
    column('Schedule', 'schedules', 'created_at', Timestamptz, default=TimestamptzNow())
    column('Schedule', 'schedules', 'updated_at', Timestamptz, default=TimestamptzNow())
    column('ExecutionResult', 'execution_results', 'id', UUID, default=UUID4(), primary_key=True)
    column('ExecutionResult', 'execution_results', 'seq', BigSerial)
    column('ExecutionResult', 'execution_results', 'workspace', ForeignKey, references=Workspace, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None)
    column('ExecutionResult', 'execution_results', 'execution', UUID, default=UUID4())
    column('ExecutionResult', 'execution_results', 'step', Integer, default=None, null=True)
    column('ExecutionResult', 'execution_results', 'kind', Varchar, length=16, default='')
    column('ExecutionResult', 'execution_results', 'title', Text, default=None, null=True)
    column('ExecutionResult', 'execution_results', 'target', Text, default=None, null=True)
    column('ExecutionResult', 'execution_results', 'field', Varchar, length=64, default=None, null=True)
    column('ExecutionResult', 'execution_results', 'priority', Varchar, length=8, default=None, null=True)
    column('ExecutionResult', 'execution_results', 'status', Varchar, length=16, default=None, null=True)
    column('ExecutionResult', 'execution_results', 'body', JSONB, default='{}')
    column('ExecutionResult', 'execution_results', 'decided_by', ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, null=True)
    column('ExecutionResult', 'execution_results', 'decided_at', Timestamptz, default=None, null=True)
    column('ExecutionResult', 'execution_results', 'applied_by', ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, null=True)
    column('ExecutionResult', 'execution_results', 'applied_at', Timestamptz, default=None, null=True)
    column('ExecutionResult', 'execution_results', 'apply_error', Text, default=None, null=True)
    column('ExecutionResult', 'execution_results', 'created_at', Timestamptz, default=TimestamptzNow())
    column('ExecutionResult', 'execution_results', 'updated_at', Timestamptz, default=TimestamptzNow())
    column('Execution', 'executions', 'awaited_review', Boolean, default=False)
    column('Execution', 'executions', 'schedule', UUID, default=None, null=True)
    return manager

