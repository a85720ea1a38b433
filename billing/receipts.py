"""A purchase's PDF receipt: our own, in the run report's look, naming the workspace's billing name and
address as admins set them on the Billing page. Made from the purchase's record when asked (a receipt
is small, and a changed billing address or a later refund shows on the next download)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from uuid import UUID

import jinja2

from agentledger.billing import repository
from agentledger.billing.pricing import money
from agentledger.billing.purchases import get
from agentledger.platform import pdf
from agentledger.platform.clock import now
from agentledger.platform.errors import Conflict
from agentledger.platform.scoping import Scope

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters.update(number=pdf.number, when=pdf.when, money=money)
    return env


async def receipt(scope: Scope, purchase_id: UUID) -> tuple[bytes, str]:
    """The PDF and its file name; 409 for a purchase that was never paid (nothing to give a receipt for)."""
    bought = await get(scope, purchase_id)
    if not bought.has_receipt:
        raise Conflict(f"this purchase is {bought.status}: a receipt comes once it is paid")
    account = await repository.account(scope.workspace_id)
    refunded_credits = bought.credits * min(bought.amount_refunded, bought.amount) // bought.amount
    number = f"AL-{bought.paid_at:%Y%m%d}-{str(bought.id)[:8].upper()}"
    html = _environment().get_template("receipt.html").render(
        number=number, billing_name=account["billing_name"] or scope.workspace_name,
        address_lines=[line for line in account["billing_address"].splitlines() if line.strip()],
        workspace=scope.workspace_name, paid_at=bought.paid_at, payment_intent=bought.payment_intent,
        status=bought.status, pack_title=f"{bought.pack.title()} pack: {bought.credits:,} agentledger credits",
        credits=bought.credits, amount=bought.amount, currency=bought.currency, amount_refunded=bought.amount_refunded,
        credits_refunded=refunded_credits, credits_net=bought.credits - refunded_credits,
        stripe_receipt=bought.receipt_url, issued_at=now())
    return await pdf.render(html, (TEMPLATES / "receipt.css").read_text()), f"receipt-{number}.pdf"
