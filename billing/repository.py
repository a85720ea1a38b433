"""Every statement on the tables of buying credits: billing accounts, purchases, Stripe's payment facts and
the webhook inbox (the wallet and the ledger are ``ledger``'s). Workspace filters go through ``scoping``;
rows found by a Stripe id (a session, a payment intent) carry their workspace with them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from agentledger.platform.database import fetch
from agentledger.platform.pagination import PageRequest, cut, decode_cursor
from agentledger.platform.scoping import workspace_sql

Row = dict[str, Any]


ACCOUNT_DEFAULTS: Row = {"stripe_customer": None, "billing_name": "", "billing_address": "",
                         "low_balance_threshold": None}


async def account(workspace_id: UUID) -> Row:
    """The workspace's billing account; the defaults until an admin saves one or a first checkout makes it
    (reading never writes: a GET changes nothing)."""
    rows = await fetch(f"SELECT * FROM billing_accounts WHERE {workspace_sql()}", workspace_id)
    return rows[0] if rows else {**ACCOUNT_DEFAULTS, "workspace": workspace_id}


_UPSERT_ACCOUNT = (
    "INSERT INTO billing_accounts AS a (id, workspace, stripe_customer, billing_name, billing_address, "
    "low_balance_threshold, updated_at) VALUES (gen_random_uuid(), {}, {}, {}, {}, {}, now()) "
    "ON CONFLICT (workspace) DO UPDATE SET "
)


async def keep_customer(workspace_id: UUID, customer: str) -> str:
    """Record the Stripe customer unless one is recorded already; answers the one that stands."""
    rows = await fetch(_UPSERT_ACCOUNT + "stripe_customer = COALESCE(a.stripe_customer, EXCLUDED.stripe_customer), "
                       "updated_at = now() RETURNING stripe_customer", workspace_id, customer, "", "", None)
    return rows[0]["stripe_customer"]


async def update_account(workspace_id: UUID, billing_name: str, billing_address: str,
                         low_balance_threshold: int | None) -> Row:
    return (await fetch(_UPSERT_ACCOUNT + "billing_name = EXCLUDED.billing_name, billing_address = "
                        "EXCLUDED.billing_address, low_balance_threshold = EXCLUDED.low_balance_threshold, "
                        # a new threshold arms the alert: the balance is judged against it from now on
                        "low_balance_armed = a.low_balance_armed OR a.low_balance_threshold "
                        "IS DISTINCT FROM EXCLUDED.low_balance_threshold, updated_at = now() RETURNING *", workspace_id, None, billing_name, billing_address,
                        low_balance_threshold))[0]


async def open_purchase(workspace_id: UUID, user_id: UUID, pack: str, credits: int, amount: int, currency: str,
                        idempotency_key: str) -> Row:
    """The purchase under ``idempotency_key``: made now, or the one a first click made."""
    await fetch("INSERT INTO purchases (id, workspace, created_by, pack, credits, amount, currency, idempotency_key, "
                "outcome, credits_granted, problem, created_at, updated_at) VALUES (gen_random_uuid(), {}, {}, {}, {}, "
                "{}, {}, {}, 'pending', 0, '', now(), now()) ON CONFLICT (idempotency_key) DO NOTHING",
                workspace_id, user_id, pack, credits, amount, currency, idempotency_key)
    return (await fetch(f"SELECT * FROM purchases WHERE idempotency_key = {{}} AND {workspace_sql()}",
                        idempotency_key, workspace_id))[0]


async def attach_session(purchase_id: UUID, session_id: str, url: str) -> None:
    await fetch("UPDATE purchases SET stripe_session = {}, checkout_url = {}, updated_at = now() WHERE id = {}",
                session_id, url, purchase_id)


async def purchase_by_session(session_id: str) -> Row | None:
    """Locked for the event's transaction: two events of one purchase settle one after the other."""
    rows = await fetch("SELECT * FROM purchases WHERE stripe_session = {} FOR UPDATE", session_id)
    return rows[0] if rows else None


async def purchase_by_intent(payment_intent: str) -> Row | None:
    rows = await fetch("SELECT * FROM purchases WHERE payment_intent = {} FOR UPDATE", payment_intent)
    return rows[0] if rows else None


async def save_purchase(purchase: Row) -> None:
    """Write back what an event decided (outcome, payment intent, problem, credits now granted)."""
    await fetch("UPDATE purchases SET outcome = {}, payment_intent = {}, problem = {}, credits_granted = {}, "
                "paid_at = {}, updated_at = now() WHERE id = {}",
                purchase["outcome"], purchase["payment_intent"], purchase["problem"], purchase["credits_granted"],
                purchase["paid_at"], purchase["id"])


PURCHASES_SQL = (
    "SELECT p.*, u.name AS created_by_name, s.amount_refunded, s.dispute_status, s.dispute_amount, s.receipt_url "
    "FROM purchases p LEFT JOIN users u ON u.id = p.created_by "
    "LEFT JOIN stripe_payments s ON s.payment_intent = p.payment_intent WHERE {where} "
    "ORDER BY p.created_at DESC, p.id DESC LIMIT {size}"
)


async def purchases(workspace_id: UUID, request: PageRequest) -> tuple[list[Row], str | None]:
    """One page of the workspace's purchases with what Stripe said of each, newest first, keyset-walked."""
    where, args = [workspace_sql("p")], [workspace_id]
    if request.cursor:
        where.append("(p.created_at, p.id) < ({}, {})")
        args.extend(decode_cursor(request.cursor))
    text = PURCHASES_SQL.replace("{where}", " AND ".join(where)).replace("{size}", str(int(request.limit) + 1))
    return cut(await fetch(text, *args), request)


async def purchase(workspace_id: UUID, purchase_id: UUID) -> Row | None:
    rows = await fetch(PURCHASES_SQL.replace("{where}", f"{workspace_sql('p')} AND p.id = {{}}").replace("{size}", "1"),
                       workspace_id, purchase_id)
    return rows[0] if rows else None


async def payment(payment_intent: str | None) -> Row | None:
    if not payment_intent:
        return None
    rows = await fetch("SELECT * FROM stripe_payments WHERE payment_intent = {}", payment_intent)
    return rows[0] if rows else None


# Facts only move forward, whatever order the events come in: the refunded amount only grows, and a dispute
# that is closed (won, lost) stays closed when its "created" event arrives late.
MERGE_PAYMENT_SQL = (
    "INSERT INTO stripe_payments AS s (id, payment_intent, charge, amount_refunded, dispute, dispute_status, "
    "dispute_amount, receipt_url, updated_at) VALUES (gen_random_uuid(), {}, {}, {}, {}, {}, {}, {}, now()) "
    "ON CONFLICT (payment_intent) DO UPDATE SET charge = COALESCE(EXCLUDED.charge, s.charge), "
    "amount_refunded = GREATEST(s.amount_refunded, EXCLUDED.amount_refunded), "
    "dispute = COALESCE(EXCLUDED.dispute, s.dispute), "
    "dispute_status = CASE WHEN EXCLUDED.dispute_status IS NULL THEN s.dispute_status "
    "  WHEN s.dispute_status IN ('won', 'lost', 'warning_closed') THEN s.dispute_status "
    "  ELSE EXCLUDED.dispute_status END, "
    "dispute_amount = GREATEST(s.dispute_amount, EXCLUDED.dispute_amount), "
    "receipt_url = COALESCE(EXCLUDED.receipt_url, s.receipt_url), updated_at = now() RETURNING *"
)


async def merge_payment(payment_intent: str, *, charge: str | None = None, amount_refunded: int = 0,
                        dispute: str | None = None, dispute_status: str | None = None, dispute_amount: int = 0,
                        receipt_url: str | None = None) -> Row:
    return (await fetch(MERGE_PAYMENT_SQL, payment_intent, charge, amount_refunded, dispute, dispute_status,
                        dispute_amount, receipt_url))[0]


async def inbox(stripe_id: str, kind: str, payload: dict[str, Any]) -> UUID | None:
    """Keep the event once: its id, or None when it was kept before (a duplicate delivery). A second
    delivery racing the first waits on the unique index, then finds it kept."""
    rows = await fetch("INSERT INTO stripe_events (id, stripe_id, type, payload, outcome, received_at) "
                       "VALUES (gen_random_uuid(), {}, {}, {}::jsonb, '', now()) "
                       "ON CONFLICT (stripe_id) DO NOTHING RETURNING id", stripe_id, kind, json.dumps(payload))
    return rows[0]["id"] if rows else None


async def handled(event_row: UUID, workspace_id: UUID | None, outcome: str) -> None:
    # an assignment, not a filter: the row form keeps it apart from the workspace filters scoping owns
    await fetch("UPDATE stripe_events SET (workspace, outcome) = ({}, {}) WHERE id = {}", workspace_id, outcome,
                event_row)


async def problems(workspace_id: UUID, since: datetime) -> list[Row]:
    """Purchases Stripe reported paid that granted nothing, and why: for the admins' banner."""
    return await fetch(f"SELECT id, pack, problem, updated_at FROM purchases WHERE {workspace_sql()} "
                       "AND problem <> '' AND updated_at >= {} ORDER BY updated_at DESC LIMIT 5", workspace_id, since)


async def insert_history_purchase(purchase: Row, payment: Row | None = None) -> None:
    """A purchase made in the past (the demo's history), with what Stripe said of its payment; its credits
    are the ledger's to write (``ledger.import_history``)."""
    await fetch("INSERT INTO purchases (id, workspace, created_by, pack, credits, amount, currency, idempotency_key, "
                "stripe_session, payment_intent, outcome, credits_granted, problem, created_at, paid_at, updated_at) "
                "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 'paid', {}, '', {}, {}, {})",
                purchase["id"], purchase["workspace"], purchase["created_by"], purchase["pack"], purchase["credits"],
                purchase["amount"], purchase["currency"], f"history:{purchase['id']}", purchase["stripe_session"],
                purchase["payment_intent"], purchase["credits_granted"], purchase["created_at"], purchase["created_at"],
                purchase["created_at"])
    if payment:
        await merge_payment(purchase["payment_intent"], **payment)


async def wallet_state(workspace_id: UUID) -> Row | None:
    """Available, held, owed and the low-balance threshold in one read (the run list's warning for admins)."""
    rows = await fetch("SELECT w.available, w.held, w.owed, a.low_balance_threshold FROM wallets w "
                       f"LEFT JOIN billing_accounts a USING (workspace) WHERE {workspace_sql('w')}",
                       workspace_id)
    return rows[0] if rows else None
