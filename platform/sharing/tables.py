"""Sharing a run: with teammates (they may read it, not change it) and through password-protected links."""

from piccolo.columns import UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from agentledger.platform.executions.tables import Execution
from agentledger.platform.tables import User, Workspace


class ExecutionShare(Table, tablename="execution_shares"):
    """A member who may read a run they did not start (unique per run and member)."""

    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False)
    execution = ForeignKey(Execution, null=False)
    user = ForeignKey(User, null=False)
    shared_by = ForeignKey(User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    run_created_at = Timestamptz()  # the run's, so a member's list walks their shares in list order


class ShareLink(Table, tablename="share_links"):
    """A link that shows one run's results to whoever has it and its password. Only the token's SHA-256
    and the password's argon2id hash are kept; the link itself is shown once."""

    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False)
    execution = ForeignKey(Execution, null=False)
    token_hash = Varchar(length=64, unique=True)
    prefix = Varchar(length=12)  # the token's first characters, to tell links apart
    password_hash = Text()
    created_by = ForeignKey(User, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    opened_at = Timestamptz(null=True, default=None)  # the last time the password was given
    opens = Integer(default=0)
