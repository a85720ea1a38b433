"""devstripe (billing/devstripe.py) as the tests use it: a real server process on 127.0.0.1, the real
``stripe`` library pointed at it, and its signed deliveries replayed to our webhook in any order."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import stripe

from agentledger.billing.devstripe import sign
from agentledger.platform.embedded import free_port, wait_for_port
from tests.support.processes import cli, running

SECRET_KEY = "sk_test_agentledger"


@dataclass
class DevStripe:
    url: str
    webhook_secret: str

    @property
    def settings(self) -> dict[str, str]:
        return {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_API_BASE": self.url,
                "STRIPE_WEBHOOK_SECRET": self.webhook_secret}

    @property
    def client(self) -> stripe.StripeClient:
        return stripe.StripeClient(SECRET_KEY, base_addresses={"api": self.url})

    def hosted(self, session_id: str, action: str) -> httpx.Response:
        """Press a button on the hosted checkout page: pay, decline or later."""
        return httpx.post(f"{self.url}/pay/{session_id}", data={"action": action})

    def dev(self, path: str, **form: Any) -> dict[str, Any]:
        answer = httpx.post(f"{self.url}/_dev/{path}", data=form)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def deliveries(self, **match: str) -> list[dict[str, Any]]:
        """Every event it signed, oldest first; ``type=…`` keeps those of a type."""
        found = httpx.get(f"{self.url}/_dev/deliveries").json()
        return [d for d in found if all(d[k] == v for k, v in match.items())]

    def session_deliveries(self, session_id: str) -> list[dict[str, Any]]:
        """The deliveries about one checkout: its session's events and those of its payment."""
        intent = self.client.v1.checkout.sessions.retrieve(session_id).payment_intent
        return [d for d in self.deliveries() if session_id in d["payload"] or (intent and intent in d["payload"])]


@contextmanager
def devstripe(webhook_url: str | None = None, async_delay: float | None = None) -> Iterator[DevStripe]:
    port, secret = free_port(), f"whsec_{secrets.token_hex(16)}"
    args = ["--port", str(port), "--webhook-secret", secret, "--async-delay", str(async_delay or 3600)]
    with running(cli("devstripe", *args, *(["--webhook-url", webhook_url] if webhook_url else []))):
        wait_for_port(port, timeout=30)
        yield DevStripe(f"http://127.0.0.1:{port}", secret)


async def deliver(client, delivery: dict[str, Any], signature: str | None = None) -> httpx.Response:
    """Post one of devstripe's deliveries to our webhook exactly as it was signed (or with ``signature``)."""
    return await client.post("/webhooks/stripe", content=delivery["payload"].encode(), headers={
        "Content-Type": "application/json", "Stripe-Signature": signature or delivery["signature"]})


def signed(payload: str, secret: str, timestamp: int | None = None) -> str:
    return sign(payload.encode(), secret, timestamp)


@pytest.fixture(scope="module")
def stripe_server() -> Iterator[DevStripe]:
    """One devstripe per test module that asks for it."""
    with devstripe() as server:
        yield server


@pytest.fixture
def shop(stripe_server: DevStripe, override_settings) -> DevStripe:
    """devstripe as this test's Stripe, selling two packs (ask for it before ``client``: the app reads the
    settings when it is made)."""
    override_settings(**stripe_server.settings, CREDIT_PACKS="starter:1000:1900,team:5000:8500")
    return stripe_server
