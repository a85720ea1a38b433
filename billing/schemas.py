"""API shapes for the wallet and the ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec


class WalletOut(msgspec.Struct):
    available: int
    held: int
    owed: int = 0  # taken back by a refund or dispute beyond what was available; no run starts until repaid


class TransferOut(msgspec.Struct):
    """One movement: ``amount`` credits from account ``debit`` to ``credit``. A run's movements name its
    agent and who started it; a grant's memo is the reason it was given."""

    id: UUID
    key: str
    debit: str
    credit: str
    amount: int
    execution: UUID | None
    memo: str
    created_at: datetime
    agent: str | None = None
    started_by: UUID | None = None  # the member who started the run (a user id)
    started_by_name: str | None = None


class PackOut(msgspec.Struct):
    id: str
    credits: int
    price: int  # in the currency's smallest unit (cents)
    currency: str


class CheckoutIn(msgspec.Struct, forbid_unknown_fields=True):
    pack: Annotated[str, msgspec.Meta(min_length=1, max_length=40, description="a pack id from GET …/billing/packs")]


class CheckoutOut(msgspec.Struct):
    """Send the buyer to ``url`` (Stripe's hosted page). Credits arrive when Stripe reports the payment."""

    id: str  # the Checkout Session's id
    url: str
    purchase_id: UUID


PurchaseStatus = Literal["pending", "paid", "failed", "refunded", "partly refunded", "disputed"]


class PurchaseOut(msgspec.Struct):
    id: UUID
    pack: str
    credits: int
    amount: int
    currency: str
    status: PurchaseStatus
    credits_granted: int  # what this purchase has in the wallet now, net of refunds and disputes
    amount_refunded: int
    created_at: datetime
    paid_at: datetime | None
    created_by_name: str | None
    problem: str  # why nothing was granted, when Stripe's amount or currency was not what we asked
    checkout_url: str | None  # while pending: where to finish paying
    stripe_session: str | None  # the Checkout Session's id
    receipt_url: str | None  # Stripe's receipt, once the charge is known
    receipt_pdf: str  # our own PDF receipt


class BillingAccountIn(msgspec.Struct, forbid_unknown_fields=True):
    billing_name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    billing_address: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    low_balance_threshold: Annotated[int, msgspec.Meta(ge=0, le=10**12)] | None = None


class BillingAccountOut(msgspec.Struct):
    billing_name: str
    billing_address: str
    low_balance_threshold: int | None
    available: int
    held: int
    owed: int
    low: bool  # available is below the threshold


class UsageGroupOut(msgspec.Struct):
    key: str  # a member's id, an agent's name, a day (2026-11-03), a week's Monday, or a month (2026-11)
    label: str
    runs: int  # runs whose credits were settled in the period
    credits_charged: int
    credits_refunded: int


class UsageOut(msgspec.Struct):
    """Credits charged and refunded in ``[since, until)`` (UTC), grouped; a member sees their own runs only."""

    groups: list[UsageGroupOut]
    total: UsageGroupOut
    since: datetime
    until: datetime
