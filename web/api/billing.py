"""API: the workspace's wallet (credits available, held, owed) and its ledger (every credit movement), and
buying credits (packs, checkout, purchases and their receipts, the billing details), for admins. Thin:
billing's services check the role and do the work; the executions service names the run behind each
movement (billing knows runs only by id). Stripe's webhook is here too, outside the documented API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from agentledger.billing import purchases, receipts, webhooks
from agentledger.billing import service as billing
from agentledger.billing.schemas import (
    BillingAccountIn,
    BillingAccountOut,
    CheckoutIn,
    CheckoutOut,
    PackOut,
    PurchaseOut,
    TransferOut,
    WalletOut,
)
from agentledger.platform.config import get_settings
from agentledger.platform.database import atomic
from agentledger.platform.errors import BadGateway, Conflict, Forbidden
from agentledger.platform.executions import service as executions
from agentledger.platform.pagination import DEFAULT_LIMIT, PageRequest
from agentledger.platform.schemas import PageOut
from agentledger.web.api.paging import Cursor, Limit
from agentledger.web.auth import Caller
from agentledger.web.responses import shaped

IdempotencyKey = Annotated[str | None, HeaderParameter(
    name="Idempotency-Key", required=False, max_length=200,
    description="the same key answers the same checkout (a retried request opens no second one)")]


class WalletController(Controller):
    path = "/api/v1/workspaces/{ws:str}"
    tags = ["billing"]

    @get("/wallet", raises=[Forbidden], summary="Credits available, held by running runs, and owed (admins)")
    async def wallet(self, caller: Caller) -> WalletOut:
        return shaped(WalletOut, await billing.wallet(caller))

    @get("/ledger", raises=[Forbidden], summary="Every credit movement, newest first, with the run's agent and who started it, "
         "or the grant's reason (admins)")
    async def ledger(
        self, caller: Caller, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT,
        since: Annotated[datetime | None, QueryParameter(description="ISO 8601 with a time zone, inclusive")] = None,
        until: Annotated[datetime | None, QueryParameter(description="ISO 8601 with a time zone, exclusive")] = None,
    ) -> PageOut[TransferOut]:
        page = await billing.transfers(caller, PageRequest(cursor, limit), since=since, until=until)
        runs = await executions.run_names(caller, [row["execution"] for row in page.items if row["execution"]])
        return PageOut([TransferOut(**row, **runs.get(row["execution"], {})) for row in page.items], page.next_cursor)


def purchase_out(caller: Caller, purchase: purchases.Purchase) -> PurchaseOut:
    pdf = f"/api/v1/workspaces/{caller.workspace_slug}/billing/purchases/{purchase.id}/receipt.pdf"
    return shaped(PurchaseOut, purchase, receipt_pdf=pdf)


class BillingController(Controller):
    path = "/api/v1/workspaces/{ws:str}/billing"
    tags = ["billing"]

    @get("/packs", raises=[Forbidden], summary="The credit packs admins can buy (from CREDIT_PACKS)")
    async def packs(self, caller: Caller) -> PageOut[PackOut]:
        caller.require_admin()
        currency = get_settings().billing_currency
        return PageOut([shaped(PackOut, p, currency=currency) for p in purchases.packs()], None)

    @post("/checkout", raises=[Forbidden, BadGateway], status_code=HTTP_201_CREATED,
          summary="Start buying a pack: a Stripe Checkout Session to send the buyer to. Credits are granted when "
          "Stripe reports the payment, never before")
    async def checkout(self, caller: Caller, data: JSONBody[CheckoutIn], idempotency_key: IdempotencyKey = None
                       ) -> CheckoutOut:
        bought = await purchases.start(caller, data.pack, idempotency_key)  # commits its own steps (see start)
        return CheckoutOut(id=bought.stripe_session or "", url=bought.checkout_url or "", purchase_id=bought.id)

    @get("/purchases", raises=[Forbidden], summary="Purchases, newest first, with what became of each payment")
    async def purchase_list(self, caller: Caller, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
                            ) -> PageOut[PurchaseOut]:
        page = await purchases.page(caller, PageRequest(cursor, limit))
        return PageOut([purchase_out(caller, p) for p in page.items], page.next_cursor)

    @get("/purchases/{purchase_id:uuid}", raises=[Forbidden], summary="One purchase")
    async def purchase(self, caller: Caller, purchase_id: FromPath[UUID]) -> PurchaseOut:
        return purchase_out(caller, await purchases.get(caller, purchase_id))

    @get("/purchases/{purchase_id:uuid}/receipt.pdf", raises=[Forbidden, Conflict],
         summary="The purchase's PDF receipt (409 until it is paid)")
    async def receipt(self, caller: Caller, purchase_id: FromPath[UUID]) -> Response[bytes]:
        pdf, filename = await receipts.receipt(caller, purchase_id)
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @get("/account", raises=[Forbidden], summary="Billing details: the name and address on receipts, the "
         "low-balance threshold, and the wallet")
    async def account(self, caller: Caller) -> BillingAccountOut:
        return shaped(BillingAccountOut, await purchases.account(caller))

    @put("/account", raises=[Forbidden], status_code=HTTP_200_OK, summary="Change the billing details")
    async def update_account(self, caller: Caller, data: JSONBody[BillingAccountIn]) -> BillingAccountOut:
        async with atomic():
            changed = await purchases.update_account(caller, data.billing_name, data.billing_address,
                                                     data.low_balance_threshold)
        return shaped(BillingAccountOut, changed)


@post("/webhooks/stripe", status_code=HTTP_200_OK, include_in_schema=False, opt={"raw_body": True})
async def stripe_webhook(request: Request) -> dict[str, str]:
    """Stripe's deliveries (signed; see ``billing.webhooks``): 200 once kept, 400 with nothing written otherwise."""
    signature = request.headers.get("stripe-signature")
    payload = await request.body()
    async with atomic():
        outcome = await webhooks.receive(payload, signature)
    return {"received": "true", "outcome": outcome}


controllers = [WalletController, BillingController, stripe_webhook]
