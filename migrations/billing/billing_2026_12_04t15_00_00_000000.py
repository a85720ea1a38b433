"""Buying credits: the wallet's owed column, billing accounts, purchases, Stripe payment facts, the webhook inbox."""

from functools import partial

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import JSONB, UUID, BigInt, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

from agentledger.platform.migration_sql import add_column


class User(Table, tablename="users", schema=None):
    id = UUID(default=UUID4(), null=False, primary_key=True, unique=False, index=False,
              index_method=IndexMethod.btree, choices=None, db_column_name=None, secret=False)


class Workspace(Table, tablename="workspaces", schema=None):
    id = UUID(default=UUID4(), null=False, primary_key=True, unique=False, index=False,
              index_method=IndexMethod.btree, choices=None, db_column_name=None, secret=False)


ID = "2026-12-04T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "buying credits"
CASCADE = {"on_delete": OnDelete.cascade, "on_update": OnUpdate.cascade, "target_column": None}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="billing", description=DESCRIPTION)
    column = partial(add_column, manager)

    column("Wallet", "wallets", "owed", BigInt, default=0)

    manager.add_table(class_name="BillingAccount", tablename="billing_accounts", schema=None, columns=None)
    column("BillingAccount", "billing_accounts", "id", UUID, default=UUID4(), primary_key=True)
    column("BillingAccount", "billing_accounts", "workspace", ForeignKey, references=Workspace, unique=True, **CASCADE)
    column("BillingAccount", "billing_accounts", "stripe_customer", Varchar, length=255, default=None, null=True)
    column("BillingAccount", "billing_accounts", "billing_name", Varchar, length=200, default="")
    column("BillingAccount", "billing_accounts", "billing_address", Text, default="")
    column("BillingAccount", "billing_accounts", "low_balance_threshold", BigInt, default=None, null=True)
    column("BillingAccount", "billing_accounts", "updated_at", Timestamptz, default=TimestamptzNow())

    manager.add_table(class_name="Purchase", tablename="purchases", schema=None, columns=None)
    column("Purchase", "purchases", "id", UUID, default=UUID4(), primary_key=True)
    column("Purchase", "purchases", "workspace", ForeignKey, references=Workspace, **CASCADE)
    column("Purchase", "purchases", "created_by", ForeignKey, references=User, default=None, null=True, **CASCADE)
    column("Purchase", "purchases", "pack", Varchar, length=40, default="")
    column("Purchase", "purchases", "credits", BigInt, default=0)
    column("Purchase", "purchases", "amount", BigInt, default=0)
    column("Purchase", "purchases", "currency", Varchar, length=3, default="")
    column("Purchase", "purchases", "idempotency_key", Varchar, length=200, default="", unique=True)
    column("Purchase", "purchases", "stripe_session", Varchar, length=255, default=None, null=True, unique=True)
    column("Purchase", "purchases", "checkout_url", Text, default=None, null=True)
    column("Purchase", "purchases", "payment_intent", Varchar, length=255, default=None, null=True, unique=True)
    column("Purchase", "purchases", "outcome", Varchar, length=16, default="pending")
    column("Purchase", "purchases", "credits_granted", BigInt, default=0)
    column("Purchase", "purchases", "problem", Text, default="")
    column("Purchase", "purchases", "created_at", Timestamptz, default=TimestamptzNow())
    column("Purchase", "purchases", "paid_at", Timestamptz, default=None, null=True)
    column("Purchase", "purchases", "updated_at", Timestamptz, default=TimestamptzNow())

    manager.add_table(class_name="StripePayment", tablename="stripe_payments", schema=None, columns=None)
    column("StripePayment", "stripe_payments", "id", UUID, default=UUID4(), primary_key=True)
    column("StripePayment", "stripe_payments", "payment_intent", Varchar, length=255, default="", unique=True)
    column("StripePayment", "stripe_payments", "charge", Varchar, length=255, default=None, null=True)
    column("StripePayment", "stripe_payments", "amount_refunded", BigInt, default=0)
    column("StripePayment", "stripe_payments", "dispute", Varchar, length=255, default=None, null=True)
    column("StripePayment", "stripe_payments", "dispute_status", Varchar, length=32, default=None, null=True)
    column("StripePayment", "stripe_payments", "dispute_amount", BigInt, default=0)
    column("StripePayment", "stripe_payments", "receipt_url", Text, default=None, null=True)
    column("StripePayment", "stripe_payments", "updated_at", Timestamptz, default=TimestamptzNow())

    manager.add_table(class_name="StripeEvent", tablename="stripe_events", schema=None, columns=None)
    column("StripeEvent", "stripe_events", "id", UUID, default=UUID4(), primary_key=True)
    column("StripeEvent", "stripe_events", "stripe_id", Varchar, length=255, default="", unique=True)
    column("StripeEvent", "stripe_events", "type", Varchar, length=120, default="")
    column("StripeEvent", "stripe_events", "workspace", ForeignKey, references=Workspace, default=None, null=True,
           **CASCADE)
    column("StripeEvent", "stripe_events", "payload", JSONB, default="{}")
    column("StripeEvent", "stripe_events", "outcome", Text, default="")
    column("StripeEvent", "stripe_events", "received_at", Timestamptz, default=TimestamptzNow())
    return manager
