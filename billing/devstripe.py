"""devstripe: a small server shaped exactly like Stripe's API for what agentledger calls, for the demo and
the tests (Stripe's own mock and localstripe have no Checkout Sessions, and nothing here reaches Stripe).

What it serves, as Stripe does (form-encoded requests with bracketed keys, ``Authorization: Bearer sk_…``,
``Idempotency-Key`` replays, ``{"error": {"type", "message", "param"}}`` errors):
customers (create, retrieve), checkout sessions (create, retrieve, list by payment intent, expire),
charges (retrieve), refunds (create, full or partial), events (retrieve, list). A hosted checkout page
(``/pay/<session>``) has Pay, Decline and Pay later (async) buttons. Every event is sent to the webhook URL,
signed with Stripe's real scheme (``t=…,v1=HMAC-SHA256(secret, "t.payload")``), retried with backoff,
and kept under ``/_dev/deliveries`` so tests can replay any delivery in any order. ``/_dev/…`` also
opens and closes disputes, which Stripe only makes through test cards.

State is in memory: a restart forgets it (the demo's purchases keep their own record in our database).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import itertools
import json
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

import httpx
from litestar import Litestar, Request, Response, get, post
from litestar.response import Redirect

Obj = dict[str, Any]


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``payload`` (Stripe's scheme, v1)."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def parse_form(body: bytes) -> Obj:
    """Stripe's encoding: ``metadata[a]=1&line_items[0][quantity]=2`` -> nested dicts, numbered keys as lists."""
    root: Obj = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        path = [key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", key)]
        node = root
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value

    def lists(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        items = {k: lists(v) for k, v in value.items()}
        if items and all(k.isdigit() for k in items):
            return [items[k] for k in sorted(items, key=int)]
        return items

    return lists(root)


class StripeError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.body = status, {"error": {"type": kind, "message": message, "param": param}}


def _int(params: Obj, name: str) -> int:
    value = params.get(name)
    if value is None or not str(value).isdigit():
        raise StripeError(400, f"Invalid integer: {value}", name)
    return int(value)


class DevStripe:
    """The objects and what happens to them; the routes below are its HTTP face."""

    def __init__(self, public_url: str, webhook_url: str | None, webhook_secret: str, async_delay: float | None = 5):
        self.public_url, self.webhook_url, self.webhook_secret = public_url.rstrip("/"), webhook_url, webhook_secret
        self.async_delay = async_delay  # "Pay later" settles by itself after this many seconds (None: only on request)
        self.objects: dict[str, Obj] = {}
        self.events: list[Obj] = []
        self.deliveries: list[Obj] = []
        self.idempotent: dict[tuple[str, str], tuple[int, Obj]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._serial = itertools.count(1)

    def _id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._serial):06d}{secrets.token_hex(8)}"

    def get(self, object_id: str, kind: str) -> Obj:
        found = self.objects.get(object_id)
        if found is None or found["object"] != kind:
            raise StripeError(404, f"No such {kind.split('.')[-1]}: '{object_id}'", "id")
        return found

    def _store(self, obj: Obj) -> Obj:
        self.objects[obj["id"]] = obj
        return obj

    # -- the API ---------------------------------------------------------------------------------------
    def create_customer(self, params: Obj) -> Obj:
        return self._store({"id": self._id("cus"), "object": "customer", "created": int(time.time()),
                            "email": params.get("email"), "name": params.get("name"),
                            "metadata": params.get("metadata") or {}, "livemode": False})

    def create_session(self, params: Obj) -> Obj:
        if params.get("mode") != "payment":
            raise StripeError(400, "Only mode=payment is supported here", "mode")
        for name in ("success_url", "cancel_url"):
            if not params.get(name):
                raise StripeError(400, f"Missing required param: {name}.", name)
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            raise StripeError(400, "Missing required param: line_items.", "line_items")
        total, currency = 0, None
        for index, item in enumerate(items):
            price = item.get("price_data") or {}
            currency = price.get("currency")
            if not currency:
                raise StripeError(400, "Missing required param: currency.", f"line_items[{index}][price_data][currency]")
            total += _int(price, "unit_amount") * _int(item, "quantity")
        if params.get("customer"):
            self.get(params["customer"], "customer")
        session_id = self._id("cs")
        return self._store({
            "id": session_id, "object": "checkout.session", "mode": "payment", "status": "open",
            "payment_status": "unpaid", "amount_total": total, "amount_subtotal": total, "currency": currency,
            "customer": params.get("customer"), "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {}, "payment_intent": None,
            "payment_intent_data": params.get("payment_intent_data") or {},
            "success_url": params["success_url"], "cancel_url": params["cancel_url"],
            "url": f"{self.public_url}/pay/{session_id}", "created": int(time.time()),
            "expires_at": int(time.time()) + 24 * 3600, "livemode": False})

    def expire(self, session: Obj) -> Obj:
        if session["status"] != "open":
            raise StripeError(400, f"Only open sessions can be expired; this one is {session['status']}.")
        session["status"] = "expired"
        self.emit("checkout.session.expired", session)
        return session

    def refund(self, params: Obj) -> Obj:
        charge = self.get(params.get("charge") or "", "charge") if params.get("charge") else self._charge_of(params)
        left = charge["amount"] - charge["amount_refunded"]
        amount = _int(params, "amount") if "amount" in params else left
        if amount < 1 or amount > left:
            raise StripeError(400, f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                              "amount")
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = self._store({"id": self._id("re"), "object": "refund", "amount": amount, "charge": charge["id"],
                              "payment_intent": charge["payment_intent"], "currency": charge["currency"],
                              "status": "succeeded", "created": int(time.time())})
        self.emit("charge.refunded", charge)
        return refund

    def _charge_of(self, params: Obj) -> Obj:
        intent = self.get(params.get("payment_intent") or "", "payment_intent")
        return self.get(intent["latest_charge"], "charge")

    # -- what the hosted page and the dev routes do -------------------------------------------------------
    def pay(self, session: Obj, *, later: bool) -> None:
        """The customer paid (or chose a payment that settles later): the session completes."""
        if session["status"] != "open":
            raise StripeError(400, f"This checkout session is {session['status']}.")
        intent = self._store({"id": self._id("pi"), "object": "payment_intent", "amount": session["amount_total"],
                              "currency": session["currency"], "customer": session["customer"],
                              "metadata": session["payment_intent_data"].get("metadata") or {},
                              "status": "processing" if later else "succeeded", "latest_charge": None})
        session.update(status="complete", payment_intent=intent["id"], payment_status="unpaid" if later else "paid")
        if not later:
            self._charge(intent)
        self.emit("checkout.session.completed", session)
        if later and self.async_delay is not None:
            self._spawn(self._settle_later(session))

    async def _settle_later(self, session: Obj) -> None:
        await asyncio.sleep(self.async_delay or 0)
        if session["payment_status"] == "unpaid":
            self.settle(session, succeeded=True)

    def settle(self, session: Obj, *, succeeded: bool) -> None:
        """A payment that settles later did (or did not)."""
        if session["status"] != "complete" or session["payment_status"] != "unpaid":
            raise StripeError(400, "Only a completed session still awaiting its payment can settle.")
        intent = self.get(session["payment_intent"], "payment_intent")
        intent["status"] = "succeeded" if succeeded else "requires_payment_method"
        if succeeded:
            self._charge(intent)
            session["payment_status"] = "paid"
        self.emit("checkout.session.async_payment_" + ("succeeded" if succeeded else "failed"), session)

    def _charge(self, intent: Obj) -> Obj:
        charge = self._store({"id": self._id("ch"), "object": "charge", "amount": intent["amount"],
                              "amount_captured": intent["amount"], "amount_refunded": 0,
                              "currency": intent["currency"], "customer": intent["customer"],
                              "payment_intent": intent["id"], "metadata": intent["metadata"], "paid": True,
                              "refunded": False, "disputed": False, "status": "succeeded",
                              "receipt_url": "", "created": int(time.time()), "livemode": False})
        charge["receipt_url"] = f"{self.public_url}/receipts/{charge['id']}"
        intent["latest_charge"] = charge["id"]
        self.emit("charge.succeeded", charge)
        return charge

    def dispute(self, charge: Obj, amount: int | None) -> Obj:
        charge["disputed"] = True
        dispute = self._store({"id": self._id("dp"), "object": "dispute", "charge": charge["id"],
                               "payment_intent": charge["payment_intent"], "currency": charge["currency"],
                               "amount": charge["amount"] if amount is None else amount, "status": "needs_response",
                               "reason": "fraudulent", "created": int(time.time()), "livemode": False})
        self.emit("charge.dispute.created", dispute)
        return dispute

    def close_dispute(self, dispute: Obj, won: bool) -> Obj:
        dispute["status"] = "won" if won else "lost"
        self.emit("charge.dispute.closed", dispute)
        return dispute

    # -- events and their delivery --------------------------------------------------------------------
    def emit(self, kind: str, obj: Obj) -> Obj:
        event = self._store({"id": self._id("evt"), "object": "event", "api_version": "2025-09-30.clover",
                             "created": int(time.time()), "type": kind, "livemode": False, "pending_webhooks": 1,
                             "data": {"object": json.loads(json.dumps(obj))}, "request": {"id": None}})
        self.events.append(event)
        payload = json.dumps(event).encode()
        delivery = {"event": event["id"], "type": kind, "payload": payload.decode(),
                    "signature": sign(payload, self.webhook_secret), "status": None, "attempts": 0}
        self.deliveries.append(delivery)
        if self.webhook_url:
            self._spawn(self._deliver(delivery, payload))
        return event

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: Obj, payload: bytes, attempts: int = 6) -> None:
        """POST the event, signed afresh per attempt (as Stripe does), until a 2xx; back off 0.5 s, 1 s, 2 s…"""
        async with httpx.AsyncClient(timeout=10) as client:
            for attempt in range(attempts):
                delivery["attempts"] = attempt + 1
                try:
                    answer = await client.post(self.webhook_url or "", content=payload, headers={
                        "Content-Type": "application/json", "Stripe-Signature": sign(payload, self.webhook_secret)})
                    delivery["status"] = answer.status_code
                    if answer.is_success:
                        return
                except httpx.HTTPError as error:
                    delivery["status"] = f"error: {type(error).__name__}"
                await asyncio.sleep(0.5 * 2**attempt)


def create_app(stripe: DevStripe) -> Litestar:
    """The HTTP face: Stripe's paths and shapes, the hosted checkout page, and the ``/_dev`` helpers."""

    def answer(status: int, body: Obj) -> Response[Obj]:
        return Response(body, status_code=status, headers={"Request-Id": f"req_{secrets.token_hex(7)}"})

    async def api(request: Request, work: Any) -> Response[Obj]:
        if not request.headers.get("authorization", "").startswith("Bearer sk_"):
            return answer(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})
        key = request.headers.get("idempotency-key")
        replay = stripe.idempotent.get((request.url.path, key)) if key else None
        if replay:
            return answer(*replay)
        try:
            status, body = 200, work(parse_form(await request.body()))
        except StripeError as error:
            status, body = error.status, error.body
        if key:
            stripe.idempotent[(request.url.path, key)] = (status, body)
        return answer(status, body)

    def listing(items: list[Obj], path: str) -> Obj:
        return {"object": "list", "data": items, "has_more": False, "url": path}

    @post("/v1/customers", status_code=200)
    async def customers(request: Request) -> Response[Obj]:
        return await api(request, stripe.create_customer)

    @get("/v1/customers/{object_id:str}")
    async def customer(request: Request, object_id: str) -> Response[Obj]:
        return await api(request, lambda _: stripe.get(object_id, "customer"))

    @post("/v1/checkout/sessions", status_code=200)
    async def sessions(request: Request) -> Response[Obj]:
        return await api(request, stripe.create_session)

    @get("/v1/checkout/sessions")
    async def session_list(request: Request) -> Response[Obj]:
        intent = request.query_params.get("payment_intent")
        found = [o for o in stripe.objects.values() if o["object"] == "checkout.session"
                 and (intent is None or o["payment_intent"] == intent)]
        return await api(request, lambda _: listing(found, "/v1/checkout/sessions"))

    @get("/v1/checkout/sessions/{object_id:str}")
    async def session(request: Request, object_id: str) -> Response[Obj]:
        return await api(request, lambda _: stripe.get(object_id, "checkout.session"))

    @post("/v1/checkout/sessions/{object_id:str}/expire", status_code=200)
    async def expire(request: Request, object_id: str) -> Response[Obj]:
        return await api(request, lambda _: stripe.expire(stripe.get(object_id, "checkout.session")))

    @get("/v1/charges/{object_id:str}")
    async def charge(request: Request, object_id: str) -> Response[Obj]:
        return await api(request, lambda _: stripe.get(object_id, "charge"))

    @post("/v1/refunds", status_code=200)
    async def refunds(request: Request) -> Response[Obj]:
        return await api(request, stripe.refund)

    @get("/v1/events/{object_id:str}")
    async def event(request: Request, object_id: str) -> Response[Obj]:
        return await api(request, lambda _: stripe.get(object_id, "event"))

    @get("/v1/events")
    async def events(request: Request) -> Response[Obj]:
        return await api(request, lambda _: listing(list(reversed(stripe.events)), "/v1/events"))

    @get("/pay/{object_id:str}", media_type="text/html")
    async def hosted(object_id: str) -> Response[str]:
        try:
            return Response(_page(stripe.get(object_id, "checkout.session")), media_type="text/html")
        except StripeError as error:
            return Response(html.escape(error.body["error"]["message"]), status_code=404, media_type="text/html")

    @post("/pay/{object_id:str}", status_code=303)
    async def hosted_action(request: Request, object_id: str) -> Response[str] | Redirect:
        form = parse_form(await request.body())
        try:
            session = stripe.get(object_id, "checkout.session")
            if form.get("action") == "decline":
                return Response(_page(session, "Your card was declined. Try another card."), media_type="text/html",
                                status_code=402)
            stripe.pay(session, later=form.get("action") == "later")
        except StripeError as error:
            return Response(html.escape(error.body["error"]["message"]), status_code=400, media_type="text/html")
        return Redirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"]), status_code=303)

    @post("/_dev/sessions/{object_id:str}/settle", status_code=200)
    async def dev_settle(request: Request, object_id: str) -> Response[Obj]:
        form = parse_form(await request.body())
        return await _dev(lambda: stripe.settle(stripe.get(object_id, "checkout.session"),
                                                succeeded=form.get("result", "succeeded") == "succeeded"))

    @post("/_dev/charges/{object_id:str}/dispute", status_code=200)
    async def dev_dispute(request: Request, object_id: str) -> Response[Obj]:
        form = parse_form(await request.body())
        amount = int(form["amount"]) if str(form.get("amount", "")).isdigit() else None
        return await _dev(lambda: stripe.dispute(stripe.get(object_id, "charge"), amount))

    @post("/_dev/disputes/{object_id:str}/close", status_code=200)
    async def dev_close(request: Request, object_id: str) -> Response[Obj]:
        form = parse_form(await request.body())
        return await _dev(lambda: stripe.close_dispute(stripe.get(object_id, "dispute"), form.get("status") == "won"))

    @get("/_dev/deliveries")
    async def dev_deliveries() -> list[Obj]:
        return stripe.deliveries

    async def _dev(work: Any) -> Response[Obj]:
        try:
            return answer(200, work() or {})
        except StripeError as error:
            return answer(error.status, error.body)

    return Litestar([customers, customer, sessions, session_list, session, expire, charge, refunds, event, events,
                     hosted, hosted_action, dev_settle, dev_dispute, dev_close, dev_deliveries], logging_config=None)


def _page(session: Obj, notice: str = "") -> str:
    """The hosted checkout page: what is being bought and the three buttons."""
    amount = f"{session['amount_total'] / 100:,.2f} {session['currency'].upper()}"
    state = session["status"]
    buttons = ("".join(f'<button name="action" value="{v}">{label}</button>' for v, label in
                       (("pay", "Pay"), ("decline", "Decline"), ("later", "Pay later (async)")))
               if state == "open" else f"<p>This checkout is {html.escape(state)}.</p>")
    return (f"<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
            f"<link rel=icon href='data:,'><title>devstripe checkout</title><body style='font-family:sans-serif;max-width:28rem;margin:3rem auto'>"
            f"<p><small>devstripe · test mode</small></p><h1>Pay {html.escape(amount)}</h1>"
            f"<p role=alert>{html.escape(notice)}</p><form method=post>{buttons}</form>"
            f"<p><a href='{html.escape(session['cancel_url'])}'>Back</a></p></body></html>")
