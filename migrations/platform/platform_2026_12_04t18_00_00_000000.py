"""A workspace's time zone: its members' weekly digests come at Monday 08:00 there, unless they chose their own."""

from piccolo.columns.column_types import Varchar

from agentledger.platform.migration_sql import column_migration

ID = "2026-12-04T18:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "workspaces: time zone"

forwards = column_migration(
    ID, "platform",
    ("Workspace", "workspaces", "timezone", Varchar, {"length": 64, "default": "UTC"}),
)
