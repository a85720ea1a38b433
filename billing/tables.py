"""Billing tables: one wallet per workspace, the append-only, double-entry ledger of credit transfers, and
buying credits through Stripe (the buyer, purchases, what Stripe said about each payment, the webhook inbox)."""

from piccolo.columns import JSONB, UUID, BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from agentledger.platform.tables import User, Workspace


class Wallet(Table, tablename="wallets"):
    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False, unique=True)
    available = BigInt(default=0)  # whole credits; CHECK >= 0 in the migration
    held = BigInt(default=0)  # reserved by runs that have not finished
    owed = BigInt(default=0)  # clawed back after a refund or dispute but not there to take; repaid first
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class LedgerTransfer(Table, tablename="ledger_transfers"):
    """One movement of ``amount`` credits from account ``debit`` to account ``credit``.

    Accounts per workspace: ``external`` (where grants and purchases come from), ``available``,
    ``held`` and ``spent``. Every transfer leaves the sum over all accounts at zero; ``key`` is unique,
    so a retried or duplicated message cannot move credits twice (``<execution>:reserve`` …)."""

    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False, index=True)
    key = Varchar(length=120, unique=True)
    debit = Varchar(length=16)
    credit = Varchar(length=16)
    amount = BigInt()  # > 0
    execution = UUID(null=True, default=None, index=True)
    # Who and what a run's movement was for, written with it: the credit audit groups by them without
    # the run's row (runs are deleted, archived; the books keep every movement).
    agent = Varchar(length=64, null=True, default=None)
    member = UUID(null=True, default=None)  # the person who started the run
    actor = ForeignKey(User, null=True, default=None)
    memo = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class BillingAccount(Table, tablename="billing_accounts"):
    """A workspace as a buyer: its Stripe customer (made once, reused), the name and address its receipts
    carry, and the balance under which admins are warned."""

    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False, unique=True)
    stripe_customer = Varchar(length=255, null=True, default=None)
    billing_name = Varchar(length=200, default="")
    billing_address = Text(default="")
    low_balance_threshold = BigInt(null=True, default=None)  # credits; None: no warning
    low_balance_armed = Boolean(default=True)  # False from an alert until the balance rises above again
    low_balance_alerts = Integer(default=0)  # how many crossings were announced (each alert's own key)
    updated_at = Timestamptz(default=TimestamptzNow())


class Purchase(Table, tablename="purchases"):
    """One Checkout Session we asked Stripe for, and what became of it. The pack, credits and price are
    ours, fixed when it was made: a webhook only says whether it was paid, refunded or disputed.
    ``credits_granted`` is what this purchase has put in the wallet so far, net of clawbacks."""

    id = UUID(primary_key=True)
    workspace = ForeignKey(Workspace, null=False)
    created_by = ForeignKey(User, null=True, default=None)
    pack = Varchar(length=40)
    credits = BigInt()
    amount = BigInt()  # smallest currency unit
    currency = Varchar(length=3)
    idempotency_key = Varchar(length=200, unique=True)
    stripe_session = Varchar(length=255, null=True, default=None, unique=True)
    checkout_url = Text(null=True, default=None)
    payment_intent = Varchar(length=255, null=True, default=None, unique=True)
    outcome = Varchar(length=16, default="pending")  # pending | paid | failed (the payment, not refunds)
    credits_granted = BigInt(default=0)
    problem = Text(default="")  # why nothing was granted (amount or currency not what we asked)
    created_at = Timestamptz(default=TimestamptzNow())
    paid_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class StripePayment(Table, tablename="stripe_payments"):
    """What Stripe told us about one payment (by PaymentIntent) after it was made: refunds and disputes.
    Kept apart from purchases because these events can arrive before the one that names the purchase;
    each field only moves forward, so any delivery order ends in the same facts."""

    id = UUID(primary_key=True)
    payment_intent = Varchar(length=255, unique=True)
    charge = Varchar(length=255, null=True, default=None)
    amount_refunded = BigInt(default=0)
    dispute = Varchar(length=255, null=True, default=None)
    dispute_status = Varchar(length=32, null=True, default=None)
    dispute_amount = BigInt(default=0)
    receipt_url = Text(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class StripeEvent(Table, tablename="stripe_events"):
    """The webhook inbox: every verified event once (Stripe's event id is unique), handled in the same
    transaction as its effect; ``outcome`` says what it did, for admins and for support."""

    id = UUID(primary_key=True)
    stripe_id = Varchar(length=255, unique=True)
    type = Varchar(length=120)
    workspace = ForeignKey(Workspace, null=True, default=None)
    payload = JSONB()
    outcome = Text(default="")
    received_at = Timestamptz(default=TimestamptzNow())
