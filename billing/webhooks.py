"""Stripe's webhook: verify, keep each event once, and let it change the wallet in the same transaction.

Credits come only from here, never from the page a buyer returns to. What a purchase is worth comes from
our own record (the pack chosen at checkout); an event only says what happened to the payment. Each event
updates facts that only move forward (paid, refunded so far, disputed), and then the purchase is settled:
the credits it should have in the wallet now are worked out from all the facts, and only the difference
moves. So duplicates change nothing and any delivery order ends in the same wallet (``entitled``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from agentledger.billing import ledger, pricing, repository, stripe_api
from agentledger.notifications import service as notifications
from agentledger.platform.clock import now
from agentledger.platform.errors import BadRequest

Row = dict[str, Any]
# Money a dispute holds back: while it is open, and for good when it is lost. Inquiries (warning_*) take
# nothing; a won dispute gives it back.
DISPUTE_TAKES = frozenset({"needs_response", "under_review", "lost"})


def entitled(purchase: Row, payment: Row | None) -> int:
    """The credits ``purchase`` should have in the wallet now: its pack once paid (and only when Stripe's
    amount and currency were what we asked), less the refunded and disputed share, pro rata, rounded in the
    buyer's favour (a refund of half a 1,000-credit pack takes 500; of a third, 333)."""
    if purchase["outcome"] != "paid" or purchase["problem"]:
        return 0
    if payment is None:
        return purchase["credits"]
    disputed = payment["dispute_amount"] if payment["dispute_status"] in DISPUTE_TAKES else 0
    taken = min(purchase["amount"], payment["amount_refunded"] + disputed)
    return purchase["credits"] - purchase["credits"] * taken // purchase["amount"]


async def settle(purchase: Row, event_id: str) -> str:
    """Move the difference between what the purchase has granted and what it is entitled to; say what moved."""
    target = entitled(purchase, await repository.payment(purchase["payment_intent"]))
    delta = target - purchase["credits_granted"]
    session, workspace = purchase["stripe_session"], purchase["workspace"]
    memo = f"{purchase['pack']} pack ({purchase['credits']} credits)"
    if delta > 0:
        first = f"stripe:{session}:grant"
        key = first if not await ledger.has_moved(first) else f"stripe:{session}:restore:{event_id}"
        await ledger.grant(workspace, delta, actor_id=None, memo=f"purchase: {memo}", key=key)
    elif delta < 0:
        key = f"stripe:{session}:clawback:{event_id}"
        await ledger.claw_back(workspace, -delta, key=key, memo=f"refund or dispute: {memo}")
    purchase["credits_granted"] = target
    await repository.save_purchase(purchase)
    if delta:  # the admins' receipt, in the same transaction as the movement
        wallet = await ledger.balance(workspace)
        await notifications.emit("credits_moved", workspace, key=key, purchase=purchase, moved=delta,
                                 price=pricing.money(purchase["amount"], purchase["currency"]),
                                 available=wallet.available, owed=wallet.owed,
                                 receipt=purchase["paid_at"] is not None and not purchase["problem"])
    return f"granted {delta}" if delta > 0 else f"clawed back {-delta}" if delta < 0 else "nothing to move"


async def _session_event(obj: Row, event_id: str, outcome: str | None) -> tuple[UUID | None, str]:
    """A checkout session moved on: ``outcome`` is ``paid``, ``failed``, or None when the session only
    completed (a payment that settles later). Paid stays paid; failed only replaces pending.

    Both kinds of event lock the payment's facts row first, then the purchase: a refund delivered at the
    same moment as the event that tells the purchase its payment intent waits for it (or it for the
    refund), so neither settles without the other's facts, and the order of locks is always the same."""
    if obj.get("payment_intent"):
        await repository.merge_payment(obj["payment_intent"])  # no new facts: takes the row's lock
    purchase = await repository.purchase_by_session(obj["id"])
    if purchase is None:
        return None, "ignored: not a checkout agentledger made"
    purchase["payment_intent"] = purchase["payment_intent"] or obj.get("payment_intent")
    if obj.get("amount_total") != purchase["amount"] or (obj.get("currency") or "").lower() != purchase["currency"]:
        purchase["problem"] = (
            f"Stripe reported {obj.get('amount_total')} {str(obj.get('currency')).upper()} for this checkout; "
            f"we asked {purchase['amount']} {purchase['currency'].upper()}. No credits were granted: "
            "check the payment in Stripe, and refund it there if it is wrong.")
    if outcome == "paid" or (outcome is None and obj.get("payment_status") == "paid"):
        purchase["outcome"], purchase["paid_at"] = "paid", purchase["paid_at"] or now()
    elif outcome == "failed" and purchase["outcome"] == "pending":
        purchase["outcome"] = "failed"
    return purchase["workspace"], await settle(purchase, event_id)


async def _payment_event(payment_intent: str | None, event_id: str, **facts: Any) -> tuple[UUID | None, str]:
    """A refund or a dispute: keep the facts by payment intent, then settle the purchase if we know it yet
    (a refund can arrive before the event that names the purchase; that one settles with it)."""
    if not payment_intent:
        return None, "ignored: no payment intent"
    await repository.merge_payment(payment_intent, **facts)
    purchase = await repository.purchase_by_intent(payment_intent)
    if purchase is None:
        return None, "kept: its checkout has not been reported yet"
    return purchase["workspace"], await settle(purchase, event_id)


Handler = Callable[[Row, str], Awaitable[tuple[UUID | None, str]]]
HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": lambda o, e: _session_event(o, e, None),
    "checkout.session.async_payment_succeeded": lambda o, e: _session_event(o, e, "paid"),
    "checkout.session.async_payment_failed": lambda o, e: _session_event(o, e, "failed"),
    "checkout.session.expired": lambda o, e: _session_event(o, e, "failed"),
    "charge.succeeded": lambda o, e: _payment_event(o.get("payment_intent"), e, charge=o["id"],
                                                    receipt_url=o.get("receipt_url")),
    "charge.refunded": lambda o, e: _payment_event(o.get("payment_intent"), e, charge=o["id"],
                                                   amount_refunded=int(o.get("amount_refunded") or 0),
                                                   receipt_url=o.get("receipt_url")),
    **{f"charge.dispute.{kind}": (lambda o, e: _payment_event(
        o.get("payment_intent"), e, charge=o.get("charge"), dispute=o["id"], dispute_status=o.get("status"),
        dispute_amount=int(o.get("amount") or 0))) for kind in ("created", "updated", "closed")},
}
EVENTS = sorted(HANDLERS)  # what to select when registering the endpoint (README)


async def receive(payload: bytes, signature: str | None) -> str:
    """One delivery, in the caller's transaction: 400 with nothing written unless Stripe signed it; a
    duplicate changes nothing; a type we do not use is kept and answered. Answers what it did."""
    try:
        event = stripe_api.verify(payload, signature)
    except ValueError as error:
        raise BadRequest(f"not a Stripe event: {error}", field="Stripe-Signature") from None
    body = event.to_dict()
    kept = await repository.inbox(body["id"], body["type"], body)
    if kept is None:
        return "duplicate: handled before"
    handler = HANDLERS.get(body["type"])
    if handler is None:
        workspace, outcome = None, "ignored: not an event agentledger uses"
    else:
        workspace, outcome = await handler(body["data"]["object"], body["id"])
    await repository.handled(kept, workspace, outcome)
    return outcome
