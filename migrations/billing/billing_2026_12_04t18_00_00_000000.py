"""Low-balance alerts: each crossing below the threshold is announced once (``armed`` goes false with the
alert, true again only when the balance rises above), and counted, so each alert has its own key."""

from piccolo.columns.column_types import Boolean, Integer

from agentledger.platform.migration_sql import column_migration

ID = "2026-12-04T18:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "billing accounts: low-balance alert state"

forwards = column_migration(
    ID, "billing",
    ("BillingAccount", "billing_accounts", "low_balance_armed", Boolean, {"default": True}),
    ("BillingAccount", "billing_accounts", "low_balance_alerts", Integer, {"default": 0}),
)
