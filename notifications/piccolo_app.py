"""Piccolo app for the notification tables (the email outbox)."""

from piccolo.conf.apps import AppConfig

from agentledger.notifications import tables
from agentledger.platform.piccolo_app import MIGRATIONS

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=MIGRATIONS / "notifications",
    table_classes=[tables.EmailOutbox, tables.NotificationPreference, tables.DigestWeek],
)
