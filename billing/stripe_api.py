"""The calls agentledger makes to Stripe, through the ``stripe`` library: one client per process, pointed at
``STRIPE_API_BASE`` when set (devstripe in the demo and the tests) and at Stripe otherwise.

Every call that creates something carries an idempotency key, so a retried request (a double click, a
timeout) answers the object the first one made instead of making another. Stripe's failures come back as
``BadGateway`` with Stripe's own words, never as a 500."""

from __future__ import annotations

from typing import Any

import stripe

from agentledger.platform.config import CreditPack, get_settings
from agentledger.platform.errors import BadGateway

_client: tuple[tuple[str, str | None], stripe.StripeClient] | None = None


def configured() -> bool:
    return bool(get_settings().stripe_secret_key)


def client() -> stripe.StripeClient:
    """The client for the current settings (made again only when the key or the base changes: tests)."""
    global _client
    settings = get_settings()
    if not settings.stripe_secret_key:
        raise BadGateway("buying credits is not set up here: STRIPE_SECRET_KEY is not set")
    wanted = (settings.stripe_secret_key, settings.stripe_api_base)
    if _client is None or _client[0] != wanted:
        bases: Any = {"api": settings.stripe_api_base} if settings.stripe_api_base else None
        _client = (wanted, stripe.StripeClient(settings.stripe_secret_key, base_addresses=bases,
                                               http_client=stripe.HTTPXClient(timeout=20), max_network_retries=2))
    return _client[1]


async def _call(what: str, make: Any) -> Any:
    try:
        return await make()
    except stripe.StripeError as error:
        raise BadGateway(f"Stripe refused to {what}: {error.user_message or error}") from None


async def create_customer(workspace_id: str, name: str) -> str:
    """One Customer per workspace: the key is the workspace, so a retry finds the same one."""
    customer = await _call("create the customer", lambda: client().v1.customers.create_async(
        {"name": name, "metadata": {"workspace": workspace_id}},
        {"idempotency_key": f"agentledger-customer-{workspace_id}"}))
    return customer.id


async def create_checkout_session(*, purchase_id: str, workspace_id: str, customer: str, pack: CreditPack,
                                  currency: str, success_url: str, cancel_url: str, idempotency_key: str) -> Any:
    """A hosted Checkout Session for one pack: ours to match by its id; the workspace rides along in
    ``client_reference_id`` and metadata (on the session and on its PaymentIntent) for people reading Stripe."""
    metadata = {"workspace": workspace_id, "purchase": purchase_id, "pack": pack.id}
    return await _call("start the checkout", lambda: client().v1.checkout.sessions.create_async({
        "mode": "payment", "customer": customer, "client_reference_id": workspace_id, "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "line_items": [{"quantity": 1, "price_data": {
            "currency": currency, "unit_amount": pack.price,
            "product_data": {"name": f"{pack.credits:,} agentledger credits ({pack.id})"}}}],
        "success_url": success_url, "cancel_url": cancel_url,
    }, {"idempotency_key": idempotency_key}))


def verify(payload: bytes, signature: str | None) -> stripe.Event:
    """The event, if ``signature`` is Stripe's for ``payload`` under any of our secrets (rotation) and at
    most 300 s old; ``ValueError`` otherwise."""
    secrets = get_settings().webhook_secrets
    if not signature or not secrets:
        raise ValueError("no Stripe-Signature header" if not signature else "no webhook secret is configured")
    for secret in secrets:
        try:
            return stripe.Webhook.construct_event(payload, signature, secret, tolerance=300)
        except stripe.SignatureVerificationError:
            continue
    raise ValueError("the signature does not match (tampered body, wrong secret, or older than 300 s)")
