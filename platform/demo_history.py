"""The demo's past: about a year of Acme's runs, purchases and one refund, so the run list, the Credits page
and (later) retention have something true to show on the first start.

Written with the product's rules, not made up: every run's hold, charge and refund come from
``billing.pricing`` (the same ``price`` and ``charge`` a live run gets) against a wallet that is never
allowed below zero (a purchase comes first when a run would not fit), and every credit movement goes into
the ledger as the double entry a live run makes (``<run>:reserve``, ``:charge``, ``:release`` with its
reason). Purchases are recorded as paid Checkout Sessions with their grants, one of them partly refunded
and clawed back pro rata. Seeded once: the first purchase's ledger key marks it done.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from agentledger.agents.registry import get_agent
from agentledger.billing import ledger, pricing, repository
from agentledger.billing.webhooks import entitled
from agentledger.platform import accounts, workspaces
from agentledger.platform.clock import now
from agentledger.platform.database import atomic
from agentledger.platform.errors import Conflict
from agentledger.platform.executions import lifecycle_repository
from agentledger.platform.executions.ids import new_run_id

SEED = 20261204
DAYS = 365
SLUG = "acme"
EXTRA_PEOPLE = [("carol@acme.example", "Carol Content"), ("dan@acme.example", "Dan Data")]  # no password: history only
AGENTS = {  # name: (share of runs, scope range)
    "seo-audit": (0.35, (20, 200)), "link-checker": (0.25, (50, 400)), "content-writer": (0.2, (5, 60)),
    "analytics-report": (0.2, (1, 1))}
OUTCOMES = {"completed": 0.8, "partial": 0.07, "failed": 0.07, "canceled": 0.04, "timed_out": 0.02}
PACK = ("team", 5000, 8500)  # id, credits, cents
ERRORS = {"failed": "every item failed: the site answered 503", "timed_out": "the run passed its time limit"}


def marker(slug: str = SLUG) -> str:
    return f"stripe:cs_demo_{slug}_0001:grant"


async def seed_history(workspace_id: UUID, people: list[UUID]) -> int:
    """Seed the year once into Acme (``people``: its demo members, the admin first); answers the runs written."""
    if await ledger.has_moved(marker()):
        return 0
    async with atomic():
        team = people + [await _history_person(workspace_id, email, name) for email, name in EXTRA_PEOPLE]
        runs, movements, bought = _simulate(workspace_id, team, random.Random(SEED))
        for purchase, payment in bought:
            await repository.insert_history_purchase(purchase, payment)
        for start in range(0, len(runs), 1000):
            await lifecycle_repository.insert_history(runs[start:start + 1000])
        await ledger.import_history(workspace_id, movements)
    return len(runs)


async def _history_person(workspace_id: UUID, email: str, name: str) -> UUID:
    account = await accounts.find_by_email(email) or await accounts.create_user(email, name, uuid.uuid4().hex)
    try:
        await workspaces.add_member(workspace_id, account.id, "member", actor_id=None)
    except Conflict:
        pass
    return account.id


class _Wallet:
    """The simulated wallet: what the real one would hold at each moment of the year."""

    def __init__(self) -> None:
        self.available = 0


def _simulate(workspace_id: UUID, team: list[UUID], rng: random.Random) -> tuple[list, list, list]:
    start = (now() - timedelta(days=DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    wallet, runs, movements, bought = _Wallet(), [], [], []
    agents, outcomes = list(AGENTS), list(OUTCOMES)
    weights_people = [0.35, 0.3, 0.2, 0.15][: len(team)]
    for day in range(DAYS - 1):
        date = start + timedelta(days=day)
        for _ in range(rng.randint(2, 6) if date.weekday() < 5 else rng.randint(0, 2)):
            name = rng.choices(agents, [AGENTS[a][0] for a in agents])[0]
            agent = get_agent(name)
            low, high = AGENTS[name][1]
            scope = rng.randint(low, high)
            reserved = pricing.price(agent.base_cost, agent.per_item_cost, scope)
            if wallet.available < reserved:
                bought.append(_purchase(workspace_id, team[0], len(bought) + 1, date + timedelta(hours=8),
                                        wallet, movements, refund=len(bought) == 2))
            status = rng.choices(outcomes, [OUTCOMES[o] for o in outcomes])[0]
            runs.append(_run(workspace_id, rng.choices(team, weights_people)[0], agent, scope, status, reserved,
                             date + timedelta(hours=rng.randint(8, 19), minutes=rng.randint(0, 59)), rng, wallet,
                             movements))
    return runs, movements, bought


def _run(workspace_id: UUID, member: UUID, agent: Any, scope: int, status: str, reserved: int, queued: datetime,
         rng: random.Random, wallet: _Wallet, movements: list[ledger.Movement]) -> dict[str, Any]:
    run_id = new_run_id(queued)
    processed = {"completed": scope, "partial": max(1, int(scope * 0.9)), "failed": 0,
                 "canceled": int(scope * rng.uniform(0.2, 0.7)), "timed_out": int(scope * 0.6)}[status]
    failed = scope - processed if status in ("partial", "failed") else 0
    charge = pricing.charge(agent.base_cost, agent.per_item_cost, processed, reserved=reserved,
                            failed=status == "failed", canceled=status == "canceled", ever_claimed=True)
    started = queued + timedelta(seconds=rng.randint(1, 20))
    finished = started + timedelta(seconds=rng.randint(20, 60 * (3 + scope // 10)))
    who = {"agent": agent.name, "member": member, "execution": run_id}
    wallet.available -= reserved
    movements.append(ledger.Movement(f"{run_id}:reserve", "available", "held", reserved, queued, **who))
    if charge:
        movements.append(ledger.Movement(f"{run_id}:charge", "held", "spent", charge, finished, **who))
    if reserved - charge:
        movements.append(ledger.Movement(f"{run_id}:release", "held", "available", reserved - charge, finished,
                                         memo=pricing.refund_reason(status), **who))
    wallet.available += reserved - charge
    inputs = {"start_url": "https://shop.acme.example/"} if agent.name in ("seo-audit", "link-checker") else {}
    return {"id": run_id, "workspace": workspace_id, "started_by": member, "triggered_by": rng.choice(
        ["user", "user", "api", "schedule"]), "agent": agent.name, "inputs": inputs, "status": status, "scope": scope,
        "progress_done": processed + failed, "progress_total": scope, "items_processed": processed,
        "items_failed": failed, "base_cost": agent.base_cost, "per_item_cost": agent.per_item_cost,
        "estimate": reserved, "credits_reserved": reserved, "credits_charged": charge,
        "credits_refunded": reserved - charge, "error_message": ERRORS.get(status), "attempts": 1,
        "queued_at": queued, "started_at": started, "finished_at": finished, "created_at": queued}


def _purchase(workspace_id: UUID, admin: UUID, n: int, at: datetime, wallet: _Wallet,
              movements: list[ledger.Movement], refund: bool) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A paid team pack; the ``refund`` one is refunded a fifth a week later (clawed back pro rata)."""
    session = f"cs_demo_{SLUG}_{n:04d}"
    pack, credits, amount = PACK
    purchase = {"id": uuid.uuid4(), "workspace": workspace_id, "created_by": admin, "pack": pack, "credits": credits,
                "amount": amount, "currency": "usd", "stripe_session": session, "payment_intent": f"pi_demo_{SLUG}_{n:04d}",
                "created_at": at, "outcome": "paid", "problem": "", "credits_granted": credits}
    memo = f"{pack} pack ({credits} credits)"
    movements.append(ledger.Movement(f"stripe:{session}:grant", "external", "available", credits, at,
                                     memo=f"purchase: {memo}"))
    wallet.available += credits
    payment = None
    if refund:
        payment = {"charge": f"ch_demo_{SLUG}_{n:04d}", "amount_refunded": amount // 5}
        purchase["credits_granted"] = entitled(purchase, {**payment, "dispute_status": None, "dispute_amount": 0})
        back = credits - purchase["credits_granted"]
        movements.append(ledger.Movement(f"stripe:{session}:clawback:evt_demo_refund", "available", "external", back,
                                         at + timedelta(days=7), memo=f"refund or dispute: {memo}"))
        wallet.available -= back
    return purchase, payment
