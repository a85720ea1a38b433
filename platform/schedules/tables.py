"""Schedules: run an agent with fixed inputs on a cron expression (UTC)."""

from piccolo.columns import JSONB, UUID, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from agentledger.platform.tables import User, Workspace


class Schedule(Table, tablename="schedules"):
    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False)
    created_by = ForeignKey(User, null=True, default=None)
    name = Varchar(length=120)
    agent = Varchar(length=64)
    inputs = JSONB(default={})
    scope = Integer(null=True, default=None)
    mode = Varchar(length=8, default="live")
    cron = Varchar(length=120)
    enabled = Boolean(default=True)
    next_run_at = Timestamptz(null=True, default=None)
    last_run_at = Timestamptz(null=True, default=None)
    last_execution = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
