"""Platform tables: people, workspaces, memberships, invitations, API tokens, password resets and the audit
trail."""

from piccolo.columns import (
    JSONB,
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class User(Table, tablename="users"):
    id = UUID(primary_key=True)
    email = Varchar(length=254, unique=True)  # stored lower-cased
    name = Varchar(length=120)
    password_hash = Text(null=True, default=None)
    oidc_issuer = Text(null=True, default=None)
    oidc_subject = Text(null=True, default=None, index=True)
    is_active = Boolean(default=True)
    session_epoch = Integer(default=0)  # bumped to end every session of the user
    created_at = Timestamptz(default=TimestamptzNow())


class Workspace(Table, tablename="workspaces"):
    id = UUID(primary_key=True)
    slug = Varchar(length=48, unique=True)
    name = Varchar(length=120)
    timezone = Varchar(length=64, default="UTC")  # IANA name: its members' digests come at 08:00 here
    created_at = Timestamptz(default=TimestamptzNow())


class Membership(Table, tablename="memberships"):
    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False, index=True)
    user = ForeignKey(User, null=False, index=True)
    role = Varchar(length=16)  # "member" | "admin"
    created_at = Timestamptz(default=TimestamptzNow())


class Invitation(Table, tablename="invitations"):
    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False, index=True)
    email = Varchar(length=254)
    role = Varchar(length=16)
    token_hash = Varchar(length=64, unique=True)
    invited_by = ForeignKey(User, null=True)
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    accepted_by = ForeignKey(User, null=True)
    revoked_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ApiToken(Table, tablename="api_tokens"):
    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False, index=True)
    user = ForeignKey(User, null=False, index=True)
    name = Varchar(length=80)
    prefix = Varchar(length=16)  # shown in lists so people can tell tokens apart
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class PasswordReset(Table, tablename="password_resets"):
    """A "forgot password" link: only the token's digest is kept; it works once, until ``expires_at``."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, null=False, index=True)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)  # set when used, or when the password changed otherwise
    created_at = Timestamptz(default=TimestamptzNow())


class AuditEvent(Table, tablename="audit_events"):
    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=True, index=True)
    actor = ForeignKey(User, null=True)
    action = Varchar(length=64)
    target = Text(default="")
    details = JSONB(default={})
    created_at = Timestamptz(default=TimestamptzNow(), index=True, index_method=IndexMethod.btree)
