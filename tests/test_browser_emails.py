"""Every kind of email, as chromium renders its HTML part at 600 px (a desktop client's reading pane)
and 375 px (a phone): nothing runs off the side, the main link is there, and the footer says why the
reader got it with an unsubscribe link. The screenshots are kept under .data/screenshots/ to look at."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from agentledger.notifications import emails, outbox
from agentledger.notifications.preferences import CATEGORIES
from agentledger.platform.scoping import Scope
from tests.support.browser import chromium

SHOTS = Path(__file__).resolve().parents[1] / ".data" / "screenshots" / "emails"


@pytest.mark.pure
async def test_every_email_fits_600_and_375_px_with_its_footer(override_settings):
    override_settings(BASE_URL="https://ledger.example.com")
    SHOTS.mkdir(parents=True, exist_ok=True)
    scope = Scope(uuid4(), "acme", "Acme", uuid4(), "admin")
    samples = emails._samples(scope)
    async with chromium() as browser:
        for name in CATEGORIES:
            mail = outbox.render(name, samples[name], "dana@example.com")
            for width in (600, 375):
                page = await browser.new_page(viewport={"width": width, "height": 800})
                await page.set_content(mail.html)
                await page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)
                assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (name, width)
                footer = await page.locator("td.footer").inner_text()
                assert "You get this email because" in footer and "Unsubscribe" in footer, name
                assert await page.locator("a[href^='https://ledger.example.com/']").count() >= 2, name
                await page.close()
