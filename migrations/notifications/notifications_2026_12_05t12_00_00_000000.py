"""Admins can hear when a teammate asks for an archived run back (the request waits for one of them on
the Retention page); on unless they turn it off, like the other admin mail."""

from piccolo.columns.column_types import Boolean

from agentledger.platform.migration_sql import column_migration

ID = "2026-12-05T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notifications: restore requests for admins"

forwards = column_migration(
    ID, "notifications", ("NotificationPreference", "notification_preferences", "restore_requested", Boolean,
                          {"default": True}),
)
