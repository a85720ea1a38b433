"""The Billing page (admins): the balance and what to watch on it (a debt, a low balance, a payment that
granted nothing), credit packs to buy through Stripe's hosted checkout, the purchases with their receipts,
and the billing details receipts carry. A buyer returns to the purchase's own page, which says "payment
processing" until Stripe's webhook grants the credits, then shows them added (htmx polls it; no reload)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from agentledger.billing import purchases, receipts
from agentledger.platform.errors import AppError, Invalid
from agentledger.platform.pagination import PageRequest
from agentledger.platform.scoping import Scope
from agentledger.web.auth import Principal
from agentledger.web.pages.common import page_scope, render, submit


@dataclass
class BuyForm:
    pack: str = ""
    attempt: str = ""  # one per rendering of the page: a double click sends it twice, one checkout opens


@dataclass
class AccountForm:
    billing_name: str = ""
    billing_address: str = ""
    low_balance_threshold: str = ""


def _threshold(text: str) -> int | None:
    text = text.strip().replace(",", "")
    if not text:
        return None
    if not text.isdigit():
        raise Invalid("the threshold is a whole number of credits (or empty for no warning)",
                      field="low_balance_threshold")
    return int(text)


class BillingPages(Controller):
    path = "/w/{ws:str}/billing"
    include_in_schema = False

    async def _page(self, request: Request, principal: Principal, caller: Scope, *, status_code: int = 200,
                    **context: object) -> Template:
        account = await purchases.account(caller)  # admins only: a member meets its 403 here
        form = context.pop("form", None) or AccountForm(account.billing_name, account.billing_address,
                                                        "" if account.low_balance_threshold is None
                                                        else str(account.low_balance_threshold))
        canceled = request.query_params.get("canceled")
        return await render(request, "billing.html", principal=principal, caller=caller, account=account,
                            packs=purchases.packs(), purchases=(await purchases.page(caller, PageRequest(limit=50))).items,
                            attempt=secrets.token_urlsafe(16), form=form, canceled=bool(canceled),
                            saved=request.query_params.get("saved") == "1",
                            status_code=status_code, **context)

    @get("/")
    async def billing(self, request: Request, ws: FromPath[str]) -> Template:
        principal, caller = await page_scope(request, ws)
        return await self._page(request, principal, caller)

    @post("/checkout")
    async def buy(self, request: Request, ws: FromPath[str], data: URLEncodedBody[BuyForm]) -> Template | Redirect:
        """Off to Stripe's hosted page (a 303 to another site). No transaction here: ``start`` commits its
        steps around the call to Stripe."""
        principal, caller = await page_scope(request, ws)
        try:
            bought = await purchases.start(caller, data.pack, data.attempt or None)
        except AppError as error:
            return await self._page(request, principal, caller, error=error, status_code=error.status_code)
        return Redirect(bought.checkout_url or f"/w/{ws}/billing/purchases/{bought.id}", status_code=303)

    @post("/account")
    async def update_account(self, request: Request, ws: FromPath[str],
                             data: URLEncodedBody[AccountForm]) -> Template | Redirect:
        principal, caller = await page_scope(request, ws)

        async def again(error: AppError) -> Template:
            return await self._page(request, principal, caller, form=data, error=error, status_code=error.status_code)

        try:
            threshold = _threshold(data.low_balance_threshold)
        except AppError as error:
            return await again(error)
        return await submit(lambda: purchases.update_account(caller, data.billing_name, data.billing_address,
                                                             threshold), f"/w/{ws}/billing?saved=1", again)

    @get("/purchases/{purchase_id:uuid}")
    async def purchase(self, request: Request, ws: FromPath[str], purchase_id: FromPath[UUID]) -> Template:
        """Where Stripe sends the buyer back: what became of the payment, kept fresh until it settles."""
        principal, caller = await page_scope(request, ws)
        bought = await purchases.get(caller, purchase_id)
        return await render(request, "purchase.html", principal=principal, caller=caller, purchase=bought,
                            account=await purchases.account(caller))

    @get("/purchases/{purchase_id:uuid}/receipt.pdf")
    async def receipt(self, request: Request, ws: FromPath[str], purchase_id: FromPath[UUID]) -> Response[bytes]:
        _, caller = await page_scope(request, ws)
        pdf, filename = await receipts.receipt(caller, purchase_id)
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
