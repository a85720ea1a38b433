"""Piccolo app for the platform tables (people, workspaces, tokens, audit)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from agentledger.platform import tables
from agentledger.platform.executions import tables as execution_tables

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

APP_CONFIG = AppConfig(
    app_name="platform",
    migrations_folder_path=MIGRATIONS / "platform",
    table_classes=[
        tables.User,
        tables.Workspace,
        tables.Membership,
        tables.Invitation,
        tables.ApiToken,
        tables.AuditEvent,
        execution_tables.AgentVersion,
        execution_tables.Execution,
        execution_tables.ExecutionStep,
        execution_tables.ExecutionLog,
        execution_tables.ExecutionItem,
    ],
)
