"""Buying credits, for admins: the packs, starting a Stripe Checkout, the purchases and what became of each,
and the workspace's billing details (the name and address on receipts, the low-balance warning).

``start`` is one of the named exceptions to "services never commit": it records the purchase and commits,
then asks Stripe with no transaction open (a network call must not hold a row lock or a connection), then
records the session. A crash between the two leaves a pending purchase whose retry, under the same
idempotency key, finds the same Stripe session."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from agentledger.billing import ledger, repository, stripe_api
from agentledger.billing.webhooks import DISPUTE_TAKES
from agentledger.platform import audit
from agentledger.platform.clock import now
from agentledger.platform.config import CreditPack, get_settings
from agentledger.platform.database import atomic, in_transaction
from agentledger.platform.errors import Invalid, NotFound
from agentledger.platform.pagination import Page, PageRequest
from agentledger.platform.scoping import Scope
from agentledger.platform.validation import single_line

DOUBLE_CLICK_SECONDS = 30  # without a key of the caller's own, one pack bought twice this close is one checkout
MAX_THRESHOLD = 10**12


def packs() -> tuple[CreditPack, ...]:
    return get_settings().packs


def pack(pack_id: str) -> CreditPack:
    for offer in packs():
        if offer.id == pack_id:
            return offer
    raise Invalid(f"no pack '{pack_id}': choose one of {', '.join(p.id for p in packs())}", field="pack")


@dataclass(frozen=True, slots=True)
class Purchase:
    """A purchase as an admin sees it. ``status`` says what became of the payment: pending, paid, failed
    (declined, expired, or not what we asked: ``problem`` says why), refunded (all or part) or disputed."""

    id: UUID
    pack: str
    credits: int
    amount: int
    currency: str
    status: str
    credits_granted: int
    amount_refunded: int
    created_at: datetime
    paid_at: datetime | None
    created_by_name: str | None
    problem: str
    checkout_url: str | None
    stripe_session: str | None
    payment_intent: str | None  # the payment's reference, once Stripe reported it
    receipt_url: str | None  # Stripe's own receipt, once the charge is known

    @property
    def has_receipt(self) -> bool:
        """Ours comes once Stripe reported it paid, and never for a payment that granted nothing."""
        return self.paid_at is not None and self.status != "failed"


def status_of(row: dict[str, Any]) -> str:
    if row["problem"] or row["outcome"] == "failed":
        return "failed"
    if row["outcome"] == "pending":
        return "pending"
    if row["dispute_status"] in DISPUTE_TAKES:
        return "disputed"
    if row["amount_refunded"]:
        return "refunded" if row["amount_refunded"] >= row["amount"] else "partly refunded"
    return "paid"


def _purchase(row: dict[str, Any]) -> Purchase:
    return Purchase(row["id"], row["pack"], row["credits"], row["amount"], row["currency"], status_of(row),
                    row["credits_granted"], row["amount_refunded"] or 0, row["created_at"], row["paid_at"],
                    row["created_by_name"], row["problem"], row["checkout_url"] if row["outcome"] == "pending" and not row["payment_intent"] else None,
                    row["stripe_session"], row["payment_intent"], row["receipt_url"])


async def start(scope: Scope, pack_id: str, idempotency_key: str | None = None) -> Purchase:
    """A Checkout Session for ``pack_id``: the purchase is ours first, then Stripe's session. The same key
    (a form's, or the API's ``Idempotency-Key``; else the caller, pack and a 30-second window) answers the
    same purchase and session, so a double click opens one checkout."""
    assert not in_transaction(), "start() commits its own steps: call it with no transaction open"
    scope.require_admin()
    offer, settings = pack(pack_id), get_settings()
    stripe_api.client()  # Stripe not set up: a 502 that says so, before anything is written
    chosen = idempotency_key or f"{offer.id}:{int(time.time()) // DOUBLE_CLICK_SECONDS}"
    async with atomic():
        while True:
            key = hashlib.sha256(f"{scope.workspace_id}:{scope.user_id}:{chosen}".encode()).hexdigest()
            row = await repository.open_purchase(scope.workspace_id, scope.user_id, offer.id, offer.credits,
                                                 offer.price, settings.billing_currency, key)
            if idempotency_key or row["outcome"] == "pending":
                break
            chosen = f"{chosen}:{row['id']}"  # the window's purchase is over: a new one, the same for every click
        account = await repository.account(scope.workspace_id)
        if row["stripe_session"] is None:
            await audit.record("purchase.started", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                               target=str(row["id"]), pack=offer.id, credits=offer.credits, amount=offer.price)
    if row["stripe_session"] is None:
        customer = account["stripe_customer"]
        if customer is None:
            made = await stripe_api.create_customer(str(scope.workspace_id), account["billing_name"] or scope.workspace_name)
            async with atomic():
                customer = await repository.keep_customer(scope.workspace_id, made)
        back = f"{settings.public_url}/w/{scope.workspace_slug}/billing"
        session = await stripe_api.create_checkout_session(
            purchase_id=str(row["id"]), workspace_id=str(scope.workspace_id), customer=customer, pack=offer,
            currency=row["currency"], success_url=f"{back}/purchases/{row['id']}?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{back}?canceled={row['id']}", idempotency_key=f"agentledger-checkout-{row['id']}")
        async with atomic():
            await repository.attach_session(row["id"], session.id, session.url)
    return await get(scope, row["id"])


async def get(scope: Scope, purchase_id: UUID) -> Purchase:
    scope.require_admin()
    row = await repository.purchase(scope.workspace_id, purchase_id)
    if row is None:
        raise NotFound("purchase not found")
    return _purchase(row)


async def page(scope: Scope, request: PageRequest) -> Page[Purchase]:
    scope.require_admin()
    rows, next_cursor = await repository.purchases(scope.workspace_id, request)
    return Page([_purchase(row) for row in rows], next_cursor)


@dataclass(frozen=True, slots=True)
class Account:
    """The workspace as a buyer, and what the Billing page warns admins about."""

    billing_name: str
    billing_address: str
    low_balance_threshold: int | None
    available: int
    held: int
    owed: int
    low: bool  # credits not yet spent (available + held) below the threshold: ``ledger.is_low``
    problems: list[dict[str, Any]]  # recent purchases that granted nothing, and why


async def account(scope: Scope) -> Account:
    scope.require_admin()
    row, wallet = await repository.account(scope.workspace_id), await ledger.balance(scope.workspace_id)
    threshold = row["low_balance_threshold"]
    return Account(row["billing_name"], row["billing_address"], threshold, wallet.available, wallet.held, wallet.owed,
                   ledger.is_low(wallet.available, wallet.held, threshold),
                   await repository.problems(scope.workspace_id, now() - timedelta(days=30)))


async def update_account(scope: Scope, billing_name: str, billing_address: str,
                         low_balance_threshold: int | None) -> Account:
    """Receipts name the workspace this way from now on; the warning shows below the threshold (None: never)."""
    scope.require_admin()
    if low_balance_threshold is not None and not 0 <= low_balance_threshold <= MAX_THRESHOLD:
        raise Invalid(f"the threshold is a whole number of credits from 0 to {MAX_THRESHOLD}",
                      field="low_balance_threshold")
    billing_name = single_line(billing_name, "billing_name", label="billing name", max_length=200) \
        if billing_name.strip() else ""  # empty: receipts name the workspace
    if len(billing_address) > 1000:
        raise Invalid("the billing address is at most 1,000 characters", field="billing_address")
    await repository.update_account(scope.workspace_id, billing_name, billing_address.strip(), low_balance_threshold)
    await ledger.check_low_balance(scope.workspace_id)  # already below a new threshold: the admins hear now
    await audit.record("billing.updated", workspace_id=scope.workspace_id, actor_id=scope.user_id,
                       billing_name=billing_name, low_balance_threshold=low_balance_threshold)
    return await account(scope)


async def warning(scope: Scope) -> str | None:
    """What admins should see where they start runs: credits owed (no run can start), or a balance under
    the workspace's threshold. None for members, and when all is well."""
    if not scope.is_admin:
        return None
    state = await repository.wallet_state(scope.workspace_id)
    if state is None:
        return None
    if state["owed"]:
        return ledger.owed_message(state["owed"])
    threshold = state["low_balance_threshold"]
    if ledger.is_low(state["available"], state["held"], threshold):
        return (f"The balance is low: {state['available'] + state['held']:,} credits left, under the warning "
                f"threshold of {threshold:,}. Buy credits on the Billing page.")
    return None
