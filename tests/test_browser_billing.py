"""Buying credits in Debian chromium, end to end: the admin opens Billing, presses Buy, pays on devstripe's
hosted page (a real server that signs and sends the webhook to the real web process), comes back to
"payment processing" and watches the credits arrive without a reload. A member is refused the page.
Screenshots at 1280 and 390 px go to .data/screenshots."""

from __future__ import annotations

import re
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from agentledger.agents import runner
from agentledger.platform.embedded import free_port, wait_for_port
from tests.support.browser import chromium, sign_in_with, watched_page
from tests.support.processes import cli, running
from tests.support.stripe import devstripe

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[1] / ".data" / "screenshots"


@pytest.fixture
def shop_and_web():
    """devstripe sending its events to a real web process, and that web process buying from it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with devstripe(webhook_url=f"{base}/webhooks/stripe") as shop, \
            running(cli("web", "--port", str(port)), {"BASE_URL": base, **shop.settings}):
        wait_for_port(port, timeout=30)
        yield shop, base


async def test_an_admin_buys_a_pack_and_watches_the_balance_rise(shop_and_web, factory):
    SHOTS.mkdir(parents=True, exist_ok=True)
    shop, base = shop_and_web
    team = await factory.team()
    await factory.credits("acme", 250)
    for scope in (3, 4):  # something to audit: two runs of the member's, settled in the test's own process
        started = httpx.post(f"{base}/api/v1/workspaces/acme/executions", headers=team.member.bearer,
                             json={"agent": "noop", "inputs": {}, "scope": scope})
        assert started.status_code == 202, started.text
        await runner.run_execution(UUID(started.json()["id"]))
    async with chromium() as browser:
        page, problems = await watched_page(browser)
        await sign_in_with(page, base, team.admin)
        await page.wait_for_url(re.compile(r"/w/acme/executions"))
        await page.get_by_role("link", name="Billing").click()
        await page.wait_for_url(f"{base}/w/acme/billing")
        assert "243 credits" in await page.locator("[data-available]").inner_text()
        await page.screenshot(path=SHOTS / "billing.png", full_page=True)
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.screenshot(path=SHOTS / "billing-mobile.png", full_page=True)
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        await page.set_viewport_size({"width": 1280, "height": 900})

        await page.get_by_role("button", name="Buy Team").click()
        await page.wait_for_url(re.compile(re.escape(shop.url) + r"/pay/cs_test_"))
        session_id = page.url.rsplit("/", 1)[1]
        await page.get_by_role("button", name="Pay later (async)").click()  # the payment settles after we are back
        await page.wait_for_url(re.compile(r"/w/acme/billing/purchases/"))
        await page.get_by_text("Payment processing").wait_for()
        assert "243 credits" in await page.locator("[data-available]").inner_text()
        await page.screenshot(path=SHOTS / "billing-purchase-processing.png", full_page=True)
        await page.evaluate("window.stillTheSamePage = true")
        shop.dev(f"sessions/{session_id}/settle", result="succeeded")  # the bank says yes; Stripe sends the webhook
        await page.get_by_text("5,000 credits added").wait_for(timeout=20_000)
        assert "5,243 credits" in await page.locator("[data-available]").inner_text()
        assert await page.evaluate("window.stillTheSamePage === true")  # it turned live, with no reload
        await page.screenshot(path=SHOTS / "billing-purchase-added.png", full_page=True)
        await page.get_by_role("link", name="Back to billing").click()
        row = page.locator("tbody tr").first
        assert "paid" in await row.inner_text() and "5,000" in await row.inner_text()
        assert problems == []

        # the Credits page shows what the API sums, at both widths
        api = httpx.get(f"{base}/api/v1/workspaces/acme/credits/usage", params={"group_by": "agent"},
                        headers=team.admin.bearer).json()
        await page.get_by_role("link", name="Credits").click()
        await page.wait_for_url(f"{base}/w/acme/credits")
        charged = await page.locator(".figures .tile").nth(0).locator(".n").inner_text()
        assert int(charged.replace(",", "")) == api["total"]["credits_charged"]
        assert await page.locator("[data-books=balanced]").count() == 1
        await page.wait_for_load_state("load")  # the charts are images: drawn once they arrived
        for image in await page.locator("img.chart").all():
            assert await image.evaluate("i => i.complete && i.naturalWidth > 0"), await image.get_attribute("src")
        await page.screenshot(path=SHOTS / "credits.png", full_page=True)
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.reload()
        await page.screenshot(path=SHOTS / "credits-mobile.png", full_page=True)
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert problems == []

        member, _ = await watched_page(browser)
        await sign_in_with(member, base, team.member)
        await member.wait_for_url(re.compile(r"/w/acme/executions"))
        assert await member.get_by_role("link", name="Billing").count() == 0
        refused = await member.goto(f"{base}/w/acme/billing")
        assert refused.status == 403
