from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete
from piccolo.columns.base import OnUpdate
from piccolo.columns.column_types import BigInt
from piccolo.columns.column_types import Boolean
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import JSONB
from piccolo.columns.column_types import Serial
from piccolo.columns.column_types import Text
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import UUID
from piccolo.columns.column_types import Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class AgentVersion(Table, tablename="agent_versions", schema=None):
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


ID = "2026-11-22T02:50:57:104755"
VERSION = "1.38.0"
DESCRIPTION = ""

COLUMN_DEFAULTS = {
    "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree,
    "choices": None, "db_column_name": None, "secret": False,
}


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="platform", description=DESCRIPTION
    )

    def column(table_class_name, tablename, name, column_class, **params):
        """Piccolo"s add_column with its default parameters filled in (keeps this file readable)."""
        manager.add_column(
            table_class_name=table_class_name, tablename=tablename, column_name=name, db_column_name=name,
            column_class_name=column_class.__name__, column_class=column_class,
            params={**COLUMN_DEFAULTS, **params}, schema=None,
        )

    manager.add_table(
        class_name="ExecutionLog",
        tablename="execution_logs",
        schema=None,
        columns=None,
    )

    manager.add_table(
        class_name="ExecutionStep",
        tablename="execution_steps",
        schema=None,
        columns=None,
    )

    manager.add_table(
        class_name="ExecutionItem",
        tablename="execution_items",
        schema=None,
        columns=None,
    )

    manager.add_table(
        class_name="Execution", tablename="executions", schema=None, columns=None
    )

    manager.add_table(
        class_name="AgentVersion",
        tablename="agent_versions",
        schema=None,
        columns=None,
    )

    column("ExecutionLog", "execution_logs", "id", Serial, primary_key=True)
    column("ExecutionLog", "execution_logs", "execution", UUID, default=UUID4(), index=True)
    column("ExecutionLog", "execution_logs", "at", Timestamptz, default=TimestamptzNow())
    column("ExecutionLog", "execution_logs", "level", Varchar, length=8, default="")
    column("ExecutionLog", "execution_logs", "message", Text, default="")
    column("ExecutionStep", "execution_steps", "id", UUID, default=UUID4(), primary_key=True)
    column("ExecutionStep", "execution_steps", "execution", UUID, default=UUID4())
    column("ExecutionStep", "execution_steps", "position", Integer, default=0)
    column("ExecutionStep", "execution_steps", "attempt", Integer, default=1)
    column("ExecutionStep", "execution_steps", "name", Varchar, length=120, default="")
    column("ExecutionStep", "execution_steps", "status", Varchar, length=16, default="")
    column("ExecutionStep", "execution_steps", "retries", Integer, default=0)
    column("ExecutionStep", "execution_steps", "input", JSONB, default=None, null=True)
    column("ExecutionStep", "execution_steps", "output", JSONB, default=None, null=True)
    column("ExecutionStep", "execution_steps", "error", Text, default=None, null=True)
    column("ExecutionStep", "execution_steps", "started_at", Timestamptz, default=TimestamptzNow())
    column("ExecutionStep", "execution_steps", "finished_at", Timestamptz, default=None, null=True)
    column("ExecutionStep", "execution_steps", "duration_ms", Integer, default=None, null=True)
    column("ExecutionItem", "execution_items", "id", UUID, default=UUID4(), primary_key=True)
    column("ExecutionItem", "execution_items", "execution", UUID, default=UUID4())
    column("ExecutionItem", "execution_items", "key", Varchar, length=500, default="")
    column("ExecutionItem", "execution_items", "status", Varchar, length=8, default="")
    column("ExecutionItem", "execution_items", "reason", Text, default=None, null=True)
    column("ExecutionItem", "execution_items", "detail", JSONB, default=None, null=True)
    column("ExecutionItem", "execution_items", "at", Timestamptz, default=TimestamptzNow())
    column("Execution", "executions", "id", UUID, default=UUID4(), primary_key=True)
    column("Execution", "executions", "workspace", ForeignKey, references=Workspace, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None)
    column("Execution", "executions", "started_by", ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, null=True)
    column("Execution", "executions", "triggered_by", Varchar, length=16, default="")
    column("Execution", "executions", "agent", Varchar, length=64, default="")
    column("Execution", "executions", "agent_version", ForeignKey, references=AgentVersion, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, null=True)
    column("Execution", "executions", "inputs", JSONB, default="{}")
    column("Execution", "executions", "mode", Varchar, length=8, default="live")
    column("Execution", "executions", "status", Varchar, length=20, default="queued")
    column("Execution", "executions", "scope", Integer, default=1)
    column("Execution", "executions", "items_processed", Integer, default=0)
    column("Execution", "executions", "items_failed", Integer, default=0)
    column("Execution", "executions", "estimate", BigInt, default=0)
    column("Execution", "executions", "credits_reserved", BigInt, default=0)
    column("Execution", "executions", "credits_charged", BigInt, default=0)
    column("Execution", "executions", "credits_refunded", BigInt, default=0)
    column("Execution", "executions", "error_message", Text, default=None, null=True)
    column("Execution", "executions", "error_traceback", Text, default=None, null=True)
    column("Execution", "executions", "rerun_of", UUID, default=None, null=True)
    column("Execution", "executions", "reuse_steps", Boolean, default=False)
    column("Execution", "executions", "cancel_requested", Boolean, default=False)
    column("Execution", "executions", "pause_requested", Boolean, default=False)
    column("Execution", "executions", "attempts", Integer, default=0)
    column("Execution", "executions", "time_limit_seconds", Integer, default=600)
    column("Execution", "executions", "queued_at", Timestamptz, default=TimestamptzNow())
    column("Execution", "executions", "started_at", Timestamptz, default=None, null=True)
    column("Execution", "executions", "finished_at", Timestamptz, default=None, null=True)
    column("Execution", "executions", "heartbeat_at", Timestamptz, default=None, null=True)
    column("Execution", "executions", "created_at", Timestamptz, default=TimestamptzNow())
    column("AgentVersion", "agent_versions", "id", UUID, default=UUID4(), primary_key=True)
    column("AgentVersion", "agent_versions", "agent", Varchar, length=64, default="")
    column("AgentVersion", "agent_versions", "label", Varchar, length=32, default="")
    column("AgentVersion", "agent_versions", "sha256", Varchar, length=64, default="")
    column("AgentVersion", "agent_versions", "source", Text, default="")
    column("AgentVersion", "agent_versions", "created_at", Timestamptz, default=TimestamptzNow())
    return manager

