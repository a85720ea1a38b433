"""Piccolo app for the billing tables (wallets and the credit ledger)."""

from piccolo.conf.apps import AppConfig

from agentledger.billing import tables
from agentledger.platform.piccolo_app import MIGRATIONS

APP_CONFIG = AppConfig(
    app_name="billing",
    migrations_folder_path=MIGRATIONS / "billing",
    table_classes=[tables.Wallet, tables.LedgerTransfer, tables.BillingAccount, tables.Purchase,
                   tables.StripePayment, tables.StripeEvent],
)
