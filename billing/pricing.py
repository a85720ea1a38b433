"""Prices: what a run holds when it starts and what it is charged when it ends, in whole credits.

One formula, ``price = base + per_item * items``: over the scope it is the estimate (what is reserved),
over the items processed it is the charge, never more than was reserved. A failed run is charged nothing,
and so is a run canceled before any item was processed (or before a worker ever took it). Imports nothing
from the rest of the product: executions call it, it calls no one.
"""

from __future__ import annotations


def price(base_cost: int, per_item_cost: int, items: int) -> int:
    """The formula: the agent's base fee plus its per-item price for ``items``. Over the scope it is the
    estimate (``Agent.estimate``, ``NewRun.estimate``); ``charge`` applies it to the items processed."""
    return int(base_cost) + int(per_item_cost) * int(items)


def charge(base_cost: int, per_item_cost: int, processed: int, *, reserved: int, failed: bool,
           canceled: bool, ever_claimed: bool) -> int:
    """What a run that ended is charged out of ``reserved``; the rest is refunded. ``failed``: it failed
    (everything back); ``canceled``: it was canceled, which costs nothing when no worker ever took it
    (``ever_claimed``) or nothing was processed; otherwise the price of what was processed, capped at the hold."""
    if failed or not reserved or (canceled and (not ever_claimed or not processed)):
        return 0
    return min(int(reserved), price(base_cost, per_item_cost, processed))


REFUND_REASONS = {"failed": "run failed", "timed_out": "timed out", "canceled": "canceled"}


def refund_reason(status: str) -> str:
    """Why a run's unspent hold came back, in the ledger's words: it failed (everything back), timed out or
    was canceled (what it did not process), or it finished using less than its scope (the estimate)."""
    return REFUND_REASONS.get(status, "unused scope")


def money(cents: int, currency: str) -> str:
    """1900, usd -> 19.00 USD, in exact integers (every currency we sell in has two decimals)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100:,}.{abs(cents) % 100:02d} {currency.upper()}"
