from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete
from piccolo.columns.base import OnUpdate
from piccolo.columns.column_types import Boolean
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import JSONB
from piccolo.columns.column_types import Text
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import UUID
from piccolo.columns.column_types import Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


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


ID = "2026-11-22T02:10:08:339328"
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
        class_name="User", tablename="users", schema=None, columns=None
    )

    manager.add_table(
        class_name="Invitation",
        tablename="invitations",
        schema=None,
        columns=None,
    )

    manager.add_table(
        class_name="ApiToken", tablename="api_tokens", schema=None, columns=None
    )

    manager.add_table(
        class_name="Workspace", tablename="workspaces", schema=None, columns=None
    )

    manager.add_table(
        class_name="AuditEvent",
        tablename="audit_events",
        schema=None,
        columns=None,
    )

    manager.add_table(
        class_name="Membership",
        tablename="memberships",
        schema=None,
        columns=None,
    )

    column("User", "users", "id", UUID, default=UUID4(), primary_key=True)
    column("User", "users", "email", Varchar, length=254, default="", unique=True)
    column("User", "users", "name", Varchar, length=120, default="")
    column("User", "users", "password_hash", Text, default=None, null=True)
    column("User", "users", "oidc_issuer", Text, default=None, null=True)
    column("User", "users", "oidc_subject", Text, default=None, null=True, index=True)
    column("User", "users", "is_active", Boolean, default=True)
    column("User", "users", "session_epoch", Integer, default=0)
    column("User", "users", "created_at", Timestamptz, default=TimestamptzNow())
    column("Invitation", "invitations", "id", UUID, default=UUID4(), primary_key=True)
    column("Invitation", "invitations", "workspace", ForeignKey, references=Workspace, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, index=True)
    column("Invitation", "invitations", "email", Varchar, length=254, default="")
    column("Invitation", "invitations", "role", Varchar, length=16, default="")
    column("Invitation", "invitations", "token_hash", Varchar, length=64, default="", unique=True)
    column("Invitation", "invitations", "invited_by", ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, null=True)
    column("Invitation", "invitations", "expires_at", Timestamptz, default=TimestamptzNow())
    column("Invitation", "invitations", "accepted_at", Timestamptz, default=None, null=True)
    column("Invitation", "invitations", "accepted_by", ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, null=True)
    column("Invitation", "invitations", "revoked_at", Timestamptz, default=None, null=True)
    column("Invitation", "invitations", "created_at", Timestamptz, default=TimestamptzNow())
    column("ApiToken", "api_tokens", "id", UUID, default=UUID4(), primary_key=True)
    column("ApiToken", "api_tokens", "workspace", ForeignKey, references=Workspace, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, index=True)
    column("ApiToken", "api_tokens", "user", ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, index=True)
    column("ApiToken", "api_tokens", "name", Varchar, length=80, default="")
    column("ApiToken", "api_tokens", "prefix", Varchar, length=16, default="")
    column("ApiToken", "api_tokens", "token_hash", Varchar, length=64, default="", unique=True)
    column("ApiToken", "api_tokens", "created_at", Timestamptz, default=TimestamptzNow())
    column("ApiToken", "api_tokens", "last_used_at", Timestamptz, default=None, null=True)
    column("ApiToken", "api_tokens", "revoked_at", Timestamptz, default=None, null=True)
    column("Workspace", "workspaces", "id", UUID, default=UUID4(), primary_key=True)
    column("Workspace", "workspaces", "slug", Varchar, length=48, default="", unique=True)
    column("Workspace", "workspaces", "name", Varchar, length=120, default="")
    column("Workspace", "workspaces", "created_at", Timestamptz, default=TimestamptzNow())
    column("AuditEvent", "audit_events", "id", UUID, default=UUID4(), primary_key=True)
    column("AuditEvent", "audit_events", "workspace", ForeignKey, references=Workspace, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, null=True, index=True)
    column("AuditEvent", "audit_events", "actor", ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, null=True)
    column("AuditEvent", "audit_events", "action", Varchar, length=64, default="")
    column("AuditEvent", "audit_events", "target", Text, default="")
    column("AuditEvent", "audit_events", "details", JSONB, default="{}")
    column("AuditEvent", "audit_events", "created_at", Timestamptz, default=TimestamptzNow(), index=True)
    column("Membership", "memberships", "id", UUID, default=UUID4(), primary_key=True)
    column("Membership", "memberships", "workspace", ForeignKey, references=Workspace, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, index=True)
    column("Membership", "memberships", "user", ForeignKey, references=User, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade, target_column=None, index=True)
    column("Membership", "memberships", "role", Varchar, length=16, default="")
    column("Membership", "memberships", "created_at", Timestamptz, default=TimestamptzNow())
    return manager

