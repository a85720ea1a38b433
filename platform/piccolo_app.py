"""Piccolo app for the platform tables (people, workspaces, tokens, audit, executions, results, connectors, schedules, sharing)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from agentledger.platform import tables
from agentledger.platform.connectors.tables import Connector
from agentledger.platform.executions import tables as execution_tables
from agentledger.platform.results.tables import ExecutionResult, ResultRevision
from agentledger.platform.retention.tables import RestoreRequest, RetentionAlert, RetentionPolicy
from agentledger.platform.schedules.tables import Schedule
from agentledger.platform.sharing.tables import ExecutionShare, ShareLink

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
        tables.PasswordReset,
        tables.AuditEvent,
        execution_tables.AgentVersion,
        execution_tables.Execution,
        execution_tables.ExecutionStep,
        execution_tables.ExecutionLog,
        execution_tables.ExecutionItem,
        execution_tables.ExecutionReview,
        ExecutionResult,
        ResultRevision,
        Connector,
        Schedule,
        ExecutionShare,
        ShareLink,
        RetentionPolicy,
        RestoreRequest,
        RetentionAlert,
    ],
)
